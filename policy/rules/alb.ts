/**
 * The application load balancer: HTTPS only with a modern TLS policy, strict HTTP parsing, access
 * logs, spread over zones, protected from deletion and behind a WAF.
 */
import type * as aws from "@pulumi/aws";
import type { Unwrap } from "@pulumi/pulumi";
import { FRAME_OPTIONS, HSTS_ONE_YEAR_SECONDS } from "../../lib/securityHeaders";
import { type OpsbookPolicy, type Outputs, idSet, message, ofTypes, resourceRule, show, stackRule } from "./common";

export const LOAD_BALANCERS = ["aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"] as const;
export const LISTENERS = ["aws:lb/listener:Listener", "aws:alb/listener:Listener"] as const;
export const WAF_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation";

type LoadBalancer = Unwrap<aws.lb.LoadBalancerArgs>;
type Listener = Unwrap<aws.lb.ListenerArgs>;

function isApplication(props: LoadBalancer): boolean {
  return props.loadBalancerType === undefined || props.loadBalancerType === "application";
}

function lbRule<C = Record<string, never>>(
  meta: Omit<Parameters<typeof resourceRule<LoadBalancer, C>>[0], "types" | "kind">,
): OpsbookPolicy {
  return resourceRule<LoadBalancer, C>({ ...meta, types: LOAD_BALANCERS, kind: "Load balancer" });
}

function listenerRule<C = Record<string, never>>(
  meta: Omit<Parameters<typeof resourceRule<Listener, C>>[0], "types" | "kind">,
): OpsbookPolicy {
  return resourceRule<Listener, C>({ ...meta, types: LISTENERS, kind: "Listener" });
}

export const albHttpRedirectsToHttps = listenerRule({
  name: "alb-http-redirects-to-https",
  description: "Every plain-HTTP listener does one thing: redirect to HTTPS.",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["CKV_AWS_2", "ELB.1", "awsguard alb-http-to-https-redirection", "runbook 003"], // R-tls-https-only
  remediationSteps:
    'Give the port-80 listener a single default action { type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }.',
  check: ({ props, report }) => {
    if ((props.protocol ?? "HTTP").toUpperCase() !== "HTTP") return;
    const actions = props.defaultActions ?? [];
    const only = actions.length === 1 ? actions[0] : undefined;
    if (only?.type !== "redirect" || only.redirect?.protocol !== "HTTPS") {
      report(
        "defaultActions",
        show(
          actions.map((a) => (a.type === "redirect" ? `redirect to ${a.redirect?.protocol ?? "#{protocol}"}` : a.type)),
        ),
        'one action: { type: "redirect", redirect: { protocol: "HTTPS" } }',
        'replace the default actions with { type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }',
      );
    }
  },
});

export const albModernTlsPolicy = listenerRule<{ allowedPolicies: string[] }>({
  name: "alb-modern-tls-policy",
  description: "Every HTTPS listener uses a TLS 1.2+ security policy from the configured list (TLS 1.3 preferred).",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["CKV_AWS_103", "runbook 003"], // R-tls-version
  remediationSteps: 'Set sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06" on the HTTPS listener.',
  config: {
    allowedPolicies: {
      type: "array",
      items: { type: "string" },
      default: [
        "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
        "ELBSecurityPolicy-TLS13-1-3-2021-06",
      ],
      description: "Security policies an HTTPS listener may use.",
    },
  },
  check: ({ props, report }, config) => {
    if ((props.protocol ?? "").toUpperCase() !== "HTTPS") return;
    if (props.sslPolicy === undefined || !config.allowedPolicies.includes(props.sslPolicy)) {
      report(
        "sslPolicy",
        props.sslPolicy === undefined
          ? "not set (AWS picks ELBSecurityPolicy-2016-08, which allows TLS 1.0)"
          : show(props.sslPolicy),
        `one of ${show(config.allowedPolicies)}`,
        `set sslPolicy: "${config.allowedPolicies[0]}"`,
      );
    }
  },
});

export const albDropInvalidHeaders = lbRule({
  name: "alb-drop-invalid-headers",
  description:
    "Every application load balancer drops HTTP headers with invalid names instead of passing them to the app.",
  enforcementLevel: "mandatory",
  severity: "medium",
  sources: ["CKV_AWS_131", "ELB.4"],
  remediationSteps: "Set dropInvalidHeaderFields: true.",
  check: ({ props, report }) => {
    if (isApplication(props) && props.dropInvalidHeaderFields !== true)
      report(
        "dropInvalidHeaderFields",
        show(props.dropInvalidHeaderFields),
        "true",
        "set dropInvalidHeaderFields: true",
      );
  },
});

export const albAccessLogs = lbRule({
  name: "alb-access-logs",
  description: "Every load balancer writes access logs to an S3 bucket.",
  enforcementLevel: "mandatory",
  severity: "medium",
  sources: ["CKV_AWS_91", "ELB.5"],
  preview:
    "a bucket created in the same update has no name yet; the engine then reports this rule as advisory until the update.",
  remediationSteps:
    "Set accessLogs: { bucket: <log bucket>, enabled: true } and let the region's ELB account write to that bucket.",
  check: ({ props, report }) => {
    if (props.accessLogs?.enabled !== true || !props.accessLogs.bucket)
      report(
        "accessLogs",
        show(props.accessLogs),
        "{ bucket: <log bucket>, enabled: true }",
        "set accessLogs: { bucket, enabled: true } (the bucket's policy must let the ELB log delivery write)",
      );
  },
});

export const albDeletionProtection = lbRule({
  name: "alb-deletion-protection",
  description: "Every load balancer has deletion protection, so the entry point cannot be deleted by accident.",
  enforcementLevel: "mandatory",
  severity: "medium",
  sources: ["CKV_AWS_150", "ELB.6"],
  remediationSteps: "Set enableDeletionProtection: true.",
  check: ({ props, report }) => {
    if (props.enableDeletionProtection !== true)
      report(
        "enableDeletionProtection",
        show(props.enableDeletionProtection),
        "true",
        "set enableDeletionProtection: true",
      );
  },
});

export const albDesyncMitigation = lbRule({
  name: "alb-desync-mitigation",
  description:
    "Every application load balancer blocks HTTP desync (request smuggling): desync mitigation is defensive or strictest.",
  enforcementLevel: "mandatory",
  severity: "medium",
  sources: ["ELB.12"],
  remediationSteps: 'Leave desyncMitigationMode unset (defensive) or set "defensive" / "strictest".',
  check: ({ props, report }) => {
    const mode = props.desyncMitigationMode;
    if (isApplication(props) && mode !== undefined && mode !== "defensive" && mode !== "strictest") {
      report(
        "desyncMitigationMode",
        show(mode),
        '"defensive" (the default) or "strictest"',
        'set desyncMitigationMode: "defensive"',
      );
    }
  },
});

export const albMultiAz = lbRule<{ minimumSubnets: number }>({
  name: "alb-multi-az",
  description: "Every load balancer spans at least the configured number of subnets (one per zone).",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["ELB.13"],
  preview:
    "a list of subnet ids produced by another resource in the same update is unknown; the engine then reports this rule as advisory until the update.",
  remediationSteps: "Put the load balancer in the public subnet of every zone.",
  config: {
    minimumSubnets: {
      type: "integer",
      minimum: 2,
      default: 2,
      description: "Fewest subnets (zones) a load balancer spans.",
    },
  },
  check: ({ props, report }, config) => {
    const count = Math.max((props.subnets ?? []).length, (props.subnetMappings ?? []).length);
    if (count < config.minimumSubnets)
      report(
        "subnets",
        `${count} subnet${count === 1 ? "" : "s"}`,
        `at least ${config.minimumSubnets}, in different zones`,
        "set subnets to the public subnet of every zone",
      );
  },
});

export const albWafAttached = stackRule({
  name: "alb-waf-attached",
  description:
    "Every internet-facing application load balancer has a WAF web ACL associated (rate limiting, managed rule sets).",
  enforcementLevel: "advisory",
  severity: "medium",
  sources: ["ELB.16", "runbook 002"], // R-security-rate-limit
  preview:
    "the ARN of a load balancer created in the same update is unknown; the engine then reports this rule as advisory until the update.",
  remediationSteps:
    "Declare an aws.wafv2.WebAcl (scope REGIONAL) and an aws.wafv2.WebAclAssociation with resourceArn the load balancer's ARN.",
  check: (resources, _config, report) => {
    const associated = new Set(
      ofTypes(resources, [WAF_ASSOCIATION]).map(
        (a) => (a.props as Unwrap<aws.wafv2.WebAclAssociationArgs>).resourceArn,
      ),
    );
    for (const lb of ofTypes(resources, LOAD_BALANCERS)) {
      const props = lb.props as Outputs<aws.lb.LoadBalancerState>;
      if (props.internal === true || !isApplication(props)) continue;
      const ids = idSet(props.arn, props.id);
      if (![...ids].some((id) => associated.has(id))) {
        report(
          lb,
          message(
            `Load balancer "${lb.name}"`,
            "WAF association",
            "missing (no aws:wafv2/webAclAssociation:WebAclAssociation names its ARN)",
            "a web ACL associated with the load balancer",
            "declare an aws.wafv2.WebAclAssociation with resourceArn: <load balancer>.arn",
          ),
        );
      }
    }
  },
});

/** What each security header must look like: its listener attribute and a test of the value. */
const SECURITY_HEADERS: Array<{
  header: string;
  property: keyof Listener;
  ok: (v: string) => boolean;
  required: string;
  fix: string;
}> = [
  {
    header: "Strict-Transport-Security",
    property: "routingHttpResponseStrictTransportSecurityHeaderValue",
    ok: (v) => Number(/(?:^|;)\s*max-age=(\d+)/i.exec(v)?.[1] ?? 0) >= HSTS_ONE_YEAR_SECONDS,
    required: `max-age of at least ${HSTS_ONE_YEAR_SECONDS} (one year)`,
    fix: `set routingHttpResponseStrictTransportSecurityHeaderValue: "max-age=${HSTS_ONE_YEAR_SECONDS}; includeSubDomains"`,
  },
  {
    header: "X-Content-Type-Options",
    property: "routingHttpResponseXContentTypeOptionsHeaderValue",
    ok: (v) => v === "nosniff",
    required: '"nosniff"',
    fix: 'set routingHttpResponseXContentTypeOptionsHeaderValue: "nosniff"',
  },
  {
    header: "X-Frame-Options",
    property: "routingHttpResponseXFrameOptionsHeaderValue",
    ok: (v) => (FRAME_OPTIONS as readonly string[]).includes(v),
    required: FRAME_OPTIONS.map((o) => `"${o}"`).join(" or "),
    fix: 'set routingHttpResponseXFrameOptionsHeaderValue: "DENY"',
  },
  {
    header: "Content-Security-Policy",
    property: "routingHttpResponseContentSecurityPolicyHeaderValue",
    ok: (v) => v.trim().length > 0,
    required: "a policy, e.g. default-src 'self'",
    fix: "set routingHttpResponseContentSecurityPolicyHeaderValue (opsbook:loadBalancer.securityHeaders.contentSecurityPolicy)",
  },
];

export const albSecurityHeaders = listenerRule({
  name: "alb-security-headers",
  description:
    "Every HTTPS listener adds the browser security headers to its responses: HSTS for a year or more, X-Content-Type-Options nosniff, X-Frame-Options and a Content-Security-Policy.",
  enforcementLevel: "mandatory",
  severity: "medium",
  sources: ["runbook 002", "runbook 003"], // R-security-headers, R-tls-hsts
  remediationSteps:
    "Set the listener's routingHttpResponse* header attributes (opsbook:loadBalancer.securityHeaders does, by default).",
  check: ({ props, report }) => {
    if ((props.protocol ?? "").toUpperCase() !== "HTTPS") return;
    for (const h of SECURITY_HEADERS) {
      const value = props[h.property];
      if (typeof value !== "string" || !h.ok(value))
        report(`${h.property} (${h.header})`, show(value), h.required, h.fix);
    }
  },
});

export const albPolicies: OpsbookPolicy[] = [
  albHttpRedirectsToHttps,
  albModernTlsPolicy,
  albDropInvalidHeaders,
  albAccessLogs,
  albDeletionProtection,
  albDesyncMitigation,
  albMultiAz,
  albWafAttached,
  albSecurityHeaders,
];
