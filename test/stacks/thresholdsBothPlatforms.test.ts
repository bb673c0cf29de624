/**
 * One threshold table for both platforms: an override in a stack file moves the CloudWatch alarm
 * of an ECS stack and the Prometheus rule of a Kubernetes stack alike.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { AlertGroup } from "../../components/kubernetes/alertRules";
import { loadConfig } from "../../stacks/config";
import { buildPlatform, stackOutputs } from "../../stacks/platform";
import { buildPlan, REPO_ROOT } from "../../tools/plan/plan";
import { THRESHOLDS } from "../../lib/thresholds";
import { one } from "../helpers/mocks";

const OVERRIDE = "  opsbook:thresholds:\n    httpErrorRatePercent:\n      warning: 2\n";

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "opsbook-thresholds-"));
  fs.copyFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  for (const stack of ["staging", "staging-k8s"]) {
    const text = fs.readFileSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`), "utf8");
    fs.writeFileSync(path.join(dir, `Pulumi.${stack}-tuned.yaml`), `${text.trimEnd()}\n${OVERRIDE}`);
  }
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// What index.ts does, as a function: a required module would run only once.
const load = () => stackOutputs(buildPlatform(loadConfig()));
const plan = (stack: string) => buildPlan(stack, { root: dir, load });

async function ecsWarning(stack: string): Promise<unknown> {
  const p = await plan(stack);
  return one(p.resources, "aws:cloudwatch/metricAlarm:MetricAlarm", "staging-api-http-error-rate-warning").inputs
    .threshold;
}

async function prometheusWarning(stack: string): Promise<string> {
  const p = await plan(stack);
  const rule = one(p.resources, "kubernetes:monitoring.coreos.com/v1:PrometheusRule", "staging-k8s-alerts");
  const groups = (rule.inputs.spec as { groups: AlertGroup[] }).groups;
  const r = groups
    .find((g) => g.name === "opsbook-staging-k8s-api")!
    .rules.find((x) => x.labels.family === "http-error-rate" && x.labels.severity === "warning")!;
  return `${r.expr.split(" > ").pop()} | ${r.annotations.description.split(" for ")[0]}`;
}

test("thresholds.httpErrorRatePercent.warning: 2 changes the CloudWatch alarm and the Prometheus rule alike", async () => {
  // The stack files leave the runbook's 1 %; the stacks' own tests see it in their alarms and rules.
  expect(THRESHOLDS.httpErrorRatePercent.warning).toBe(1);
  expect(await ecsWarning("staging-tuned")).toBe(2);
  expect(await prometheusWarning("staging-k8s-tuned")).toBe(
    "2 | WARNING: 5xx responses of api as a share of its requests above 2%",
  );
});
