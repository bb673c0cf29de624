import { LoadBalancer, type LoadBalancerArgs, TLS_POLICY } from "../../../components/service/loadBalancer";
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
  protect: true,
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
      routingHttpResponseStrictTransportSecurityHeaderValue: "max-age=31536000; includeSubDomains",
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
