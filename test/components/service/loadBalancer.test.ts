import {
  LoadBalancer,
  type LoadBalancerArgs,
  responseHeaders,
  TLS_POLICY,
} from "../../../components/service/loadBalancer";
import { securityHeadersSettings } from "../../../components/service/settings";
import { settingsProblems } from "../../helpers/settings";
import {
  type RecordedResource,
  idOfOne,
  ofType,
  one,
  policyOf,
  recordResources,
  resolve,
  settle,
} from "../../helpers/mocks";

const base: LoadBalancerArgs = {
  vpcId: "vpc-1",
  subnetIds: ["subnet-pub-a", "subnet-pub-b"],
  securityGroupId: "sg-alb",
  tls: { certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/abc" },
  deletionProtection: true,
  idleTimeoutSeconds: 60,
  rateLimitPer5Minutes: 2000,
  accessLogRetentionDays: 90,
  securityHeaders: securityHeadersSettings.parse({}),
  protect: true,
};

/** The listener's defaults: every response gets these (R-security-headers). */
const SECURITY_HEADERS = {
  routingHttpResponseStrictTransportSecurityHeaderValue: "max-age=31536000; includeSubDomains",
  routingHttpResponseXContentTypeOptionsHeaderValue: "nosniff",
  routingHttpResponseXFrameOptionsHeaderValue: "DENY",
  routingHttpResponseContentSecurityPolicyHeaderValue:
    "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'self'",
  routingHttpResponseServerEnabled: false,
};

async function build(args: LoadBalancerArgs): Promise<{ resources: RecordedResource[]; lb: LoadBalancer }> {
  const resources = await recordResources();
  const lb = new LoadBalancer("edge", args);
  await settle();
  return { resources, lb };
}

describe("LoadBalancer with a certificate ARN", () => {
  let resources: RecordedResource[];
  beforeAll(async () => ({ resources } = await build(base)));

  test("is public in two zones, drops invalid headers, logs access and resists deletion", () => {
    expect(one(resources, "aws:lb/loadBalancer:LoadBalancer", "edge").inputs).toMatchObject({
      loadBalancerType: "application",
      internal: false,
      subnets: ["subnet-pub-a", "subnet-pub-b"],
      securityGroups: ["sg-alb"],
      dropInvalidHeaderFields: true,
      desyncMitigationMode: "defensive",
      enableDeletionProtection: true,
      idleTimeout: 60,
      accessLogs: { bucket: idOfOne(resources, "aws:s3/bucket:Bucket", "edge-lb-access-logs"), enabled: true },
    });
  });

  test("serves HTTPS with TLS 1.2+ and HSTS, and redirects HTTP permanently", () => {
    expect(one(resources, "aws:lb/listener:Listener", "edge-https").inputs).toMatchObject({
      port: 443,
      protocol: "HTTPS",
      sslPolicy: TLS_POLICY,
      certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/abc",
      ...SECURITY_HEADERS,
      defaultActions: [
        {
          type: "fixed-response",
          fixedResponse: { contentType: "text/plain", statusCode: "404", messageBody: "Not found" },
        },
      ],
    });
    expect(TLS_POLICY).toBe("ELBSecurityPolicy-TLS13-1-2-2021-06");
    expect(one(resources, "aws:lb/listener:Listener", "edge-http").inputs).toMatchObject({
      port: 80,
      protocol: "HTTP",
      defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }],
    });
  });

  test("rate-limits each client IP with a WAF web ACL attached to the load balancer", () => {
    const acl = one(resources, "aws:wafv2/webAcl:WebAcl", "edge").inputs;
    expect(acl.scope).toBe("REGIONAL");
    expect((acl.rules as Array<Record<string, unknown>>)[0]).toMatchObject({
      name: "rate-limit-per-ip",
      action: { block: {} },
      statement: { rateBasedStatement: { limit: 2000, aggregateKeyType: "IP" } },
    });
    expect(one(resources, "aws:wafv2/webAclAssociation:WebAclAssociation", "edge").inputs).toEqual({
      resourceArn: "arn:aws:lb:eu-west-1:123456789012:loadbalancer/edge",
      webAclArn: "arn:aws:wafv2:eu-west-1:123456789012:webacl/edge",
    });
  });

  test("writes access logs to an SSE-S3 bucket that only the load balancer log delivery may write to", () => {
    const sse = one(
      resources,
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      "edge-lb-access-logs",
    ).inputs;
    expect(sse.rules).toEqual([{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }]);
    expect(
      one(resources, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "edge-lb-access-logs").inputs
        .rules,
    ).toEqual([
      {
        id: "retention",
        status: "Enabled",
        filter: {},
        expiration: { days: 90 },
        noncurrentVersionExpiration: { noncurrentDays: 1 },
        abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
      },
    ]);
    const statements = policyOf(one(resources, "aws:s3/bucketPolicy:BucketPolicy", "edge-lb-access-logs")).Statement;
    expect(statements[1]).toEqual({
      Sid: "LoadBalancerWritesLogs",
      Effect: "Allow",
      Principal: { AWS: "arn:aws:iam::156460612806:root", Service: "logdelivery.elasticloadbalancing.amazonaws.com" },
      Action: "s3:PutObject",
      Resource: `arn:aws:s3:::${idOfOne(resources, "aws:s3/bucket:Bucket", "edge-lb-access-logs")}/AWSLogs/123456789012/*`,
    });
  });

  test("requests no certificate when one is given", () => {
    expect(ofType(resources, "aws:acm/certificate:Certificate")).toEqual([]);
  });
});

describe("LoadBalancer with a domain", () => {
  test("requests a DNS-validated certificate, points the domain at itself and serves its URL", async () => {
    const { resources, lb } = await build({ ...base, tls: { domainName: "app.example.com", hostedZoneId: "Z123" } });
    expect(one(resources, "aws:acm/certificate:Certificate", "edge").inputs).toMatchObject({
      domainName: "app.example.com",
      validationMethod: "DNS",
    });
    expect(one(resources, "aws:acm/certificateValidation:CertificateValidation", "edge").inputs.certificateArn).toBe(
      "arn:aws:acm:eu-west-1:123456789012:certificate/edge",
    );
    expect(one(resources, "aws:route53/record:Record", "edge-alias").inputs).toMatchObject({
      zoneId: "Z123",
      name: "app.example.com",
      type: "A",
      aliases: [{ name: "edge.eu-west-1.elb.amazonaws.com", zoneId: "Z32O12XQLNTSW2", evaluateTargetHealth: true }],
    });
    expect(await resolve(lb.url)).toBe("https://app.example.com");
  });

  test("refuses a single subnet", async () => {
    await recordResources();
    expect(() => new LoadBalancer("one", { ...base, subnetIds: ["subnet-a"] })).toThrow(
      "the load balancer needs public subnets in at least 2 zones, got 1",
    );
  });
});

describe("the listener's response headers (R-security-headers, R-tls-hsts)", () => {
  const defaults = securityHeadersSettings.parse({});

  test("by default: HSTS for a year with subdomains, nosniff, no framing, a same-origin CSP, no Server header, no CORS", () => {
    expect(responseHeaders(defaults, [])).toEqual({ attributes: SECURITY_HEADERS });
  });

  test("one origin: the CORS headers at the listener, credentials only when asked for, never a wildcard", () => {
    expect(responseHeaders(defaults, ["https://app.example.com", "https://app.example.com"]).attributes).toEqual({
      ...SECURITY_HEADERS,
      routingHttpResponseAccessControlAllowOriginHeaderValue: "https://app.example.com",
      routingHttpResponseAccessControlAllowMethodsHeaderValue: "GET, HEAD, POST, PATCH, DELETE, OPTIONS",
      routingHttpResponseAccessControlAllowHeadersHeaderValue: "Content-Type, Authorization",
      routingHttpResponseAccessControlMaxAgeHeaderValue: "600",
    });
    const withCredentials = securityHeadersSettings.parse({
      cors: { allowCredentials: true, exposeHeaders: ["ETag"] },
    });
    expect(responseHeaders(withCredentials, ["https://app.example.com"]).attributes).toMatchObject({
      routingHttpResponseAccessControlAllowOriginHeaderValue: "https://app.example.com",
      routingHttpResponseAccessControlAllowCredentialsHeaderValue: "true",
      routingHttpResponseAccessControlExposeHeadersHeaderValue: "ETag",
    });
  });

  test("several origins or a pattern: no CORS header at the listener, and why the app must echo the origin", () => {
    const several = responseHeaders(defaults, ["https://b.example.com", "https://a.example.com"]);
    expect(several.attributes).toEqual(SECURITY_HEADERS);
    expect(several.corsLeftToApp).toBe(
      "the services accept 2 origins (https://a.example.com, https://b.example.com), and a load balancer sends one fixed Access-Control-Allow-Origin: the app must answer each caller with its own origin (CORS_ORIGINS) and the CORS headers itself",
    );
    const pattern = responseHeaders(defaults, ["https://*.example.com"]);
    expect(pattern.attributes).toEqual(SECURITY_HEADERS);
    expect(pattern.corsLeftToApp).toContain("the pattern https://*.example.com");
  });

  test("preload, SAMEORIGIN, a CSP of one's own and the Server header when configured", () => {
    const h = securityHeadersSettings.parse({
      hsts: { maxAgeSeconds: 63072000, preload: true },
      frameOptions: "SAMEORIGIN",
      contentSecurityPolicy: "default-src 'self'; img-src 'self' data:",
      serverHeader: true,
    });
    expect(responseHeaders(h, []).attributes).toEqual({
      routingHttpResponseStrictTransportSecurityHeaderValue: "max-age=63072000; includeSubDomains; preload",
      routingHttpResponseXContentTypeOptionsHeaderValue: "nosniff",
      routingHttpResponseXFrameOptionsHeaderValue: "SAMEORIGIN",
      routingHttpResponseContentSecurityPolicyHeaderValue: "default-src 'self'; img-src 'self' data:",
      routingHttpResponseServerEnabled: true,
    });
  });

  test("config refuses preload without subdomains or a year, frame options AWS does not take, and bad header values", () => {
    expect(settingsProblems(securityHeadersSettings, { hsts: { preload: true, includeSubDomains: false } })).toEqual([
      "hsts.includeSubDomains: true with preload: the preload lists require includeSubDomains",
    ]);
    expect(settingsProblems(securityHeadersSettings, { hsts: { preload: true, maxAgeSeconds: 86400 } })).toEqual([
      "hsts.maxAgeSeconds: at least 31536000 (one year) with preload: the preload lists require it",
    ]);
    expect(settingsProblems(securityHeadersSettings, { frameOptions: "ALLOW-FROM https://x.example.com" })).toEqual([
      'frameOptions: one of "DENY", "SAMEORIGIN"',
    ]);
    expect(
      settingsProblems(securityHeadersSettings, { contentSecurityPolicy: "default-src 'self';\nscript-src *" }),
    ).toEqual([
      "contentSecurityPolicy: a Content-Security-Policy, directives separated by '; ' (printable ASCII, no line breaks)",
    ]);
    expect(
      settingsProblems(securityHeadersSettings, { contentSecurityPolicy: `default-src ${"x".repeat(1020)}` }),
    ).toEqual(["contentSecurityPolicy: at most 1024 characters (the load balancer's limit for a header value)"]);
    expect(
      settingsProblems(securityHeadersSettings, {
        cors: { allowMethods: ["TRACE"], maxAgeSeconds: 90000, allowHeaders: ["a b"] },
      }),
    ).toEqual([
      'cors.allowMethods[0]: one of "GET", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS"',
      "cors.allowHeaders[0]: an HTTP header name, e.g. Content-Type",
      "cors.maxAgeSeconds: a whole number from 0 to 86400 s",
    ]);
  });
});
