import { type PolicyReport, checkPlan, checkStack, stackConfigFile } from "../../../tools/policy/cli";
import { DEFAULT_SECURITY_GROUP, FLOW_LOG } from "../../rules/network";

let report: PolicyReport;
beforeAll(async () => {
  report = await checkStack("staging");
});

describe("the policy pack over the staging stack", () => {
  test("reports only the savings Pulumi.staging.yaml chooses, as advisories", () => {
    expect(report.configFile).toBe(stackConfigFile("staging"));
    expect(report.plan.resources.length).toBeGreaterThan(20);
    // One zone for the database and the cache, and a load balancer that may be deleted: staging's
    // stack file asks for these, and staging's policy config makes them advisory.
    expect(report.diagnostics.map((d) => [d.enforcementLevel, d.policyName, d.resource?.name])).toEqual([
      ["advisory", "rds-multi-az", "staging-opsbook-staging"],
      ["advisory", "rds-deletion-protection", "staging-opsbook-staging"],
      ["advisory", "elasticache-failover", "staging-redis"],
      ["advisory", "elasticache-failover", "staging-redis"],
      ["advisory", "elasticache-failover", "staging-redis"],
      ["advisory", "alb-deletion-protection", "staging"],
    ]);
    expect(report.exitCode).toBe(0);
  });

  test("checks the real network: without its flow log and locked default group the VPC fails", async () => {
    const stripped = { ...report.plan, resources: report.plan.resources.filter((r) => r.type !== FLOW_LOG && r.type !== DEFAULT_SECURITY_GROUP) };
    const check = await checkPlan(stripped, { configFile: stackConfigFile("staging") });
    expect(check.diagnostics.filter((d) => d.enforcementLevel === "mandatory").map((d) => [d.enforcementLevel, d.policyName, d.resource?.name])).toEqual([
      ["mandatory", "vpc-flow-logs", "staging-vpc"],
      ["mandatory", "vpc-default-security-group-locked", "staging-vpc"],
    ]);
  });

  test("leaves staging's unprotected key alone, as its config says", async () => {
    const key = report.plan.resources.find((r) => r.type === "aws:kms/key:Key");
    expect(key?.protect).toBe(false);
    expect((await checkPlan(report.plan, { configFile: stackConfigFile("staging") })).diagnostics.filter((d) => d.policyName.startsWith("stateful-resource"))).toEqual([]);
  });
});
