/**
 * Maintenance mode switched on in a stack file (R-ops-maintenance-mode): what the plan adds, what it
 * leaves alone, and that the policy pack still passes.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadConfig } from "../../stacks/config";
import { buildPlatform, stackOutputs } from "../../stacks/platform";
import { buildPlan, REPO_ROOT, type Plan } from "../../tools/plan/plan";
import { planStack } from "../helpers/stack";
import { checkPlan, stackConfigFile } from "../../tools/policy/cli";
import { ofType, one } from "../helpers/mocks";
import { maintenancePage } from "../../lib/maintenance";

const RULE = "aws:lb/listenerRule:ListenerRule";
const ALLOW = ["203.0.113.0/24", "198.51.100.7/32"];

let dir: string;
let base: Plan;
let on: Plan;
let onWithAllow: Plan;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "opsbook-maintenance-"));
  fs.copyFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  const production = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.production.yaml"), "utf8").trimEnd();
  fs.writeFileSync(path.join(dir, "Pulumi.on.yaml"), `${production}\n  opsbook:maintenance:\n    enabled: true\n`);
  fs.writeFileSync(
    path.join(dir, "Pulumi.allow.yaml"),
    `${production}\n  opsbook:maintenance:\n    enabled: true\n    allow: ${JSON.stringify(ALLOW)}\n    retryAfterSeconds: 1800\n`,
  );
  // What index.ts does, as a function: a required module would run only once.
  const load = () => stackOutputs(buildPlatform(loadConfig()));
  base = await planStack("production"); // the stack file as shipped: its cached plan
  on = await buildPlan("on", { root: dir, load });
  onWithAllow = await buildPlan("allow", { root: dir, load });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Every resource but the maintenance rules, by name and type, with its inputs. */
const others = (plan: Plan) =>
  plan.resources
    .filter((r) => r.type !== "opsbook:service:MaintenanceMode" && !r.name.includes("-maintenance"))
    .map((r) => [r.type, r.name, r.inputs]);

describe("maintenance mode in production (R-ops-maintenance-mode)", () => {
  test("off (the stack files as shipped), nothing of it is declared", () => {
    expect(ofType(base.resources, RULE).map((r) => r.name)).toEqual(["api", "web"]);
    expect(ofType(base.resources, "opsbook:service:MaintenanceMode")).toEqual([]);
  });

  test("on, one 503 rule at priority 99 is ahead of every service rule; services and everything else stay", () => {
    const rules = ofType(on.resources, RULE);
    expect(rules.map((r) => [r.name, r.inputs.priority])).toEqual([
      ["api", 100],
      ["production-maintenance", 99],
      ["web", 50000],
    ]);
    const page = one(on.resources, RULE, "production-maintenance");
    expect(page.inputs.listenerArn).toBe(one(on.resources, RULE, "api").inputs.listenerArn);
    expect(page.inputs.actions).toEqual([
      {
        type: "fixed-response",
        fixedResponse: {
          statusCode: "503",
          contentType: "text/html",
          messageBody: maintenancePage("We are carrying out planned maintenance and will be back shortly.", 600),
        },
      },
    ]);
    expect(others(on)).toEqual(others(base));
  });

  test("with allowed CIDRs, forward rules per service at 1 and 2 reach the api by its path and the web by default", () => {
    const rules = ofType(onWithAllow.resources, RULE);
    const priorities = rules.map((r) => r.inputs.priority as number);
    expect(new Set(priorities).size).toBe(priorities.length);
    expect(rules.map((r) => [r.name, r.inputs.priority])).toEqual([
      ["api", 100],
      ["production-maintenance", 99],
      ["production-maintenance-allow-1", 1],
      ["production-maintenance-allow-2", 2],
      ["web", 50000],
    ]);
    const [apiRule, webRule] = ["api", "web"].map((n) => one(onWithAllow.resources, RULE, n));
    expect(one(onWithAllow.resources, RULE, "production-maintenance-allow-1").inputs).toMatchObject({
      actions: apiRule!.inputs.actions,
      conditions: [{ sourceIp: { values: ALLOW } }, ...(apiRule!.inputs.conditions as unknown[])],
    });
    expect(one(onWithAllow.resources, RULE, "production-maintenance-allow-2").inputs).toMatchObject({
      actions: webRule!.inputs.actions,
      conditions: [{ sourceIp: { values: ALLOW } }],
    });
    expect(
      (one(onWithAllow.resources, RULE, "production-maintenance").inputs.actions as Array<Record<string, unknown>>)[0],
    ).toMatchObject({ fixedResponse: { messageBody: expect.stringContaining('content="1800"') as unknown } });
    expect(others(onWithAllow)).toEqual(others(base));
  });

  test("the policy pack passes production with maintenance on", async () => {
    for (const plan of [on, onWithAllow]) {
      const report = await checkPlan(plan, { configFile: stackConfigFile("production") });
      expect(report.diagnostics).toEqual([]);
      expect(report.exitCode).toBe(0);
    }
  });
});
