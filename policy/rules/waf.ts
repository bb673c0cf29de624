/**
 * WAF rate limits that limit (R-security-rate-limit): every rate-based rule of a web ACL counts
 * requests per client within sane bounds and blocks (or challenges) past them. The program declares
 * one web ACL with a per-IP rule (components/service/loadBalancer.ts); the rule holds any
 * aws.wafv2.WebAcl's rate-based statements, nested ones included.
 */
import type * as aws from "@pulumi/aws";
import type { Unwrap } from "@pulumi/pulumi";
import { type OpsbookPolicy, resourceRule, show } from "./common";

export const WEB_ACL = "aws:wafv2/webAcl:WebAcl";

type WebAcl = Unwrap<aws.wafv2.WebAclArgs>;
type Rule = NonNullable<WebAcl["rules"]>[number];

/** Rate-based statements anywhere in a statement tree (and / or / not, rule groups' scope-downs), with their path. */
export function rateStatements(
  statement: unknown,
  path: string,
): Array<{ path: string; limit: unknown; window: unknown }> {
  if (statement === null || typeof statement !== "object") return [];
  const s = statement as Record<string, unknown>;
  const out: Array<{ path: string; limit: unknown; window: unknown }> = [];
  const rate = s.rateBasedStatement as { limit?: unknown; evaluationWindowSec?: unknown } | undefined;
  if (rate) out.push({ path: `${path}.rateBasedStatement`, limit: rate.limit, window: rate.evaluationWindowSec });
  for (const [key, value] of Object.entries(s)) {
    if (key === "rateBasedStatement") continue;
    if (Array.isArray(value)) value.forEach((v, i) => out.push(...rateStatements(v, `${path}.${key}[${i}]`)));
    else if (value !== null && typeof value === "object") out.push(...rateStatements(value, `${path}.${key}`));
  }
  return out;
}

export const wafRateLimitBounds = resourceRule<WebAcl, { minimumPer5Minutes: number; maximumPer5Minutes: number }>({
  name: "waf-rate-limit-bounds",
  description:
    "Every rate-based WAF rule limits each client to a sane number of requests (scaled to 5 minutes) and blocks, challenges or CAPTCHAs past it, rather than only counting.",
  enforcementLevel: "mandatory",
  severity: "medium",
  sources: ["runbook 002", "runbook 003"], // R-security-rate-limit
  types: [WEB_ACL],
  kind: "WAF web ACL",
  remediationSteps:
    "Set rateBasedStatement.limit between the bounds (opsbook:loadBalancer.rateLimitPer5Minutes) and the rule's action to block.",
  config: {
    minimumPer5Minutes: {
      type: "integer",
      minimum: 10,
      default: 100,
      description: "Fewest requests per client per 5 minutes a limit may allow (below it, normal use is blocked).",
    },
    maximumPer5Minutes: {
      type: "integer",
      minimum: 10,
      default: 20000,
      description: "Most requests per client per 5 minutes a limit may allow (above it, the limit stops no abuse).",
    },
  },
  check: ({ props, report }, config) => {
    (props.rules ?? []).forEach((rule: Rule, i) => {
      const found = rateStatements(rule.statement, `rules[${i}] ("${rule.name}").statement`);
      for (const { path, limit, window } of found) {
        const seconds = typeof window === "number" ? window : 300;
        const per5 = typeof limit === "number" ? (limit * 300) / seconds : undefined;
        if (per5 === undefined || per5 < config.minimumPer5Minutes || per5 > config.maximumPer5Minutes)
          report(
            `${path}.limit`,
            `${show(limit)} per ${seconds} s${per5 !== undefined && seconds !== 300 ? ` (${per5} per 5 min)` : ""}`,
            `${config.minimumPer5Minutes} to ${config.maximumPer5Minutes} requests per client per 5 minutes`,
            "pulumi config set --path 'opsbook:loadBalancer.rateLimitPer5Minutes' <requests> within the bounds",
          );
      }
      if (found.length > 0 && !rule.action?.block && !rule.action?.challenge && !rule.action?.captcha)
        report(
          `rules[${i}] ("${rule.name}").action`,
          show(rule.action),
          "block, challenge or captcha",
          "set action: { block: {} }",
        );
    });
  },
});

export const wafPolicies: OpsbookPolicy[] = [wafRateLimitBounds];
