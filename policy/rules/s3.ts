/**
 * S3 buckets and their companion resources. Since @pulumi/aws 7 a bucket's settings live in
 * separate resources (BucketVersioning, BucketPublicAccessBlock, ...), so these are stack rules: a
 * companion belongs to a bucket when its `bucket` input is that bucket's name (or id, the same
 * thing for S3). The deprecated `...V2` type tokens count as well.
 */
import type * as aws from "@pulumi/aws";
import type { PolicyResource } from "@pulumi/policy";
import type { Unwrap } from "@pulumi/pulumi";
import {
  type OpsbookPolicy,
  type Outputs,
  type RuleMeta,
  asList,
  idSet,
  message,
  ofTypes,
  policyDocument,
  show,
  stackRule,
  statements,
} from "./common";
import { LOAD_BALANCERS } from "./alb";

export const BUCKETS = ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"] as const;
export const S3 = {
  publicAccessBlock: ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"],
  encryption: [
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
  ],
  versioning: ["aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"],
  policy: ["aws:s3/bucketPolicy:BucketPolicy"],
  lifecycle: [
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
  ],
  logging: ["aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2"],
  ownership: ["aws:s3/bucketOwnershipControls:BucketOwnershipControls"],
} as const;

const COMPANION_PREVIEW =
  "a companion's `bucket` that names a bucket created in the same update is unknown; the engine then reports this rule as advisory until the update.";

/** A bucket of the stack with the names it answers to and the companions of one kind that name it. */
interface BucketAndCompanions<P> {
  bucket: PolicyResource;
  ids: Set<string>;
  companions: P[];
}

/** Each bucket with its companions of the given types. */
export function bucketsWith<P>(
  resources: PolicyResource[],
  companionTypes: readonly string[],
): BucketAndCompanions<P>[] {
  const companions = ofTypes(resources, companionTypes);
  return ofTypes(resources, BUCKETS).map((bucket) => {
    const props = bucket.props as Outputs<aws.s3.BucketState>;
    const ids = idSet(props.bucket, props.id);
    return {
      bucket,
      ids,
      companions: companions
        .filter((c) => ids.has((c.props as { bucket?: string }).bucket ?? ""))
        .map((c) => c.props as P),
    };
  });
}

/** Names of buckets that receive logs from ELB or S3 server access logging, which cannot use SSE-KMS. */
function logTargets(resources: PolicyResource[]): Set<string> {
  const names = new Set<string>();
  for (const lb of ofTypes(resources, LOAD_BALANCERS)) {
    const bucket = (lb.props as Unwrap<aws.lb.LoadBalancerArgs>).accessLogs?.bucket;
    if (bucket) names.add(bucket);
  }
  for (const logging of ofTypes(resources, S3.logging)) {
    const target = (logging.props as Unwrap<aws.s3.BucketLoggingArgs>).targetBucket;
    if (target) names.add(target);
  }
  return names;
}

/**
 * A rule that every bucket has a companion of the given types meeting `ok`; `explain` says what was
 * found on the closest companion when none meets it.
 */
function companionRule<P>(
  meta: Omit<RuleMeta, "config"> & {
    companionTypes: readonly string[];
    required: string;
    fix: string;
    ok: (companion: P) => boolean;
    explain: (companion: P) => string;
    /** Buckets the rule skips, given every resource of the stack. */
    exempt?: (resources: PolicyResource[], ids: Set<string>) => boolean;
  },
): OpsbookPolicy {
  const { companionTypes, required, fix, ok, explain, exempt, ...rest } = meta;
  return stackRule({
    ...rest,
    check: (resources, _config, report) => {
      for (const { bucket, ids, companions } of bucketsWith<P>(resources, companionTypes)) {
        if (exempt?.(resources, ids) || companions.some(ok)) continue;
        const property = companionTypes[0]!.split(":")[2]!;
        const found =
          companions.length === 0 ? `missing (no ${companionTypes[0]} names this bucket)` : explain(companions[0]!);
        report(bucket, message(`S3 bucket "${bucket.name}"`, property, found, required, fix));
      }
    },
  });
}

type PublicAccessBlock = Unwrap<aws.s3.BucketPublicAccessBlockArgs>;
const BLOCK_FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;

export const s3PublicAccessBlocked = companionRule<PublicAccessBlock>({
  name: "s3-public-access-blocked",
  description: "Every S3 bucket has a public access block with all four flags on.",
  enforcementLevel: "mandatory",
  severity: "critical",
  sources: ["CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56", "S3.1", "S3.8"],
  preview: COMPANION_PREVIEW,
  remediationSteps:
    "Declare aws.s3.BucketPublicAccessBlock for the bucket with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true.",
  companionTypes: S3.publicAccessBlock,
  required: "blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true",
  fix: "declare aws.s3.BucketPublicAccessBlock { bucket: <bucket>.id } with the four flags true",
  ok: (block) => BLOCK_FLAGS.every((flag) => block[flag] === true),
  explain: (block) => `present with ${BLOCK_FLAGS.filter((flag) => block[flag] !== true).join(", ")} not true`,
});

type Encryption = Unwrap<aws.s3.BucketServerSideEncryptionConfigurationArgs>;

function defaultEncryption(sse: Encryption) {
  return (sse.rules ?? []).map((r) => ({
    algorithm: r.applyServerSideEncryptionByDefault?.sseAlgorithm,
    key: r.applyServerSideEncryptionByDefault?.kmsMasterKeyId,
    bucketKey: r.bucketKeyEnabled,
  }));
}

export const s3EncryptedWithKms = stackRule({
  name: "s3-encrypted-with-kms",
  description:
    "Every S3 bucket encrypts by default with a customer-managed KMS key and an S3 bucket key; buckets that receive ELB or S3 access logs, which AWS delivers only with SSE-S3, may use AES256.",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["CKV_AWS_19", "CKV_AWS_145", "runbook 001"], // R-backup-encryption
  preview: COMPANION_PREVIEW,
  remediationSteps:
    'Declare aws.s3.BucketServerSideEncryptionConfiguration with rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: <key ARN> }, bucketKeyEnabled: true }].',
  check: (resources, _config, report) => {
    const logBuckets = logTargets(resources);
    for (const { bucket, ids, companions } of bucketsWith<Encryption>(resources, S3.encryption)) {
      const rules = companions.flatMap(defaultEncryption);
      const kms = rules.some(
        (r) =>
          (r.algorithm === "aws:kms" || r.algorithm === "aws:kms:dsse") &&
          !!r.key &&
          (r.algorithm === "aws:kms:dsse" || r.bucketKey === true),
      );
      const logTarget = [...ids].some((id) => logBuckets.has(id));
      if (kms || (logTarget && rules.some((r) => r.algorithm === "AES256"))) continue;
      const found = companions.length === 0 ? `missing (no ${S3.encryption[0]} names this bucket)` : show(rules);
      const required = logTarget
        ? 'sseAlgorithm "AES256" (log delivery does not support SSE-KMS) or "aws:kms" with a key'
        : 'sseAlgorithm "aws:kms" with kmsMasterKeyId set and bucketKeyEnabled: true';
      report(
        bucket,
        message(
          `S3 bucket "${bucket.name}"`,
          "BucketServerSideEncryptionConfiguration",
          found,
          required,
          'declare aws.s3.BucketServerSideEncryptionConfiguration { bucket: <bucket>.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: <key ARN> }, bucketKeyEnabled: true }] }',
        ),
      );
    }
  },
});

type Versioning = Unwrap<aws.s3.BucketVersioningArgs>;

export const s3VersioningEnabled = companionRule<Versioning>({
  name: "s3-versioning-enabled",
  description: "Every S3 bucket keeps object versions, so an overwritten or deleted backup can be recovered.",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["CKV_AWS_21", "S3.14", "runbook 001"], // R-backup-location
  preview: COMPANION_PREVIEW,
  remediationSteps: 'Declare aws.s3.BucketVersioning with versioningConfiguration: { status: "Enabled" }.',
  companionTypes: S3.versioning,
  required: 'versioningConfiguration.status "Enabled"',
  fix: 'declare aws.s3.BucketVersioning { bucket: <bucket>.id, versioningConfiguration: { status: "Enabled" } }',
  ok: (v) => v.versioningConfiguration?.status === "Enabled",
  explain: (v) => `present with status ${show(v.versioningConfiguration?.status)}`,
});

/** Whether a bucket policy denies every request not made over TLS. */
export function deniesInsecureTransport(policy: unknown): boolean {
  return statements(policyDocument(policy)).some((s) => {
    const condition = (s.Condition as Record<string, Record<string, unknown>> | undefined)?.Bool?.[
      "aws:SecureTransport"
    ];
    const principal = s.Principal === "*" || (s.Principal as { AWS?: unknown } | undefined)?.AWS === "*";
    const actions = asList(s.Action);
    return (
      s.Effect === "Deny" &&
      principal &&
      (actions.includes("s3:*") || actions.includes("*")) &&
      asList(condition).some((v) => v === false || v === "false")
    );
  });
}

export const s3TlsOnly = companionRule<Unwrap<aws.s3.BucketPolicyArgs>>({
  name: "s3-tls-only",
  description: "Every S3 bucket's policy denies any request not made over TLS.",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["CKV_AWS_379", "S3.5"],
  preview:
    "a bucket policy built from the ARN of a bucket created in the same update is unknown; the engine then reports this rule as advisory until the update.",
  remediationSteps:
    'Declare aws.s3.BucketPolicy with a statement { Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [bucket ARN, bucket ARN/*], Condition: { Bool: { "aws:SecureTransport": "false" } } }.',
  companionTypes: S3.policy,
  required: 'a Deny of "s3:*" to Principal "*" when aws:SecureTransport is "false"',
  fix: 'add { Effect: "Deny", Principal: "*", Action: "s3:*", Resource: [<bucket ARN>, "<bucket ARN>/*"], Condition: { Bool: { "aws:SecureTransport": "false" } } } to the bucket policy',
  ok: (p) => deniesInsecureTransport(p.policy),
  explain: () => "present without a Deny on aws:SecureTransport = false",
});

type Lifecycle = Unwrap<aws.s3.BucketLifecycleConfigurationArgs>;

export const s3LifecycleConfigured = companionRule<Lifecycle>({
  name: "s3-lifecycle-configured",
  description:
    "Every S3 bucket has an enabled lifecycle rule, so objects (and old versions) expire instead of piling up.",
  enforcementLevel: "mandatory",
  severity: "low",
  sources: ["CKV2_AWS_61", "S3.13", "runbook 001"], // R-backup-retention
  preview: COMPANION_PREVIEW,
  remediationSteps:
    "Declare aws.s3.BucketLifecycleConfiguration with an enabled rule that expires objects and noncurrent versions after the retention period.",
  companionTypes: S3.lifecycle,
  required: 'at least one rule with status "Enabled"',
  fix: 'declare aws.s3.BucketLifecycleConfiguration { bucket: <bucket>.id, rules: [{ id: "expire", status: "Enabled", expiration: { days }, noncurrentVersionExpiration: { noncurrentDays } }] }',
  ok: (l) => (l.rules ?? []).some((r) => r.status === "Enabled"),
  explain: (l) => `present with statuses ${show((l.rules ?? []).map((r) => r.status))}`,
});

type Logging = Unwrap<aws.s3.BucketLoggingArgs>;

export const s3AccessLogging = companionRule<Logging>({
  name: "s3-access-logging",
  description:
    "Every S3 bucket records server access logs in another bucket; a bucket that receives them, or a load balancer's access logs, is exempt.",
  enforcementLevel: "mandatory",
  severity: "low",
  sources: ["CKV_AWS_18", "S3.9"],
  preview: COMPANION_PREVIEW,
  remediationSteps:
    "Declare aws.s3.BucketLogging with targetBucket the stack's access-log bucket and a targetPrefix per bucket.",
  companionTypes: S3.logging,
  required: "a BucketLogging with targetBucket set to another bucket",
  fix: 'declare aws.s3.BucketLogging { bucket: <bucket>.id, targetBucket: <access-log bucket>.id, targetPrefix: "<bucket>/" }',
  ok: (l) => !!l.targetBucket,
  explain: (l) => `present with targetBucket ${show(l.targetBucket)}`,
  // A log bucket of either kind: logging it would log the log deliveries (for the load balancer's,
  // this once held only because both log buckets shared one logical name, so one mock id).
  exempt: (resources, ids) =>
    ofTypes(resources, S3.logging).some((l) => ids.has((l.props as Logging).targetBucket ?? "")) ||
    ofTypes(resources, ["aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"]).some((lb) =>
      ids.has((lb.props as { accessLogs?: { bucket?: string } }).accessLogs?.bucket ?? ""),
    ),
});

type Ownership = Unwrap<aws.s3.BucketOwnershipControlsArgs>;

export const s3AclsDisabled = companionRule<Ownership>({
  name: "s3-acls-disabled",
  description:
    "Every S3 bucket has ACLs disabled (object ownership BucketOwnerEnforced): access is granted by policy only.",
  enforcementLevel: "mandatory",
  severity: "medium",
  sources: ["S3.12"],
  preview: COMPANION_PREVIEW,
  remediationSteps: 'Declare aws.s3.BucketOwnershipControls with rule: { objectOwnership: "BucketOwnerEnforced" }.',
  companionTypes: S3.ownership,
  required: 'rule.objectOwnership "BucketOwnerEnforced"',
  fix: 'declare aws.s3.BucketOwnershipControls { bucket: <bucket>.id, rule: { objectOwnership: "BucketOwnerEnforced" } }',
  ok: (o) => o.rule?.objectOwnership === "BucketOwnerEnforced",
  explain: (o) => `present with objectOwnership ${show(o.rule?.objectOwnership)}`,
});

export const s3Policies: OpsbookPolicy[] = [
  s3PublicAccessBlocked,
  s3EncryptedWithKms,
  s3VersioningEnabled,
  s3TlsOnly,
  s3LifecycleConfigured,
  s3AccessLogging,
  s3AclsDisabled,
];
