import * as alb from "../../rules/alb";
import { changed, resource, stackViolations, violations } from "../helpers";

const LB = alb.LOAD_BALANCERS[0];
const LISTENER = alb.LISTENERS[0];

const loadBalancer = {
  name: "prod-alb",
  loadBalancerType: "application",
  internal: false,
  subnets: ["subnet-public-a", "subnet-public-b", "subnet-public-c"],
  securityGroups: ["sg-alb"],
  dropInvalidHeaderFields: true,
  enableDeletionProtection: true,
  accessLogs: { bucket: "prod-alb-logs", enabled: true, prefix: "alb" },
};

const httpListener = {
  loadBalancerArn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/prod-alb/1",
  port: 80,
  protocol: "HTTP",
  defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }],
};

const httpsListener = {
  loadBalancerArn: httpListener.loadBalancerArn,
  port: 443,
  protocol: "HTTPS",
  certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/1",
  sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
  defaultActions: [
    { type: "forward", targetGroupArn: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/1" },
  ],
};

const lbRules = [
  alb.albDropInvalidHeaders,
  alb.albAccessLogs,
  alb.albDeletionProtection,
  alb.albDesyncMitigation,
  alb.albMultiAz,
];

test.each(lbRules.map((p) => [p.name, p] as const))("%s passes the compliant load balancer", async (_name, policy) => {
  expect(await violations(policy, LB, loadBalancer)).toEqual([]);
});

test.each([alb.albHttpRedirectsToHttps, alb.albModernTlsPolicy].map((p) => [p.name, p] as const))(
  "%s passes the compliant listeners",
  async (_name, policy) => {
    expect(await violations(policy, LISTENER, httpListener)).toEqual([]);
    expect(await violations(policy, LISTENER, httpsListener)).toEqual([]);
  },
);

describe("alb-http-redirects-to-https", () => {
  test("reports a plain-HTTP listener that forwards", async () => {
    expect(
      await violations(
        alb.albHttpRedirectsToHttps,
        LISTENER,
        changed(httpListener, { defaultActions: httpsListener.defaultActions }),
        { name: "http" },
      ),
    ).toEqual([
      'Listener "http": defaultActions is ["forward"]; required: one action: { type: "redirect", redirect: { protocol: "HTTPS" } }. Fix: replace the default actions with { type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }.',
    ]);
  });

  test("reports a redirect that keeps the protocol, and treats an unset protocol as HTTP", async () => {
    const sameProtocol = changed(httpListener, {
      protocol: undefined,
      defaultActions: [{ type: "redirect", redirect: { port: "8080", statusCode: "HTTP_302" } }],
    });
    expect(await violations(alb.albHttpRedirectsToHttps, LISTENER, sameProtocol)).toEqual([
      expect.stringContaining('defaultActions is ["redirect to #{protocol}"]'),
    ]);
  });
});

describe("alb-modern-tls-policy", () => {
  test("reports the AWS default policy", async () => {
    expect(
      await violations(alb.albModernTlsPolicy, LISTENER, changed(httpsListener, { sslPolicy: undefined }), {
        name: "https",
      }),
    ).toEqual([
      'Listener "https": sslPolicy is not set (AWS picks ELBSecurityPolicy-2016-08, which allows TLS 1.0); required: one of ["ELBSecurityPolicy-TLS13-1-2-2021-06","ELBSecurityPolicy-TLS13-1-2-Res-2021-06","ELBSecurityPolicy-TLS13-1-3-2021-06"]. Fix: set sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06".',
    ]);
  });

  test("reads the allowed policies from config", async () => {
    const old = changed(httpsListener, { sslPolicy: "ELBSecurityPolicy-TLS-1-2-2017-01" });
    expect(await violations(alb.albModernTlsPolicy, LISTENER, old)).toEqual([
      expect.stringContaining('sslPolicy is "ELBSecurityPolicy-TLS-1-2-2017-01"'),
    ]);
    expect(
      await violations(alb.albModernTlsPolicy, LISTENER, old, {
        config: { allowedPolicies: ["ELBSecurityPolicy-TLS-1-2-2017-01"] },
      }),
    ).toEqual([]);
  });
});

test("alb-drop-invalid-headers reports headers passed through, on application load balancers only", async () => {
  expect(
    await violations(alb.albDropInvalidHeaders, LB, changed(loadBalancer, { dropInvalidHeaderFields: undefined }), {
      name: "alb",
    }),
  ).toEqual([
    'Load balancer "alb": dropInvalidHeaderFields is not set; required: true. Fix: set dropInvalidHeaderFields: true.',
  ]);
  expect(
    await violations(
      alb.albDropInvalidHeaders,
      LB,
      changed(loadBalancer, { dropInvalidHeaderFields: undefined, loadBalancerType: "network" }),
    ),
  ).toEqual([]);
});

test("alb-access-logs reports logs switched off", async () => {
  expect(
    await violations(
      alb.albAccessLogs,
      LB,
      changed(loadBalancer, { accessLogs: { bucket: "prod-alb-logs", enabled: false } }),
      { name: "alb" },
    ),
  ).toEqual([
    'Load balancer "alb": accessLogs is {"bucket":"prod-alb-logs","enabled":false}; required: { bucket: <log bucket>, enabled: true }. Fix: set accessLogs: { bucket, enabled: true } (the bucket\'s policy must let the ELB log delivery write).',
  ]);
});

test("alb-deletion-protection reports an unprotected load balancer", async () => {
  expect(
    await violations(alb.albDeletionProtection, LB, changed(loadBalancer, { enableDeletionProtection: false }), {
      name: "alb",
    }),
  ).toEqual([
    'Load balancer "alb": enableDeletionProtection is false; required: true. Fix: set enableDeletionProtection: true.',
  ]);
});

test("alb-desync-mitigation reports monitor mode", async () => {
  expect(
    await violations(alb.albDesyncMitigation, LB, changed(loadBalancer, { desyncMitigationMode: "monitor" }), {
      name: "alb",
    }),
  ).toEqual([
    'Load balancer "alb": desyncMitigationMode is "monitor"; required: "defensive" (the default) or "strictest". Fix: set desyncMitigationMode: "defensive".',
  ]);
});

test("alb-multi-az reports a load balancer in one subnet, counting subnet mappings too", async () => {
  expect(
    await violations(alb.albMultiAz, LB, changed(loadBalancer, { subnets: ["subnet-public-a"] }), { name: "alb" }),
  ).toEqual([
    'Load balancer "alb": subnets is 1 subnet; required: at least 2, in different zones. Fix: set subnets to the public subnet of every zone.',
  ]);
  expect(
    await violations(
      alb.albMultiAz,
      LB,
      changed(loadBalancer, { subnets: undefined, subnetMappings: [{ subnetId: "a" }, { subnetId: "b" }] }),
    ),
  ).toEqual([]);
});

describe("alb-waf-attached", () => {
  const lb = resource(LB, "alb", loadBalancer);
  // The offline plan's placeholder ARN for a load balancer named "alb".
  const lbArn = "arn:aws:lb:eu-west-1:123456789012:loadbalancer/alb";

  test("passes a load balancer with a web ACL association", async () => {
    const association = resource(alb.WAF_ASSOCIATION, "alb-waf", {
      resourceArn: lbArn,
      webAclArn: "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/prod/1",
    });
    expect(await stackViolations(alb.albWafAttached, [lb, association])).toEqual([]);
  });

  test("reports an internet-facing load balancer without one, and skips internal ones", async () => {
    const internal = resource(LB, "internal", changed(loadBalancer, { internal: true }));
    expect(await stackViolations(alb.albWafAttached, [lb, internal])).toEqual([
      'alb: Load balancer "alb": WAF association is missing (no aws:wafv2/webAclAssociation:WebAclAssociation names its ARN); required: a web ACL associated with the load balancer. Fix: declare an aws.wafv2.WebAclAssociation with resourceArn: <load balancer>.arn.',
    ]);
  });
});

describe("alb-security-headers (R-security-headers)", () => {
  const secured = changed(httpsListener, {
    routingHttpResponseStrictTransportSecurityHeaderValue: "max-age=31536000; includeSubDomains",
    routingHttpResponseXContentTypeOptionsHeaderValue: "nosniff",
    routingHttpResponseXFrameOptionsHeaderValue: "DENY",
    routingHttpResponseContentSecurityPolicyHeaderValue: "default-src 'self'",
  });

  test("passes an HTTPS listener with the four headers, and ignores the HTTP redirect", async () => {
    expect(await violations(alb.albSecurityHeaders, LISTENER, secured)).toEqual([]);
    expect(await violations(alb.albSecurityHeaders, LISTENER, httpListener)).toEqual([]);
  });

  test("reports each header missing, naming the attribute and the fix", async () => {
    expect(await violations(alb.albSecurityHeaders, LISTENER, httpsListener, { name: "https" })).toEqual([
      'Listener "https": routingHttpResponseStrictTransportSecurityHeaderValue (Strict-Transport-Security) is not set; required: max-age of at least 31536000 (one year). Fix: set routingHttpResponseStrictTransportSecurityHeaderValue: "max-age=31536000; includeSubDomains".',
      'Listener "https": routingHttpResponseXContentTypeOptionsHeaderValue (X-Content-Type-Options) is not set; required: "nosniff". Fix: set routingHttpResponseXContentTypeOptionsHeaderValue: "nosniff".',
      'Listener "https": routingHttpResponseXFrameOptionsHeaderValue (X-Frame-Options) is not set; required: "DENY" or "SAMEORIGIN". Fix: set routingHttpResponseXFrameOptionsHeaderValue: "DENY".',
      "Listener \"https\": routingHttpResponseContentSecurityPolicyHeaderValue (Content-Security-Policy) is not set; required: a policy, e.g. default-src 'self'. Fix: set routingHttpResponseContentSecurityPolicyHeaderValue (opsbook:loadBalancer.securityHeaders.contentSecurityPolicy).",
    ]);
  });

  test("reports a short HSTS max-age and a frame option browsers ignore", async () => {
    const weak = changed(secured, {
      routingHttpResponseStrictTransportSecurityHeaderValue: "max-age=300",
      routingHttpResponseXFrameOptionsHeaderValue: "ALLOW-FROM https://x.example.com",
    });
    expect(await violations(alb.albSecurityHeaders, LISTENER, weak)).toEqual([
      expect.stringContaining('(Strict-Transport-Security) is "max-age=300"; required: max-age of at least 31536000'),
      expect.stringContaining(
        '(X-Frame-Options) is "ALLOW-FROM https://x.example.com"; required: "DENY" or "SAMEORIGIN"',
      ),
    ]);
  });
});
