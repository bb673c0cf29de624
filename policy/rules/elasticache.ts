/**
 * Redis (or Valkey) on ElastiCache replication groups: encrypted at rest and in transit with auth,
 * failing over across zones, snapshotted, and kept in the stack's own subnets.
 */
import type * as aws from "@pulumi/aws";
import type { Unwrap } from "@pulumi/pulumi";
import { type OpsbookPolicy, dayCount, resourceRule, show } from "./common";

export const REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup";

type ReplicationGroup = Unwrap<aws.elasticache.ReplicationGroupArgs>;

function groupRule<C = Record<string, never>>(
  meta: Omit<Parameters<typeof resourceRule<ReplicationGroup, C>>[0], "types" | "kind">,
): OpsbookPolicy {
  return resourceRule<ReplicationGroup, C>({
    ...meta,
    types: [REPLICATION_GROUP],
    kind: "ElastiCache replication group",
  });
}

export const elasticacheEncryptedAtRest = groupRule({
  name: "elasticache-encrypted-at-rest",
  description:
    "Every ElastiCache replication group encrypts its data and snapshots at rest with a customer-managed KMS key.",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["CKV_AWS_29", "CKV_AWS_191", "ElastiCache.4"],
  preview:
    "a KMS key created in the same update has no ARN yet; the engine then reports this rule as advisory until the update.",
  remediationSteps:
    "Set atRestEncryptionEnabled: true and kmsKeyId to the stack's cache key (changing either replaces the group: restore from a snapshot).",
  check: ({ props, report }) => {
    if (props.atRestEncryptionEnabled !== true)
      report(
        "atRestEncryptionEnabled",
        show(props.atRestEncryptionEnabled),
        "true",
        "set atRestEncryptionEnabled: true and kmsKeyId (this replaces the group; seed it from a snapshot)",
      );
    else if (!props.kmsKeyId)
      report(
        "kmsKeyId",
        "not set (the AWS-managed key)",
        "a customer-managed KMS key ARN",
        "set kmsKeyId to the stack's cache key ARN",
      );
  },
});

export const elasticacheEncryptedInTransit = groupRule({
  name: "elasticache-encrypted-in-transit",
  description:
    "Every ElastiCache replication group requires TLS and authenticates clients (an AUTH token or RBAC user groups).",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["CKV_AWS_30", "CKV_AWS_31", "ElastiCache.5", "runbook 003"], // R-cache-tls
  remediationSteps:
    'Set transitEncryptionEnabled: true (mode "required") and authToken from Secrets Manager, or userGroupIds; clients connect with rediss://.',
  check: ({ props, report }) => {
    if (props.transitEncryptionEnabled !== true)
      report(
        "transitEncryptionEnabled",
        show(props.transitEncryptionEnabled),
        "true",
        "set transitEncryptionEnabled: true and connect with rediss://",
      );
    else if (props.transitEncryptionMode === "preferred")
      report(
        "transitEncryptionMode",
        '"preferred" (plain-text connections still accepted)',
        '"required"',
        'set transitEncryptionMode: "required" once every client uses TLS',
      );
    if (!props.authToken && !props.authTokenWo && (props.userGroupIds ?? []).length === 0) {
      report(
        "authToken",
        "not set, and no userGroupIds",
        "an AUTH token (at least 16 characters, kept in Secrets Manager) or RBAC user groups",
        "generate a token with @pulumi/random, store it in Secrets Manager and set authToken",
      );
    }
  },
});

/** Nodes a replication group runs: numCacheClusters, or shards times (1 + replicas) in cluster mode. */
function nodeCount(props: ReplicationGroup): number | undefined {
  if (typeof props.numCacheClusters === "number") return props.numCacheClusters;
  if (typeof props.replicasPerNodeGroup === "number")
    return (props.numNodeGroups ?? 1) * (1 + props.replicasPerNodeGroup);
  return undefined;
}

export const elasticacheFailover = groupRule({
  name: "elasticache-failover",
  description:
    "Every ElastiCache replication group runs a replica in another zone with Multi-AZ and automatic failover.",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["CKV2_AWS_50", "ElastiCache.3"],
  remediationSteps:
    "Run at least 2 nodes (redis.nodes) and set automaticFailoverEnabled: true and multiAzEnabled: true (redis.multiAz).",
  check: ({ props, report }) => {
    const nodes = nodeCount(props);
    if (nodes === undefined || nodes < 2)
      report(
        "numCacheClusters",
        nodes === undefined ? "not set (1 node)" : show(nodes),
        "at least 2 (a primary and a replica)",
        "set numCacheClusters: 2 or more (pulumi config set --path 'opsbook:redis.nodes' 2)",
      );
    if (props.automaticFailoverEnabled !== true)
      report(
        "automaticFailoverEnabled",
        show(props.automaticFailoverEnabled),
        "true",
        "set automaticFailoverEnabled: true",
      );
    if (props.multiAzEnabled !== true)
      report(
        "multiAzEnabled",
        show(props.multiAzEnabled),
        "true",
        "set multiAzEnabled: true (pulumi config set --path 'opsbook:redis.multiAz' true)",
      );
  },
});

export const elasticacheSnapshots = groupRule<{ minimumRetentionDays: number }>({
  name: "elasticache-snapshots",
  description: "Every ElastiCache replication group keeps daily snapshots for at least the configured days.",
  enforcementLevel: "mandatory",
  severity: "medium",
  sources: ["ElastiCache.1"],
  remediationSteps: "Set snapshotRetentionLimit (redis.snapshotRetentionDays) and snapshotWindow.",
  config: {
    minimumRetentionDays: {
      type: "integer",
      minimum: 1,
      maximum: 35,
      default: 1,
      description: "Fewest days of automatic snapshots.",
    },
  },
  check: ({ props, report }, config) => {
    const days = props.snapshotRetentionLimit;
    if (typeof days !== "number" || days < config.minimumRetentionDays) {
      report(
        "snapshotRetentionLimit",
        days === undefined ? "not set (no automatic snapshots)" : show(days),
        `at least ${dayCount(config.minimumRetentionDays)}`,
        `set snapshotRetentionLimit: ${config.minimumRetentionDays} or more (pulumi config set --path 'opsbook:redis.snapshotRetentionDays' ${config.minimumRetentionDays})`,
      );
    }
  },
});

export const elasticacheAutoMinorUpgrade = groupRule({
  name: "elasticache-auto-minor-upgrade",
  description: "Every ElastiCache replication group takes minor engine upgrades in its maintenance window.",
  enforcementLevel: "mandatory",
  severity: "medium",
  sources: ["ElastiCache.2"],
  remediationSteps: "Leave autoMinorVersionUpgrade unset or set it to true.",
  check: ({ props, report }) => {
    if (props.autoMinorVersionUpgrade === false)
      report("autoMinorVersionUpgrade", "false", "true (the default)", "remove autoMinorVersionUpgrade: false");
  },
});

export const elasticacheOwnSubnetGroup = groupRule({
  name: "elasticache-own-subnet-group",
  description:
    "Every ElastiCache replication group runs in a subnet group of the stack's isolated subnets, not the default VPC.",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["ElastiCache.7"],
  remediationSteps: "Declare an aws.elasticache.SubnetGroup over the isolated subnets and set subnetGroupName to it.",
  check: ({ props, report }) => {
    if (!props.subnetGroupName)
      report(
        "subnetGroupName",
        "not set (the default VPC's default subnet group)",
        "a subnet group of the isolated subnets",
        "set subnetGroupName to the stack's cache subnet group",
      );
  },
});

export const elasticachePolicies: OpsbookPolicy[] = [
  elasticacheEncryptedAtRest,
  elasticacheEncryptedInTransit,
  elasticacheFailover,
  elasticacheSnapshots,
  elasticacheAutoMinorUpgrade,
  elasticacheOwnSubnetGroup,
];
