/**
 * A threshold override in a stack file changes exactly the alarms of that metric and severity.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadConfig } from "../../stacks/config";
import { buildPlatform, stackOutputs } from "../../stacks/platform";
import { buildPlan, REPO_ROOT } from "../../tools/plan/plan";
import { planStack } from "../helpers/stack";
import type { RecordedResource } from "../helpers/mocks";

function alarmsOf(resources: RecordedResource[]): Map<string, Record<string, unknown>> {
  return new Map(
    resources.filter((r) => r.type === "aws:cloudwatch/metricAlarm:MetricAlarm").map((r) => [r.name, r.inputs]),
  );
}

test("overriding thresholds.cpuPercent.warning changes only the CPU warning alarms, of services, database and cache", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "opsbook-override-"));
  fs.copyFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  const production = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.production.yaml"), "utf8");
  fs.writeFileSync(
    path.join(dir, "Pulumi.tuned.yaml"),
    `${production.trimEnd()}\n  opsbook:thresholds:\n    cpuPercent:\n      warning: 75\n`,
  );

  // What index.ts does, as a function: a required module would run only once.
  const load = () => stackOutputs(buildPlatform(loadConfig()));
  const base = alarmsOf((await planStack("production")).resources); // the stack file as shipped
  const tuned = alarmsOf((await buildPlan("tuned", { root: dir, load })).resources);

  expect([...tuned.keys()].sort()).toEqual([...base.keys()].sort());
  const changed = [...base.keys()]
    .filter((name) => JSON.stringify(base.get(name)) !== JSON.stringify(tuned.get(name)))
    .sort();
  expect(changed).toEqual([
    "production-api-cpu-warning",
    "production-cache-node-1-cpu-warning",
    "production-cache-node-2-cpu-warning",
    "production-database-cpu-warning",
    "production-web-cpu-warning",
  ]);
  expect(tuned.get("production-api-cpu-warning")).toMatchObject({ threshold: 75 });
  expect(base.get("production-api-cpu-warning")).toMatchObject({ threshold: 70 });
  fs.rmSync(dir, { recursive: true, force: true });
});
