import { type PolicyReport, checkPlan, checkStack, stackConfigFile } from "../../../tools/policy/cli";

let report: PolicyReport;
beforeAll(async () => {
  report = await checkStack("production");
});

describe("the policy pack over the production stack", () => {
  test("finds nothing to report in what Pulumi.production.yaml declares", () => {
    expect(report.configFile).toBe(stackConfigFile("production"));
    expect(report.plan.resources.length).toBeGreaterThan(30);
    expect(report.diagnostics).toEqual([]);
    expect(report.exitCode).toBe(0);
  });

  test("would stop an update that unprotects the logs key or keeps flow logs only a month", async () => {
    const weakened = {
      ...report.plan,
      resources: report.plan.resources.map((r) =>
        r.name === "logs-key" ? { ...r, protect: false } : r.name === "production-flow-logs" ? { ...r, inputs: { ...r.inputs, retentionInDays: 30 } } : r,
      ),
    };
    const check = await checkPlan(weakened, { configFile: stackConfigFile("production") });
    expect(check.diagnostics.map((d) => [d.enforcementLevel, d.policyName, d.resource?.name])).toEqual([
      ["mandatory", "cloudwatch-log-group-retention", "production-flow-logs"],
      ["mandatory", "stateful-resource-protected", "logs-key"],
    ]);
    expect(check.exitCode).toBe(1);
  });
});
