import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { LoadBalancerSettings, SecurityHeadersSettings } from "./settings";
import { SecureBucket } from "../storage/secureBucket";

/** TLS 1.3 and 1.2 only (R-tls-version: TLS 1.2+). */
export const TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/** The HTTPS listener's response-header attributes (`aws.lb.Listener`), and what the app must do itself. */
export interface ResponseHeaders {
  attributes: Pick<
    aws.lb.ListenerArgs,
    | "routingHttpResponseStrictTransportSecurityHeaderValue"
    | "routingHttpResponseXContentTypeOptionsHeaderValue"
    | "routingHttpResponseXFrameOptionsHeaderValue"
    | "routingHttpResponseContentSecurityPolicyHeaderValue"
    | "routingHttpResponseServerEnabled"
    | "routingHttpResponseAccessControlAllowOriginHeaderValue"
    | "routingHttpResponseAccessControlAllowMethodsHeaderValue"
    | "routingHttpResponseAccessControlAllowHeadersHeaderValue"
    | "routingHttpResponseAccessControlExposeHeadersHeaderValue"
    | "routingHttpResponseAccessControlAllowCredentialsHeaderValue"
    | "routingHttpResponseAccessControlMaxAgeHeaderValue"
  >;
  /** Why the listener sends no CORS headers although origins are configured; none when it does, or none are. */
  corsLeftToApp?: string;
}

/**
 * The security headers of every response (R-security-headers, R-tls-hsts) and, for exactly one
 * browser origin, the CORS headers (R-security-app-checks). The listener sends one fixed
 * Access-Control-Allow-Origin value: with several origins (or a `*.` pattern) only the app can
 * answer each caller with its own origin, so the listener leaves CORS to it. Never a wildcard.
 */
export function responseHeaders(h: SecurityHeadersSettings, corsOrigins: readonly string[]): ResponseHeaders {
  const hsts = [
    `max-age=${h.hsts.maxAgeSeconds}`,
    ...(h.hsts.includeSubDomains ? ["includeSubDomains"] : []),
    ...(h.hsts.preload ? ["preload"] : []),
  ].join("; ");
  const attributes: ResponseHeaders["attributes"] = {
    routingHttpResponseStrictTransportSecurityHeaderValue: hsts,
    routingHttpResponseXContentTypeOptionsHeaderValue: "nosniff",
    routingHttpResponseXFrameOptionsHeaderValue: h.frameOptions,
    routingHttpResponseContentSecurityPolicyHeaderValue: h.contentSecurityPolicy,
    routingHttpResponseServerEnabled: h.serverHeader,
  };
  const origins = [...new Set(corsOrigins)].sort();
  if (origins.length === 0) return { attributes };
  if (origins.length > 1 || origins[0]!.includes("*")) {
    return {
      attributes,
      corsLeftToApp: `the services accept ${origins.length > 1 ? `${origins.length} origins (${origins.join(", ")})` : `the pattern ${origins[0]}`}, and a load balancer sends one fixed Access-Control-Allow-Origin: the app must answer each caller with its own origin (CORS_ORIGINS) and the CORS headers itself`,
    };
  }
  const cors = h.cors;
  return {
    attributes: {
      ...attributes,
      routingHttpResponseAccessControlAllowOriginHeaderValue: origins[0]!,
      routingHttpResponseAccessControlAllowMethodsHeaderValue: cors.allowMethods.join(", "),
      ...(cors.allowHeaders.length > 0
        ? { routingHttpResponseAccessControlAllowHeadersHeaderValue: cors.allowHeaders.join(", ") }
        : {}),
      ...(cors.exposeHeaders.length > 0
        ? { routingHttpResponseAccessControlExposeHeadersHeaderValue: cors.exposeHeaders.join(", ") }
        : {}),
      // The attribute's only valid value is "true": without credentials it is left unset.
      ...(cors.allowCredentials ? { routingHttpResponseAccessControlAllowCredentialsHeaderValue: "true" } : {}),
      routingHttpResponseAccessControlMaxAgeHeaderValue: String(cors.maxAgeSeconds),
    },
  };
}

/** The parsed `opsbook:loadBalancer` settings (./settings.ts), the TLS source and the wiring. */
export interface LoadBalancerArgs extends LoadBalancerSettings {
  /** Every service's `corsOrigins`: one origin is answered at the listener (see {@link responseHeaders}). @default [] */
  corsOrigins?: string[];
  vpcId: pulumi.Input<string>;
  /** Public subnets, two zones at least. */
  subnetIds: pulumi.Input<string>[];
  /** The load balancer tier's security group (80 and 443 from the world). */
  securityGroupId: pulumi.Input<string>;
  /** An ACM certificate ARN, or a domain to request one for, validated in a Route 53 zone. */
  tls: { certificateArn: string } | { domainName: string; hostedZoneId: string };
  /** Pulumi `protect` for the access log bucket. */
  protect: boolean;
}

/**
 * The public entry point: an application load balancer that speaks HTTPS only (HTTP answers with a
 * permanent redirect), with security headers on every response (HSTS, nosniff, frame options, CSP,
 * no Server header), invalid headers dropped, access logs, and a WAF rate limit.
 * Cost: the load balancer hours and LCUs, the WAF web ACL and its requests, and log storage.
 */
export class LoadBalancer extends pulumi.ComponentResource {
  readonly alb: aws.lb.LoadBalancer;
  readonly https: aws.lb.Listener;
  readonly http: aws.lb.Listener;
  readonly arnSuffix: pulumi.Output<string>;
  readonly dnsName: pulumi.Output<string>;
  readonly url: pulumi.Output<string>;
  readonly certificateArn: pulumi.Output<string>;
  readonly logBucket: SecureBucket;

  constructor(name: string, args: LoadBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("opsbook:service:LoadBalancer", name, {}, opts);
    if (args.subnetIds.length < 2)
      throw new pulumi.ResourceError(
        `the load balancer needs public subnets in at least 2 zones, got ${args.subnetIds.length}`,
        this,
      );

    const elbAccount = aws.elb.getServiceAccountOutput({}, { parent: this });
    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    this.logBucket = new SecureBucket(
      `${name}-lb-access-logs`,
      {
        purpose: `${name}-alb-logs`,
        // ALB access logs can only be written to SSE-S3 buckets.
        encryption: "s3-managed",
        expireAfterDays: args.accessLogRetentionDays,
        noncurrentExpireAfterDays: 1,
        protect: args.protect,
        policyStatements: (arn) => [
          {
            Sid: "LoadBalancerWritesLogs",
            Effect: "Allow",
            // Regions launched before August 2022 deliver as the regional ELB account, newer ones as the service.
            Principal: { AWS: elbAccount.arn, Service: "logdelivery.elasticloadbalancing.amazonaws.com" },
            Action: "s3:PutObject",
            Resource: pulumi.interpolate`${arn}/AWSLogs/${identity.accountId}/*`,
          },
        ],
      },
      // Once `<env>-access-logs`, as was the backups' log bucket: renamed, not replaced.
      { parent: this, aliases: [{ name: `${name}-access-logs` }] },
    );

    this.alb = new aws.lb.LoadBalancer(
      `${name}`,
      {
        loadBalancerType: "application",
        internal: false,
        subnets: args.subnetIds,
        securityGroups: [args.securityGroupId],
        dropInvalidHeaderFields: true,
        desyncMitigationMode: "defensive",
        enableDeletionProtection: args.deletionProtection,
        idleTimeout: args.idleTimeoutSeconds,
        accessLogs: { bucket: this.logBucket.name, enabled: true },
      },
      { parent: this, dependsOn: [this.logBucket.policy] },
    );
    this.arnSuffix = this.alb.arnSuffix;
    this.dnsName = this.alb.dnsName;

    this.certificateArn =
      "certificateArn" in args.tls
        ? pulumi.output(args.tls.certificateArn)
        : this.requestCertificate(name, args.tls.domainName, args.tls.hostedZoneId);

    const headers = responseHeaders(args.securityHeaders, args.corsOrigins ?? []);
    if (headers.corsLeftToApp)
      void pulumi.log.warn(`loadBalancer.securityHeaders.cors: ${headers.corsLeftToApp}`, this);
    this.https = new aws.lb.Listener(
      `${name}-https`,
      {
        loadBalancerArn: this.alb.arn,
        port: 443,
        protocol: "HTTPS",
        sslPolicy: TLS_POLICY,
        certificateArn: this.certificateArn,
        // Services claim traffic with listener rules (the default service with the last rule, "/*"),
        // so the listener exists before any service; what no rule claims gets a 404.
        defaultActions: [
          {
            type: "fixed-response",
            fixedResponse: { contentType: "text/plain", statusCode: "404", messageBody: "Not found" },
          },
        ],
        ...headers.attributes,
      },
      { parent: this },
    );
    this.http = new aws.lb.Listener(
      `${name}-http`,
      {
        loadBalancerArn: this.alb.arn,
        port: 80,
        protocol: "HTTP",
        defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }],
      },
      { parent: this },
    );

    const acl = new aws.wafv2.WebAcl(
      `${name}`,
      {
        scope: "REGIONAL",
        description: `Rate limit per client IP for ${name}`,
        defaultAction: { allow: {} },
        rules: [
          {
            name: "rate-limit-per-ip",
            priority: 1,
            action: { block: {} },
            statement: {
              rateBasedStatement: {
                limit: args.rateLimitPer5Minutes,
                aggregateKeyType: "IP",
                evaluationWindowSec: 300,
              },
            },
            visibilityConfig: {
              cloudwatchMetricsEnabled: true,
              metricName: `${name}-rate-limit`,
              sampledRequestsEnabled: true,
            },
          },
          {
            name: "aws-common-rules",
            priority: 2,
            overrideAction: { none: {} },
            statement: {
              managedRuleGroupStatement: {
                vendorName: "AWS",
                name: "AWSManagedRulesCommonRuleSet",
                // An API takes bodies over 8 KB and clients without a User-Agent: count these, don't block.
                ruleActionOverrides: [
                  { name: "SizeRestrictions_BODY", actionToUse: { count: {} } },
                  { name: "NoUserAgent_HEADER", actionToUse: { count: {} } },
                ],
              },
            },
            visibilityConfig: {
              cloudwatchMetricsEnabled: true,
              metricName: `${name}-common-rules`,
              sampledRequestsEnabled: true,
            },
          },
        ],
        visibilityConfig: {
          cloudwatchMetricsEnabled: true,
          metricName: `${name}-web-acl`,
          sampledRequestsEnabled: true,
        },
      },
      { parent: this },
    );
    new aws.wafv2.WebAclAssociation(`${name}`, { resourceArn: this.alb.arn, webAclArn: acl.arn }, { parent: this });

    this.url =
      "domainName" in args.tls
        ? pulumi.output(`https://${args.tls.domainName}`)
        : pulumi.interpolate`https://${this.alb.dnsName}`;
    this.registerOutputs({ url: this.url, dnsName: this.dnsName });
  }

  /** An ACM certificate validated by DNS in the zone, and the domain pointed at the load balancer. */
  private requestCertificate(name: string, domainName: string, hostedZoneId: string): pulumi.Output<string> {
    const cert = new aws.acm.Certificate(`${name}`, { domainName, validationMethod: "DNS" }, { parent: this });
    const option = cert.domainValidationOptions[0]!;
    const record = new aws.route53.Record(
      `${name}-cert-validation`,
      {
        zoneId: hostedZoneId,
        name: option.resourceRecordName,
        type: option.resourceRecordType,
        records: [option.resourceRecordValue],
        ttl: 300,
        allowOverwrite: true,
      },
      { parent: this },
    );
    const validation = new aws.acm.CertificateValidation(
      `${name}`,
      { certificateArn: cert.arn, validationRecordFqdns: [record.fqdn] },
      { parent: this },
    );
    new aws.route53.Record(
      `${name}-alias`,
      {
        zoneId: hostedZoneId,
        name: domainName,
        type: "A",
        aliases: [{ name: this.alb.dnsName, zoneId: this.alb.zoneId, evaluateTargetHealth: true }],
      },
      { parent: this },
    );
    return validation.certificateArn;
  }
}
