import * as ks from "../../rules/keysAndSecrets";
import { RDS_INSTANCE } from "../../rules/rds";
import { changed, violations } from "../helpers";

const KEY = "arn:aws:kms:eu-west-1:123456789012:key/prod-db-key";
const db = {
  identifier: "prod",
  engine: "postgres",
  storageEncrypted: true,
  kmsKeyId: KEY,
  performanceInsightsEnabled: true,
  performanceInsightsKmsKeyId: KEY,
  manageMasterUserPassword: true,
  masterUserSecretKmsKeyId: KEY,
};

describe("kms-customer-managed-keys", () => {
  test("passes customer-managed keys on every type", async () => {
    expect(await violations(ks.kmsCustomerManagedKeys, RDS_INSTANCE, db)).toEqual([]);
    expect(await violations(ks.kmsCustomerManagedKeys, "aws:sns/topic:Topic", { kmsMasterKeyId: KEY })).toEqual([]);
    expect(await violations(ks.kmsCustomerManagedKeys, "aws:secretsmanager/secret:Secret", { kmsKeyId: KEY })).toEqual(
      [],
    );
    expect(
      await violations(
        ks.kmsCustomerManagedKeys,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        { bucket: "logs", rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] },
      ),
    ).toEqual([]);
  });

  test.each([
    ["aws:sns/topic:Topic", "SNS topic", "kmsMasterKeyId", { kmsMasterKeyId: "alias/aws/sns" }],
    [
      "aws:secretsmanager/secret:Secret",
      "Secrets Manager secret",
      "kmsKeyId",
      { kmsKeyId: "alias/aws/secretsmanager" },
    ],
    [
      "aws:cloudwatch/logGroup:LogGroup",
      "Log group",
      "kmsKeyId",
      { kmsKeyId: "arn:aws:kms:eu-west-1:123456789012:alias/aws/logs" },
    ],
    [RDS_INSTANCE, "RDS instance", "kmsKeyId", { ...db, kmsKeyId: "arn:aws:kms:eu-west-1:123456789012:alias/aws/rds" }],
    [
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      "S3 bucket encryption",
      "rules[0].applyServerSideEncryptionByDefault.kmsMasterKeyId",
      { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: "alias/aws/s3" } }] },
    ],
  ])("reports an AWS-managed key on %s", async (type, kind, path, props) => {
    const found = await violations(ks.kmsCustomerManagedKeys, type, props, { name: "x" });
    expect(found).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${kind} "x": ${path.replace(/[.[\]]/g, "\\$&")} is ".*alias/aws/.*" \\(AWS-managed\\); required: the ARN of a customer-managed KMS key`,
        ),
      ),
    ]);
  });

  test("reports a topic, a secret or a managed master password without a key of its own", async () => {
    expect(await violations(ks.kmsCustomerManagedKeys, "aws:sns/topic:Topic", {}, { name: "alerts" })).toEqual([
      "SNS topic \"alerts\": kmsMasterKeyId is not set (the AWS-managed key); required: the ARN of a customer-managed KMS key. Fix: set it to one of the stack's keys' ARN.",
    ]);
    expect(
      await violations(ks.kmsCustomerManagedKeys, RDS_INSTANCE, changed(db, { masterUserSecretKmsKeyId: undefined }), {
        name: "db",
      }),
    ).toEqual([expect.stringContaining('RDS instance "db": masterUserSecretKmsKeyId is not set')]);
  });
});

describe("rds-managed-password", () => {
  test("passes a managed master password and a restore from a snapshot", async () => {
    expect(await violations(ks.rdsManagedPassword, RDS_INSTANCE, db)).toEqual([]);
    expect(
      await violations(
        ks.rdsManagedPassword,
        RDS_INSTANCE,
        changed(db, { manageMasterUserPassword: undefined, snapshotIdentifier: "prod-final" }),
      ),
    ).toEqual([]);
  });

  test("reports a password in plain text, and one passed as a secret, never showing it", async () => {
    const plain = changed(db, { manageMasterUserPassword: undefined, password: "hunter2hunter2" });
    const found = await violations(ks.rdsManagedPassword, RDS_INSTANCE, plain, { name: "db" });
    expect(found).toEqual([
      'RDS instance "db": password is set in plain text; required: unset, with manageMasterUserPassword: true. Fix: remove password and set manageMasterUserPassword: true.',
    ]);
    expect(found[0]).not.toContain("hunter2");
    expect(
      await violations(ks.rdsManagedPassword, "aws:rds/cluster:Cluster", { masterPassword: "[secret]" }, { name: "c" }),
    ).toEqual([
      'RDS cluster "c": masterPassword is set (a secret, but kept in the stack\'s state); required: unset, with manageMasterUserPassword: true. Fix: remove masterPassword and set manageMasterUserPassword: true.',
    ]);
  });

  test("reports an instance that neither sets nor manages a password", async () => {
    expect(
      await violations(ks.rdsManagedPassword, RDS_INSTANCE, changed(db, { manageMasterUserPassword: false }), {
        name: "db",
      }),
    ).toEqual([
      'RDS instance "db": manageMasterUserPassword is false; required: true. Fix: set manageMasterUserPassword: true (and masterUserSecretKmsKeyId to the database key).',
    ]);
  });
});
