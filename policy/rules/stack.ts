/**
 * Stateful resources (data and the keys that decrypt it): Pulumi `protect` so no update deletes
 * them, and a way back if one is deleted anyway (final snapshot, no force-destroy, recovery window).
 *
 * CrossGuard shows a policy a resource's `protect` but not its `retainOnDelete` (the analyzer
 * protocol does not carry it), so keeping data on delete is checked on the resource's own
 * properties.
 */
import type * as aws from "@pulumi/aws";
import type { Unwrap } from "@pulumi/pulumi";
import { PROTECTED_TYPES, statefulType } from "../../lib/stateful";
import { type OpsbookPolicy, dayCount, resourceRule, show } from "./common";

const kindOf = (type: string): string => statefulType(type)?.kind ?? "Resource";

export const statefulResourceProtected = resourceRule<Record<string, unknown>, { types: string[] }>({
  name: "stateful-resource-protected",
  description:
    "Every stateful resource (database, table, cache, bucket, file system, volume, KMS key, secret) carries Pulumi `protect`, so no update or destroy deletes it.",
  enforcementLevel: "mandatory",
  severity: "critical",
  sources: ["runbook 003"],
  types: (config) => config.types,
  kind: kindOf,
  remediationSteps:
    "Pass { protect: true } to the resource (components take it from opsbook:protect in the stack file).",
  config: {
    types: {
      type: "array",
      items: { type: "string" },
      default: [...PROTECTED_TYPES],
      description: "Type tokens of the stateful resources.",
    },
  },
  check: ({ opts, report }) => {
    if (opts.protect !== true)
      report(
        "protect (resource option)",
        show(opts.protect),
        "true",
        "pass { protect: true } (pulumi config set 'opsbook:protect' true); to replace or delete it later, unprotect it first with `pulumi state unprotect`",
      );
  },
});

type Props = Record<string, unknown>;

/** What each stateful type needs so that its data survives a delete, as [property, found, required, fix] when it does not. */
const KEEPS_DATA: Record<
  string,
  (props: Props, config: { minimumKeyDeletionWindowDays: number }) => Array<[string, string, string, string]>
> = {
  "aws:rds/instance:Instance": snapshotOnDelete,
  "aws:rds/cluster:Cluster": snapshotOnDelete,
  "aws:elasticache/replicationGroup:ReplicationGroup": (p) =>
    p.finalSnapshotIdentifier
      ? []
      : [
          [
            "finalSnapshotIdentifier",
            "not set",
            "a snapshot name taken when the group is deleted",
            "set finalSnapshotIdentifier",
          ],
        ],
  "aws:elasticache/cluster:Cluster": (p) =>
    p.finalSnapshotIdentifier
      ? []
      : [
          [
            "finalSnapshotIdentifier",
            "not set",
            "a snapshot name taken when the cluster is deleted",
            "set finalSnapshotIdentifier",
          ],
        ],
  "aws:s3/bucket:Bucket": forceDestroy,
  "aws:s3/bucketV2:BucketV2": forceDestroy,
  "aws:kms/key:Key": (p, config) => {
    const days = (p as Unwrap<aws.kms.KeyArgs>).deletionWindowInDays;
    return days !== undefined && days < config.minimumKeyDeletionWindowDays
      ? [
          [
            "deletionWindowInDays",
            show(days),
            `at least ${dayCount(config.minimumKeyDeletionWindowDays)} (30 when unset)`,
            `set deletionWindowInDays: ${config.minimumKeyDeletionWindowDays} or more, so a scheduled deletion can be cancelled`,
          ],
        ]
      : [];
  },
  "aws:secretsmanager/secret:Secret": (p) =>
    (p as Unwrap<aws.secretsmanager.SecretArgs>).recoveryWindowInDays === 0
      ? [
          [
            "recoveryWindowInDays",
            "0 (deleted at once)",
            "7 to 30 days (30 when unset)",
            "remove recoveryWindowInDays: 0",
          ],
        ]
      : [],
};

function snapshotOnDelete(p: Props): Array<[string, string, string, string]> {
  const props = p as Unwrap<aws.rds.InstanceArgs>;
  // A read replica's data is its source's, whose final snapshot keeps it; RDS refuses a final
  // snapshot of a replica (DeleteDBInstance: FinalDBSnapshotIdentifier) (R-db-read-replicas).
  if (props.replicateSourceDb) return [];
  if (props.skipFinalSnapshot === true)
    return [
      [
        "skipFinalSnapshot",
        "true",
        "false, with finalSnapshotIdentifier set",
        "set skipFinalSnapshot: false and finalSnapshotIdentifier",
      ],
    ];
  if (!props.finalSnapshotIdentifier)
    return [
      [
        "finalSnapshotIdentifier",
        "not set",
        "a snapshot name taken when the database is deleted (RDS refuses the delete without one)",
        'set finalSnapshotIdentifier, e.g. "<name>-final"',
      ],
    ];
  return [];
}

function forceDestroy(p: Props): Array<[string, string, string, string]> {
  return p.forceDestroy === true
    ? [
        [
          "forceDestroy",
          "true",
          "false or unset, so a bucket with objects is never deleted by an update",
          "remove forceDestroy: true",
        ],
      ]
    : [];
}

export const statefulResourceKeepsData = resourceRule<Props, { minimumKeyDeletionWindowDays: number }>({
  name: "stateful-resource-keeps-data-on-delete",
  description:
    "Deleting a stateful resource keeps a way back: databases and caches take a final snapshot, buckets are never force-destroyed, keys and secrets keep a recovery window.",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["runbook 001"],
  types: Object.keys(KEEPS_DATA),
  kind: kindOf,
  remediationSteps:
    "Databases and caches: skipFinalSnapshot false and finalSnapshotIdentifier. Buckets: no forceDestroy. KMS keys: deletionWindowInDays at the minimum or more. Secrets: no recoveryWindowInDays 0.",
  config: {
    minimumKeyDeletionWindowDays: {
      type: "integer",
      minimum: 7,
      maximum: 30,
      default: 30,
      description: "Fewest days a scheduled KMS key deletion can still be cancelled.",
    },
  },
  check: ({ type, props, report }, config) => {
    for (const [property, found, required, fix] of KEEPS_DATA[type]!(props, config))
      report(property, found, required, fix);
  },
});

export const statefulPolicies: OpsbookPolicy[] = [statefulResourceProtected, statefulResourceKeepsData];
