import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface SecureBucketArgs {
  /** What the bucket holds; part of its name prefix and description tag. */
  purpose: string;
  /**
   * Default encryption: a KMS key (with an S3 bucket key, so KMS is called once per bucket, not per
   * object), or "s3-managed" (SSE-S3) where the writer cannot use KMS, as ALB access logs cannot.
   */
  encryption: { kmsKeyArn: pulumi.Input<string> } | "s3-managed";
  /** Current objects expire after this many days. @default never */
  expireAfterDays?: number;
  /** Overwritten or deleted versions are kept this many days. @default 30 */
  noncurrentExpireAfterDays?: number;
  /** Server access logs of this bucket go to that bucket under `prefix`. @default none (a log bucket itself) */
  accessLogs?: { bucket: pulumi.Input<string>; prefix: string };
  /** Statements added to the bucket policy, e.g. a log delivery service's write grant. */
  policyStatements?: (bucketArn: pulumi.Output<string>) => pulumi.Input<Record<string, unknown>>[];
  /** Governance-mode Object Lock: new objects cannot be deleted or overwritten for this many days. @default none */
  objectLockDays?: number;
  /** Pulumi `protect`; the bucket is never force-destroyed with objects in it either way. */
  protect: boolean;
  /** Region of the bucket when it is not the stack's (a disaster-recovery replica). @default the provider's */
  region?: string;
}

/**
 * An S3 bucket that is private and encrypted whatever is put in it: public access blocked, ACLs
 * off, default encryption, versioning, TLS-only policy, lifecycle, and access logs when it is not a
 * log bucket itself. Storage costs grow with `expireAfterDays` and the noncurrent-version grace.
 */
export class SecureBucket extends pulumi.ComponentResource {
  readonly bucket: aws.s3.Bucket;
  readonly name: pulumi.Output<string>;
  readonly arn: pulumi.Output<string>;
  /** The policy; depend on it before anything writes with a grant it carries. */
  readonly policy: aws.s3.BucketPolicy;
  /** Versioning; replication can only be configured once it is on. */
  readonly versioning: aws.s3.BucketVersioning;
  private readonly resourceName: string;
  private readonly region?: string;

  constructor(name: string, args: SecureBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("opsbook:storage:SecureBucket", name, {}, opts);
    const noncurrentDays = args.noncurrentExpireAfterDays ?? 30;
    for (const [key, value] of [
      ["expireAfterDays", args.expireAfterDays],
      ["noncurrentExpireAfterDays", noncurrentDays],
      ["objectLockDays", args.objectLockDays],
    ] as const) {
      if (value !== undefined && (!Number.isInteger(value) || value < 1))
        throw new pulumi.ResourceError(`${key} must be a whole number of days of at least 1, got ${value}`, this);
    }

    this.bucket = new aws.s3.Bucket(
      `${name}`,
      // Object Lock is switched on by its configuration below, never by the bucket's own flag,
      // which would replace an existing bucket.
      {
        bucketPrefix: `opsbook-${args.purpose}-`,
        forceDestroy: false,
        tags: { purpose: args.purpose },
        ...(args.region ? { region: args.region } : {}),
      },
      { parent: this, protect: args.protect },
    );
    this.name = this.bucket.bucket;
    this.arn = this.bucket.arn;
    // Every part of the bucket lives where the bucket does.
    const bucket = this.bucket.id;
    const region = args.region ? { region: args.region } : {};

    new aws.s3.BucketOwnershipControls(
      `${name}`,
      { bucket, ...region, rule: { objectOwnership: "BucketOwnerEnforced" } },
      { parent: this },
    );
    const publicAccess = new aws.s3.BucketPublicAccessBlock(
      `${name}`,
      {
        bucket,
        ...region,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      { parent: this },
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}`,
      {
        bucket,
        ...region,
        rules: [
          args.encryption === "s3-managed"
            ? { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }
            : {
                applyServerSideEncryptionByDefault: {
                  sseAlgorithm: "aws:kms",
                  kmsMasterKeyId: args.encryption.kmsKeyArn,
                },
                bucketKeyEnabled: true,
              },
        ],
      },
      { parent: this },
    );
    const versioning = new aws.s3.BucketVersioning(
      `${name}`,
      { bucket, ...region, versioningConfiguration: { status: "Enabled" } },
      { parent: this },
    );
    new aws.s3.BucketLifecycleConfiguration(
      `${name}`,
      {
        bucket,
        ...region,
        rules: [
          {
            id: "retention",
            status: "Enabled",
            filter: {},
            ...(args.expireAfterDays !== undefined ? { expiration: { days: args.expireAfterDays } } : {}),
            noncurrentVersionExpiration: { noncurrentDays },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
          },
        ],
      },
      { parent: this },
    );
    if (args.objectLockDays !== undefined) {
      // Governance, not compliance: an administrator with s3:BypassGovernanceRetention can still
      // undo a mistaken retention, which compliance mode would make permanent.
      new aws.s3.BucketObjectLockConfiguration(
        `${name}`,
        {
          bucket,
          ...region,
          objectLockEnabled: "Enabled",
          rule: { defaultRetention: { mode: "GOVERNANCE", days: args.objectLockDays } },
        },
        // S3 enables Object Lock on an existing bucket only once versioning is on.
        { parent: this, dependsOn: [versioning] },
      );
    }
    this.resourceName = name;
    this.region = args.region;
    if (args.accessLogs) this.logAccessTo(args.accessLogs.bucket, args.accessLogs.prefix);

    const extra = args.policyStatements?.(this.arn) ?? [];
    this.policy = new aws.s3.BucketPolicy(
      `${name}`,
      {
        bucket,
        ...region,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "DenyInsecureTransport",
              Effect: "Deny",
              Principal: "*",
              Action: "s3:*",
              Resource: [this.arn, pulumi.interpolate`${this.arn}/*`],
              Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
            ...extra,
          ],
        }),
      },
      // S3 rejects a policy while the public access block is still being applied.
      { parent: this, dependsOn: [publicAccess] },
    );
    this.versioning = versioning;
    this.registerOutputs({ name: this.name, arn: this.arn });
  }

  /**
   * Sends this bucket's server access logs to `bucket` under `prefix`, as `accessLogs` does, for a
   * log bucket whose sink is declared after it: the load balancer's log bucket logs to the stack's
   * S3 access-log bucket, which the backups declare (S3.9, CKV_AWS_18). Call it once.
   */
  logAccessTo(bucket: pulumi.Input<string>, prefix: string): aws.s3.BucketLogging {
    return new aws.s3.BucketLogging(
      this.resourceName,
      {
        bucket: this.bucket.id,
        ...(this.region ? { region: this.region } : {}),
        targetBucket: bucket,
        targetPrefix: prefix,
      },
      { parent: this },
    );
  }
}
