import * as waf from "../../rules/waf";
import { violations } from "../helpers";

const visibility = { cloudwatchMetricsEnabled: true, metricName: "m", sampledRequestsEnabled: true };
const acl = (rule: Record<string, unknown>) => ({
  scope: "REGIONAL",
  defaultAction: { allow: {} },
  visibilityConfig: visibility,
  rules: [{ name: "rate-limit-per-ip", priority: 1, visibilityConfig: visibility, action: { block: {} }, ...rule }],
});
const rate = (limit: unknown, evaluationWindowSec?: number) => ({
  statement: {
    rateBasedStatement: { aggregateKeyType: "IP", limit, ...(evaluationWindowSec ? { evaluationWindowSec } : {}) },
  },
});

describe("waf-rate-limit-bounds", () => {
  test("passes the program's limit, and a web ACL without rate rules", async () => {
    expect(await violations(waf.wafRateLimitBounds, waf.WEB_ACL, acl(rate(2000, 300)))).toEqual([]);
    expect(
      await violations(waf.wafRateLimitBounds, waf.WEB_ACL, {
        ...acl({}),
        rules: [
          {
            name: "common",
            priority: 2,
            overrideAction: { none: {} },
            statement: { managedRuleGroupStatement: { name: "AWSManagedRulesCommonRuleSet", vendorName: "AWS" } },
            visibilityConfig: visibility,
          },
        ],
      }),
    ).toEqual([]);
  });

  test("reports a limit above the maximum, scaled to 5 minutes from a shorter window", async () => {
    expect(await violations(waf.wafRateLimitBounds, waf.WEB_ACL, acl(rate(10000, 60)), { name: "edge" })).toEqual([
      'WAF web ACL "edge": rules[0] ("rate-limit-per-ip").statement.rateBasedStatement.limit is 10000 per 60 s (50000 per 5 min); required: 100 to 20000 requests per client per 5 minutes. Fix: pulumi config set --path \'opsbook:loadBalancer.rateLimitPer5Minutes\' <requests> within the bounds.',
    ]);
  });

  test("reports a limit below the minimum, in a nested statement, and per config", async () => {
    const nested = {
      statement: { notStatement: { statement: { rateBasedStatement: { aggregateKeyType: "IP", limit: 20 } } } },
    };
    expect(await violations(waf.wafRateLimitBounds, waf.WEB_ACL, acl(nested), { name: "edge" })).toEqual([
      expect.stringContaining(
        'rules[0] ("rate-limit-per-ip").statement.notStatement.statement.rateBasedStatement.limit is 20 per 300 s',
      ),
    ]);
    expect(
      await violations(waf.wafRateLimitBounds, waf.WEB_ACL, acl(rate(2000)), { config: { maximumPer5Minutes: 1000 } }),
    ).toEqual([expect.stringContaining("required: 100 to 1000 requests")]);
  });

  test("reports a rate rule that only counts", async () => {
    expect(
      await violations(waf.wafRateLimitBounds, waf.WEB_ACL, acl({ ...rate(2000), action: { count: {} } }), {
        name: "edge",
      }),
    ).toEqual([
      'WAF web ACL "edge": rules[0] ("rate-limit-per-ip").action is {"count":{}}; required: block, challenge or captcha. Fix: set action: { block: {} }.',
    ]);
  });
});
