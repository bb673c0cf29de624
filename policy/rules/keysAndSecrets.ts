/**
 * Customer-managed keys wherever data rests, and database passwords that never pass through the
 * program: RDS manages the master password in Secrets Manager (R-secret-db-credentials, R-secret-storage).
 * The per-service rules (`rds-storage-encrypted`, `elasticache-encrypted-at-rest`,
 * `cloudwatch-log-group-encrypted`, `s3-encrypted-with-kms`) report a key that is not set; this one
 * reports AWS-managed keys (`alias/aws/...`) there, and missing keys where no other rule looks.
 */
import type * as aws from "@pulumi/aws";
import type { Unwrap } from "@pulumi/pulumi";
import { type OpsbookPolicy, resourceRule, show } from "./common";
import { RDS_INSTANCE } from "./rds";

/** True for a reference to an AWS-managed key: "alias/aws/s3", "arn:aws:kms:...:alias/aws/rds". */
export function isAwsManagedKey(value: unknown): boolean {
  return typeof value === "string" && /(^|:)alias\/aws\//.test(value);
}

type Props = Record<string, unknown>;

/** For each type: the key properties to check, and whether an unset one is this rule's to report. */
interface KeyProperty {
  path: string;
  get: (p: Props) => unknown;
  /** Checked only when this holds (e.g. Performance Insights on). @default always */
  when?: (p: Props) => boolean;
  /** An unset key is reported here (no other rule does). */
  required: boolean;
}

const KEYS: Record<string, { kind: string; keys: KeyProperty[] }> = {
  [RDS_INSTANCE]: {
    kind: "RDS instance",
    keys: [
      { path: "kmsKeyId", get: (p) => p.kmsKeyId, required: false },
      {
        path: "performanceInsightsKmsKeyId",
        get: (p) => p.performanceInsightsKmsKeyId,
        when: (p) => p.performanceInsightsEnabled === true,
        required: false,
      },
      {
        path: "masterUserSecretKmsKeyId",
        get: (p) => p.masterUserSecretKmsKeyId,
        when: (p) => p.manageMasterUserPassword === true,
        required: true,
      },
    ],
  },
  "aws:rds/cluster:Cluster": {
    kind: "RDS cluster",
    keys: [
      { path: "kmsKeyId", get: (p) => p.kmsKeyId, required: true },
      {
        path: "masterUserSecretKmsKeyId",
        get: (p) => p.masterUserSecretKmsKeyId,
        when: (p) => p.manageMasterUserPassword === true,
        required: true,
      },
    ],
  },
  "aws:elasticache/replicationGroup:ReplicationGroup": {
    kind: "ElastiCache replication group",
    keys: [{ path: "kmsKeyId", get: (p) => p.kmsKeyId, required: false }],
  },
  "aws:sns/topic:Topic": {
    kind: "SNS topic",
    keys: [{ path: "kmsMasterKeyId", get: (p) => p.kmsMasterKeyId, required: true }],
  },
  "aws:secretsmanager/secret:Secret": {
    kind: "Secrets Manager secret",
    keys: [{ path: "kmsKeyId", get: (p) => p.kmsKeyId, required: true }],
  },
  "aws:cloudwatch/logGroup:LogGroup": {
    kind: "Log group",
    keys: [{ path: "kmsKeyId", get: (p) => p.kmsKeyId, required: false }],
  },
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": {
    kind: "S3 bucket encryption",
    keys: [0, 1, 2, 3].map((i) => ({
      path: `rules[${i}].applyServerSideEncryptionByDefault.kmsMasterKeyId`,
      get: (p: Props) =>
        (p as Unwrap<aws.s3.BucketServerSideEncryptionConfigurationArgs>).rules?.[i]?.applyServerSideEncryptionByDefault
          ?.kmsMasterKeyId,
      required: false,
    })),
  },
};

export const kmsCustomerManagedKeys = resourceRule<Props>({
  name: "kms-customer-managed-keys",
  description:
    "Databases, caches, topics, secrets, log groups and buckets are encrypted with customer-managed KMS keys, never the AWS-managed ones (alias/aws/...), whose policy the stack cannot scope.",
  enforcementLevel: "mandatory",
  severity: "medium",
  sources: ["CKV_AWS_149", "CKV_AWS_26", "CKV_AWS_158", "SNS.1", "runbook 003"], // R-secret-storage, R-backup-encryption
  types: Object.keys(KEYS),
  kind: (type) => KEYS[type]?.kind ?? "Resource",
  preview:
    "a KMS key created in the same update has no ARN yet; the engine then reports this rule as advisory until the update.",
  remediationSteps:
    "Set the key property to the ARN of one of the stack's keys (components/security/encryptionKey.ts), with a key policy for the service that uses it.",
  check: ({ type, props, report }) => {
    for (const key of KEYS[type]!.keys) {
      if (key.when && !key.when(props)) continue;
      const value = key.get(props);
      if (isAwsManagedKey(value))
        report(
          key.path,
          `${show(value)} (AWS-managed)`,
          "the ARN of a customer-managed KMS key",
          "set it to one of the stack's keys' ARN",
        );
      else if (key.required && (value === undefined || value === ""))
        report(
          key.path,
          "not set (the AWS-managed key)",
          "the ARN of a customer-managed KMS key",
          "set it to one of the stack's keys' ARN",
        );
    }
  },
});

export const rdsManagedPassword = resourceRule<Props>({
  name: "rds-managed-password",
  description:
    "No database master password is written in the program or its state: RDS generates and rotates it in Secrets Manager (manageMasterUserPassword).",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["runbook 003"], // R-secret-db-credentials
  types: [RDS_INSTANCE, "aws:rds/cluster:Cluster"],
  kind: (type) => (type === RDS_INSTANCE ? "RDS instance" : "RDS cluster"),
  remediationSteps:
    "Remove password / masterPassword and set manageMasterUserPassword: true with masterUserSecretKmsKeyId; apps read the secret RDS keeps.",
  check: ({ type, props, report }) => {
    const key = type === RDS_INSTANCE ? "password" : "masterPassword";
    const restored = props.snapshotIdentifier !== undefined || props.replicateSourceDb !== undefined;
    if (props[key] !== undefined)
      report(
        key,
        props[key] === "[secret]" ? "set (a secret, but kept in the stack's state)" : "set in plain text",
        "unset, with manageMasterUserPassword: true",
        `remove ${key} and set manageMasterUserPassword: true`,
      );
    else if (props.manageMasterUserPassword !== true && !restored)
      report(
        "manageMasterUserPassword",
        show(props.manageMasterUserPassword),
        "true",
        "set manageMasterUserPassword: true (and masterUserSecretKmsKeyId to the database key)",
      );
  },
});

export const keyAndSecretPolicies: OpsbookPolicy[] = [kmsCustomerManagedKeys, rdsManagedPassword];
