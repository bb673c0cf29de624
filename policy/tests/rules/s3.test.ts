import type { RecordedResource } from "../../../tools/plan/mocks";
import * as s3 from "../../rules/s3";
import { idOf, resource, stackViolations } from "../helpers";

const BUCKET = "prod-backups";
const KEY = "arn:aws:kms:eu-west-1:123456789012:key/backup-key";

const tlsOnlyPolicy = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "TlsOnly",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    },
  ],
});

/** The bucket and every companion the backup component should declare, keyed by companion kind. */
function backupBucket(bucket = BUCKET): Record<string, RecordedResource> {
  return {
    bucket: resource("aws:s3/bucket:Bucket", "backups", { bucket }),
    publicAccessBlock: resource(s3.S3.publicAccessBlock[0], "backups", {
      bucket,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    }),
    encryption: resource(s3.S3.encryption[0], "backups", {
      bucket,
      rules: [
        {
          applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: KEY },
          bucketKeyEnabled: true,
        },
      ],
    }),
    versioning: resource(s3.S3.versioning[0], "backups", { bucket, versioningConfiguration: { status: "Enabled" } }),
    policy: resource(s3.S3.policy[0], "backups", { bucket, policy: tlsOnlyPolicy }),
    lifecycle: resource(s3.S3.lifecycle[0], "backups", {
      bucket,
      rules: [
        {
          id: "expire",
          status: "Enabled",
          expiration: { days: 30 },
          noncurrentVersionExpiration: { noncurrentDays: 30 },
        },
      ],
    }),
    logging: resource(s3.S3.logging[0], "backups", {
      bucket,
      targetBucket: "prod-access-logs",
      targetPrefix: `${bucket}/`,
    }),
    ownership: resource(s3.S3.ownership[0], "backups", { bucket, rule: { objectOwnership: "BucketOwnerEnforced" } }),
  };
}

/** The backup bucket with one companion replaced (or removed, with undefined). */
function withCompanion(kind: string, replacement?: Record<string, unknown>): RecordedResource[] {
  const all = backupBucket();
  const rest = Object.entries(all)
    .filter(([k]) => k !== kind)
    .map(([, r]) => r);
  return replacement ? [...rest, resource(all[kind]!.type, "backups", { bucket: BUCKET, ...replacement })] : rest;
}

test.each(s3.s3Policies.map((p) => [p.name, p] as const))(
  "%s passes the compliant backup bucket",
  async (_name, policy) => {
    expect(await stackViolations(policy, Object.values(backupBucket()))).toEqual([]);
  },
);

test("companions match a bucket by its id as well as its name, and the V2 tokens count", async () => {
  const bucket = resource("aws:s3/bucketV2:BucketV2", "logs", {});
  const versioning = resource("aws:s3/bucketVersioningV2:BucketVersioningV2", "logs", {
    bucket: idOf(bucket),
    versioningConfiguration: { status: "Enabled" },
  });
  expect(await stackViolations(s3.s3VersioningEnabled, [bucket, versioning])).toEqual([]);
});

describe("s3-public-access-blocked", () => {
  test("names the flags that are off", async () => {
    expect(
      await stackViolations(
        s3.s3PublicAccessBlocked,
        withCompanion("publicAccessBlock", { blockPublicAcls: true, blockPublicPolicy: false, ignorePublicAcls: true }),
      ),
    ).toEqual([
      'backups: S3 bucket "backups": BucketPublicAccessBlock is present with blockPublicPolicy, restrictPublicBuckets not true; required: blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true. Fix: declare aws.s3.BucketPublicAccessBlock { bucket: <bucket>.id } with the four flags true.',
    ]);
  });

  test("reports a bucket without one", async () => {
    expect(await stackViolations(s3.s3PublicAccessBlocked, withCompanion("publicAccessBlock"))).toEqual([
      expect.stringContaining(
        "BucketPublicAccessBlock is missing (no aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock names this bucket)",
      ),
    ]);
  });
});

describe("s3-encrypted-with-kms", () => {
  test("reports SSE-S3 on a bucket that holds data", async () => {
    expect(
      await stackViolations(
        s3.s3EncryptedWithKms,
        withCompanion("encryption", { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] }),
      ),
    ).toEqual([
      'backups: S3 bucket "backups": BucketServerSideEncryptionConfiguration is [{"algorithm":"AES256"}]; required: sseAlgorithm "aws:kms" with kmsMasterKeyId set and bucketKeyEnabled: true. Fix: declare aws.s3.BucketServerSideEncryptionConfiguration { bucket: <bucket>.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: <key ARN> }, bucketKeyEnabled: true }] }.',
    ]);
  });

  test("reports KMS without a bucket key, and a bucket without the configuration", async () => {
    expect(
      await stackViolations(
        s3.s3EncryptedWithKms,
        withCompanion("encryption", {
          rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: KEY } }],
        }),
      ),
    ).toEqual([expect.stringContaining(`is [{"algorithm":"aws:kms","key":"${KEY}"}]`)]);
    expect(await stackViolations(s3.s3EncryptedWithKms, withCompanion("encryption"))).toEqual([
      expect.stringContaining("BucketServerSideEncryptionConfiguration is missing"),
    ]);
  });

  test("accepts AES256 on a bucket that receives load balancer access logs", async () => {
    const logs = backupBucket("prod-alb-logs");
    const aes = resource(s3.S3.encryption[0], "alb-logs", {
      bucket: "prod-alb-logs",
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    });
    const lb = resource("aws:lb/loadBalancer:LoadBalancer", "alb", {
      accessLogs: { bucket: "prod-alb-logs", enabled: true },
    });
    expect(await stackViolations(s3.s3EncryptedWithKms, [logs.bucket!, aes, lb])).toEqual([]);
    expect(await stackViolations(s3.s3EncryptedWithKms, [logs.bucket!, aes])).toEqual([
      expect.stringContaining('BucketServerSideEncryptionConfiguration is [{"algorithm":"AES256"}]'),
    ]);
  });
});

test("s3-versioning-enabled reports suspended versioning", async () => {
  expect(
    await stackViolations(
      s3.s3VersioningEnabled,
      withCompanion("versioning", { versioningConfiguration: { status: "Suspended" } }),
    ),
  ).toEqual([
    'backups: S3 bucket "backups": BucketVersioning is present with status "Suspended"; required: versioningConfiguration.status "Enabled". Fix: declare aws.s3.BucketVersioning { bucket: <bucket>.id, versioningConfiguration: { status: "Enabled" } }.',
  ]);
});

describe("s3-tls-only", () => {
  test("reports a policy without the TLS deny", async () => {
    const allowOnly = JSON.stringify({
      Statement: [
        {
          Effect: "Allow",
          Principal: { AWS: "arn:aws:iam::123456789012:root" },
          Action: "s3:GetObject",
          Resource: "*",
        },
      ],
    });
    expect(await stackViolations(s3.s3TlsOnly, withCompanion("policy", { policy: allowOnly }))).toEqual([
      'backups: S3 bucket "backups": BucketPolicy is present without a Deny on aws:SecureTransport = false; required: a Deny of "s3:*" to Principal "*" when aws:SecureTransport is "false". Fix: add { Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [<bucket ARN>, "<bucket ARN>/*"], Condition: { Bool: { "aws:SecureTransport": "false" } } } to the bucket policy.',
    ]);
  });

  test("accepts the policy as an object and the condition as a boolean", () => {
    expect(
      s3.deniesInsecureTransport({
        Statement: {
          Effect: "Deny",
          Principal: { AWS: "*" },
          Action: ["s3:*"],
          Condition: { Bool: { "aws:SecureTransport": false } },
        },
      }),
    ).toBe(true);
    expect(s3.deniesInsecureTransport("not json")).toBe(false);
  });
});

test("s3-lifecycle-configured reports a disabled rule", async () => {
  expect(
    await stackViolations(
      s3.s3LifecycleConfigured,
      withCompanion("lifecycle", { rules: [{ id: "expire", status: "Disabled" }] }),
    ),
  ).toEqual([
    'backups: S3 bucket "backups": BucketLifecycleConfiguration is present with statuses ["Disabled"]; required: at least one rule with status "Enabled". Fix: declare aws.s3.BucketLifecycleConfiguration { bucket: <bucket>.id, rules: [{ id: "expire", status: "Enabled", expiration: { days }, noncurrentVersionExpiration: { noncurrentDays } }] }.',
  ]);
});

describe("s3-access-logging", () => {
  test("reports a bucket without access logs", async () => {
    expect(await stackViolations(s3.s3AccessLogging, withCompanion("logging"))).toEqual([
      'backups: S3 bucket "backups": BucketLogging is missing (no aws:s3/bucketLogging:BucketLogging names this bucket); required: a BucketLogging with targetBucket set to another bucket. Fix: declare aws.s3.BucketLogging { bucket: <bucket>.id, targetBucket: <access-log bucket>.id, targetPrefix: "<bucket>/" }.',
    ]);
  });

  test("exempts the bucket that receives the access logs", async () => {
    const target = resource("aws:s3/bucket:Bucket", "access-logs", { bucket: "prod-access-logs" });
    expect(await stackViolations(s3.s3AccessLogging, [...Object.values(backupBucket()), target])).toEqual([]);
  });

  test("exempts the bucket a load balancer writes its access logs to, and no other", async () => {
    const albLogs = resource("aws:s3/bucket:Bucket", "lb-access-logs", { bucket: "prod-lb-access-logs" });
    const other = resource("aws:s3/bucket:Bucket", "other", { bucket: "prod-other" });
    const lb = resource("aws:lb/loadBalancer:LoadBalancer", "edge", {
      accessLogs: { bucket: "prod-lb-access-logs", enabled: true },
    });
    expect(await stackViolations(s3.s3AccessLogging, [...Object.values(backupBucket()), albLogs, other, lb])).toEqual([
      'other: S3 bucket "other": BucketLogging is missing (no aws:s3/bucketLogging:BucketLogging names this bucket); required: a BucketLogging with targetBucket set to another bucket. Fix: declare aws.s3.BucketLogging { bucket: <bucket>.id, targetBucket: <access-log bucket>.id, targetPrefix: "<bucket>/" }.',
    ]);
  });
});

test("s3-acls-disabled reports ACLs still in use", async () => {
  expect(
    await stackViolations(s3.s3AclsDisabled, withCompanion("ownership", { rule: { objectOwnership: "ObjectWriter" } })),
  ).toEqual([
    'backups: S3 bucket "backups": BucketOwnershipControls is present with objectOwnership "ObjectWriter"; required: rule.objectOwnership "BucketOwnerEnforced". Fix: declare aws.s3.BucketOwnershipControls { bucket: <bucket>.id, rule: { objectOwnership: "BucketOwnerEnforced" } }.',
  ]);
});
