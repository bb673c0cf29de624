import { spawnSync } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import { PRICES } from "../../../tools/cost/table";

const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");

/** One spawned `npm run cost` (a plan each: keep them few), from `cwd` (the repository by default). */
function runCost(args: string[], cwd = REPO_ROOT) {
  return spawnSync(
    process.execPath,
    ["-r", path.join(REPO_ROOT, "tools", "register.js"), path.join(REPO_ROOT, "tools", "cost.ts"), ...args],
    { cwd, encoding: "utf8", timeout: 60_000 },
  );
}

interface CostJson {
  stack: string;
  region: string;
  monthly: number;
  parts: Array<{ part: string; monthly: number }>;
  resources: Array<{ type: string; name: string; monthly: number; items: Array<{ rate: string; quantity: number }> }>;
  unpriced: Array<{ type: string; name: string; reasons: string[] }>;
}

describe("npm run cost", () => {
  test("prices the production plan built in process, from any directory: parts add up, the database is both copies' hours", () => {
    // Run from elsewhere: the plan and its region both come from this repository's stack file.
    const run = runCost(["--stack", "production", "--json"], os.tmpdir());
    expect([run.status, run.stderr]).toEqual([0, ""]);
    const out = JSON.parse(run.stdout) as CostJson;
    expect([out.stack, out.region]).toEqual(["production", "eu-west-1"]);
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    expect(sum(out.parts.map((p) => p.monthly))).toBeCloseTo(out.monthly, 1);
    expect(sum(out.resources.map((r) => r.monthly))).toBeCloseTo(out.monthly, 1);
    const db = out.resources.find((r) => r.type === "aws:rds/instance:Instance")!;
    expect(db.items.find((i) => i.rate === "rds.postgres.db.r6g.large")?.quantity).toBe(2 * PRICES.hoursPerMonth);
    expect(out.unpriced).toEqual([]);
  });

  test("the Kubernetes stack lists its workloads as not priced (they run on the cluster's nodes); stand-ins name their region", () => {
    const run = runCost(["--stack", "staging-k8s"]);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^Not priced \(left out of the total\):$/m);
    expect(run.stdout).toContain("kubernetes:apps/v1:Deployment  api: its pods run on the cluster's nodes");
    // A stand-in rate names the region its figure is for, on its line and in the summary.
    expect(run.stdout).toMatch(/NAT gateway: 730 hours × \$0\.045 \(us-east-2 figure\) = \$32\.85/);
    expect(run.stdout).toMatch(/ are figures for another region \(us-east-1, us-east-2\) standing in for eu-west-1,/);
  });

  test("a bad flag or stack fails with the usage or the stacks there are", () => {
    const flag = runCost(["--stack", "staging", "--table"]);
    expect([flag.status, flag.stdout]).toEqual([1, ""]);
    expect(flag.stderr).toBe(
      'unknown argument "--table"\nusage: npm run cost -- --stack <name> [--json] [--root <project dir>]\n',
    );
    const stack = runCost(["--stack", "prod"]);
    expect(stack.status).toBe(1);
    expect(stack.stderr).toMatch(/^no stack "prod": .* Stacks here: local, production, staging, staging-k8s\n$/);
  });
});
