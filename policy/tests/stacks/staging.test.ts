import { type PolicyReport, checkPlan, checkStack, stackConfigFile } from "../../../tools/policy/cli";
import { DEFAULT_SECURITY_GROUP, FLOW_LOG } from "../../rules/network";

let report: PolicyReport;
beforeAll(async () => {
  report = await checkStack("staging");
});

describe("the policy pack over the staging stack", () => {
  test("finds nothing to report in what Pulumi.staging.yaml declares", () => {
    expect(report.configFile).toBe(stackConfigFile("staging"));
    expect(report.plan.resources.length).toBeGreaterThan(20);
    expect(report.diagnostics).toEqual([]);
    expect(report.exitCode).toBe(0);
  });

  test("checks the real network: without its flow log and locked default group the VPC fails", async () => {
    const stripped = { ...report.plan, resources: report.plan.resources.filter((r) => r.type !== FLOW_LOG && r.type !== DEFAULT_SECURITY_GROUP) };
    const check = await checkPlan(stripped, { configFile: stackConfigFile("staging") });
    expect(check.diagnostics.map((d) => [d.enforcementLevel, d.policyName, d.resource?.name])).toEqual([
      ["mandatory", "vpc-flow-logs", "staging-vpc"],
      ["mandatory", "vpc-default-security-group-locked", "staging-vpc"],
    ]);
  });

  test("leaves staging's unprotected key alone, as its config says", async () => {
    const key = report.plan.resources.find((r) => r.type === "aws:kms/key:Key");
    expect(key?.protect).toBe(false);
    expect((await checkPlan(report.plan, { configFile: stackConfigFile("staging") })).diagnostics).toEqual([]);
  });
});
