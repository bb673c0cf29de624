import { SecureBucket } from "../../../components/storage/secureBucket";
import { idOf, ofType, one, policyOf, recordResources, settle } from "../../helpers/mocks";

describe("SecureBucket", () => {
  test("is private, KMS-encrypted with a bucket key, versioned, TLS-only, expiring and logged", async () => {
    const resources = await recordResources();
    new SecureBucket("dumps", {
      purpose: "backups",
      encryption: { kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/backup" },
      expireAfterDays: 30,
      noncurrentExpireAfterDays: 7,
      accessLogs: { bucket: "log-bucket", prefix: "s3/dumps/" },
      protect: true,
    });
    await settle();
    const bucket = one(resources, "aws:s3/bucket:Bucket", "dumps");
    expect(bucket.protect).toBe(true);
    expect(bucket.inputs).toMatchObject({ bucketPrefix: "opsbook-backups-", forceDestroy: false });
    // The bucket's id is its name, which the companions and the policy name.
    const name = idOf(bucket);
    expect(one(resources, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "dumps").inputs).toEqual({
      bucket: name,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(one(resources, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "dumps").inputs).toEqual({
      bucket: name,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    });
    expect(
      one(resources, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "dumps")
        .inputs.rules,
    ).toEqual([
      {
        applyServerSideEncryptionByDefault: {
          sseAlgorithm: "aws:kms",
          kmsMasterKeyId: "arn:aws:kms:eu-west-1:123456789012:key/backup",
        },
        bucketKeyEnabled: true,
      },
    ]);
    expect(one(resources, "aws:s3/bucketVersioning:BucketVersioning", "dumps").inputs).toEqual({
      bucket: name,
      versioningConfiguration: { status: "Enabled" },
    });
    expect(
      one(resources, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "dumps").inputs.rules,
    ).toEqual([
      {
        id: "retention",
        status: "Enabled",
        filter: {},
        expiration: { days: 30 },
        noncurrentVersionExpiration: { noncurrentDays: 7 },
        abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
      },
    ]);
    expect(one(resources, "aws:s3/bucketLogging:BucketLogging", "dumps").inputs).toEqual({
      bucket: name,
      targetBucket: "log-bucket",
      targetPrefix: "s3/dumps/",
    });
    expect(policyOf(one(resources, "aws:s3/bucketPolicy:BucketPolicy", "dumps")).Statement).toEqual([
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [`arn:aws:s3:::${name}`, `arn:aws:s3:::${name}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ]);
  });

  test("keeps current objects when no expiry is set, and declares no logging for a log bucket", async () => {
    const resources = await recordResources();
    new SecureBucket("logs", { purpose: "logs", encryption: "s3-managed", protect: false });
    await settle();
    const rule = (
      one(resources, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "logs").inputs.rules as Array<
        Record<string, unknown>
      >
    )[0]!;
    expect(rule.expiration).toBeUndefined();
    expect(rule.noncurrentVersionExpiration).toEqual({ noncurrentDays: 30 });
    expect(ofType(resources, "aws:s3/bucketLogging:BucketLogging")).toEqual([]);
    expect(one(resources, "aws:s3/bucket:Bucket", "logs").protect).toBe(false);
  });

  test("logs a log bucket's own access to a sink declared after it, as accessLogs would", async () => {
    const resources = await recordResources();
    const logs = new SecureBucket("alb-logs", { purpose: "alb-logs", encryption: "s3-managed", protect: false });
    logs.logAccessTo("access-log-sink", "alb-logs/");
    await settle();
    const logging = one(resources, "aws:s3/bucketLogging:BucketLogging", "alb-logs");
    expect(logging.inputs).toEqual({
      bucket: idOf(one(resources, "aws:s3/bucket:Bucket", "alb-logs")),
      targetBucket: "access-log-sink",
      targetPrefix: "alb-logs/",
    });
    expect(logging.parent).toBe(one(resources, "opsbook:storage:SecureBucket", "alb-logs").urn);
  });

  test("rejects a retention of zero days", async () => {
    await recordResources();
    expect(
      () => new SecureBucket("bad", { purpose: "x", encryption: "s3-managed", protect: false, expireAfterDays: 0 }),
    ).toThrow("expireAfterDays must be a whole number of days of at least 1, got 0");
  });
});
