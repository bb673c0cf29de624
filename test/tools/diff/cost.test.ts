import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PRICES } from "../../../tools/cost/table";
import { costOfChanges, costOfPlans, stackRegion } from "../../../tools/diff/cost";
import type { DiffReport } from "../../../tools/diff/model";
import { render } from "../../../tools/diff/render";
import { exitCodeOf } from "../../../tools/diff/report";
import { UNKNOWN } from "../../../tools/diff/values";
import { diff, plan, RDS, resource } from "./builders";

const REPO_ROOT_FOR_TESTS = path.resolve(__dirname, "..", "..", "..");

const HOURS = PRICES.hoursPerMonth;
const usd = (key: string): number => PRICES.rates[key]!.usd;

const db = (instanceClass: string) =>
  resource(RDS, "db", {
    engine: "postgres",
    instanceClass,
    multiAz: true,
    allocatedStorage: 100,
    storageType: "gp3",
  });
const nat = resource("aws:ec2/natGateway:NatGateway", "nat-a", { subnetId: "subnet-a" });

function withPlanCost(base: ReturnType<typeof db>[], head: ReturnType<typeof db>[]): DiffReport {
  const report = diff(base, head);
  return { ...report, cost: costOfPlans(plan(...base), plan(...head), report, "eu-west-1") };
}

describe("the monthly cost change of a diff", () => {
  test("a changed instance class: both copies' hours at the new rate minus the old", () => {
    const report = withPlanCost([db("db.r6g.large"), nat], [db("db.r6g.xlarge"), nat]);
    const expected = (usd("rds.postgres.db.r6g.xlarge") - usd("rds.postgres.db.r6g.large")) * HOURS * 2;
    const cost = report.cost!;
    expect(cost.delta).toBeCloseTo(expected, 6);
    expect(cost.after! - cost.before!).toBeCloseTo(expected, 6);
    expect(cost.before).toBeCloseTo(
      usd("rds.postgres.db.r6g.large") * HOURS * 2 + usd("rds.storage.gp3") * 200 + usd("ec2.natGateway") * HOURS,
      6,
    );
    expect(cost.resources.map((r) => [r.op, r.name])).toEqual([["update", "db"]]);
    expect(cost.resources[0]!.delta).toBeCloseTo(expected, 6);
  });

  test("a created resource adds its cost and a deleted one takes it away", () => {
    const added = withPlanCost([db("db.r6g.large")], [db("db.r6g.large"), nat]).cost!;
    expect(added.delta).toBeCloseTo(usd("ec2.natGateway") * HOURS, 6);
    expect(added.resources.map((r) => [r.op, r.before, r.name])).toEqual([["create", 0, "nat-a"]]);
    const removed = withPlanCost([db("db.r6g.large"), nat], [db("db.r6g.large")]).cost!;
    expect(removed.delta).toBeCloseTo(-usd("ec2.natGateway") * HOURS, 6);
  });

  test("a preview: a side that cannot be priced gives no difference, and the total leaves it out", () => {
    const task = resource("aws:ecs/taskDefinition:TaskDefinition", "api", { cpu: "1024", memory: "2048" });
    const service = (taskDefinition: string, desiredCount: number) =>
      resource("aws:ecs/service:Service", "api", { launchType: "FARGATE", desiredCount, taskDefinition });
    const report = diff(
      [task, service("arn:aws:ecs:eu-west-1:1:task-definition/api:1", 2), db("db.r6g.large")],
      [task, service(UNKNOWN, 3), db("db.r6g.xlarge")],
    );
    const cost = costOfChanges({ ...report, source: "preview" }, "eu-west-1");
    const dbDelta = (usd("rds.postgres.db.r6g.xlarge") - usd("rds.postgres.db.r6g.large")) * HOURS * 2;
    expect(cost.before).toBeUndefined();
    expect(cost.delta).toBeCloseTo(dbDelta, 6);
    expect(cost.resources.map((r) => [r.name, r.delta === null])).toEqual([
      ["api", true],
      ["db", false],
    ]);
  });

  test("text, Markdown and JSON carry it; the exit code stays the risks' own", () => {
    const report = withPlanCost([db("db.r6g.large")], [db("db.r6g.xlarge")]);
    const delta = (usd("rds.postgres.db.r6g.xlarge") - usd("rds.postgres.db.r6g.large")) * HOURS * 2;
    const money = (n: number) =>
      `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
    const line = `${money(report.cost!.before!)} → ${money(report.cost!.after!)} (+${money(delta)} a month; on-demand estimate in eu-west-1, price table of ${PRICES.compiled}, usage-based charges left out)`;
    expect(render(report, "text")).toContain(`\nMonthly cost: ${line}\n`);
    expect(render(report, "markdown")).toContain(`\n**Monthly cost**: ${line}\n`);
    expect(render(report, "markdown")).toMatch(/^\| \+\$[\d.,]+ \| `~` `aws:rds\/instance:Instance` \*\*db\*\* \| /m);
    const json = JSON.parse(render(report, "json")) as { cost: { delta: number; resources: Array<{ delta: number }> } };
    expect(json.cost.delta).toBe(Math.round(delta * 100) / 100);
    expect(exitCodeOf(report)).toBe(0);
  });

  test("the region comes from the stack file here; without one the cost is skipped, not guessed", () => {
    expect(stackRegion(REPO_ROOT_FOR_TESTS, "production")).toEqual({ region: "eu-west-1" });
    expect(stackRegion(REPO_ROOT_FOR_TESTS, "nowhere")).toEqual({ skipped: "Pulumi.nowhere.yaml is not here" });
    expect(stackRegion(REPO_ROOT_FOR_TESTS, "local")).toEqual({ skipped: "Pulumi.local.yaml sets no aws:region" });
    // A file that cannot be read says why, instead of passing for a missing one.
    const broken = fs.mkdtempSync(path.join(os.tmpdir(), "opsbook-region-"));
    fs.writeFileSync(path.join(broken, "Pulumi.bad.yaml"), "config: [unclosed\n");
    const bad = stackRegion(broken, "bad");
    fs.rmSync(broken, { recursive: true, force: true });
    expect(bad).toEqual({ skipped: expect.stringMatching(/^Pulumi\.bad\.yaml cannot be read: /) as unknown });
    const report: DiffReport = { ...diff([], []), costSkipped: 'no aws:region for stack "x"' };
    expect(render(report, "text")).toContain('\nMonthly cost: not estimated: no aws:region for stack "x"');
  });
});
