/**
 * Rules about capacity: fewer tasks, replicas or cache nodes than before, or a standby dropped.
 * They apply to every stack: lowering a stack on purpose is what the approval label is for.
 */
import { at, show } from "../values";
import { decreased, isModified, type Rule, sides, turnedOff } from "./rule";

/** Counts whose decrease lowers capacity, by type, as input paths. */
const COUNTS: Readonly<Record<string, readonly string[]>> = {
  "aws:ecs/service:Service": ["desiredCount"],
  "aws:appautoscaling/target:Target": ["minCapacity"],
  "aws:elasticache/replicationGroup:ReplicationGroup": ["numCacheClusters", "numNodeGroups", "replicasPerNodeGroup"],
  "aws:rds/cluster:Cluster": ["serverlessv2ScalingConfiguration.minCapacity"],
  "kubernetes:apps/v1:Deployment": ["spec.replicas"],
  "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": ["spec.minReplicas"],
};

/** Failover flags whose loss leaves one zone's worth of capacity, by type. */
const STANDBYS: Readonly<Record<string, readonly string[]>> = {
  "aws:rds/instance:Instance": ["multiAz"],
  "aws:elasticache/replicationGroup:ReplicationGroup": ["multiAzEnabled", "automaticFailoverEnabled"],
};

const fewer: Rule = (change) => {
  if (!isModified(change)) return [];
  const { b, a } = sides(change);
  return (COUNTS[change.type] ?? []).flatMap((path) => {
    const lower = decreased(at(b, path), at(a, path));
    return lower ? [{ kind: "capacity-lowered" as const, detail: `${path} ${lower.from} → ${lower.to}` }] : [];
  });
};

const standbyDropped: Rule = (change) => {
  if (!isModified(change)) return [];
  const { b, a } = sides(change);
  // multiAz is computed by the provider (unset keeps it); the ElastiCache flags default to false.
  return (STANDBYS[change.type] ?? [])
    .filter((key) => turnedOff(b[key], a[key], key !== "multiAz"))
    .map((key) => ({ kind: "capacity-lowered" as const, detail: `${key} ${show(b[key])} → ${show(a[key])}` }));
};

export const CAPACITY_RULES: readonly Rule[] = [fewer, standbyDropped];
