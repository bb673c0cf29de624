/**
 * Hand-written plans for the diff tests: a resource is a type, a name and its inputs; the URN is
 * derived the way Pulumi derives it for a resource without a parent.
 */
import type { PlanLike } from "../../../tools/diff/compare";
import { comparePlans } from "../../../tools/diff/compare";
import type { DiffReport, ResourceState } from "../../../tools/diff/model";
import { buildReport } from "../../../tools/diff/report";

export const STACK = "production";

export function urnOf(type: string, name: string): string {
  return `urn:pulumi:${STACK}::opsbook::${type}::${name}`;
}

export function resource(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  options: { protect?: boolean; retainOnDelete?: boolean } = {},
): ResourceState {
  return {
    urn: urnOf(type, name),
    type,
    name,
    custom: true,
    protect: options.protect ?? false,
    retainOnDelete: options.retainOnDelete ?? false,
    inputs,
  };
}

export function plan(...resources: ResourceState[]): PlanLike {
  return { stack: STACK, project: "opsbook", resources };
}

/** The report of base -> head, as `npm run diff -- --base-plan --head-plan` builds it. */
export function diff(base: ResourceState[], head: ResourceState[]): DiffReport {
  return buildReport({
    stack: STACK,
    project: "opsbook",
    source: "plan",
    ...comparePlans(plan(...base), plan(...head)),
  });
}

/** The risks of one resource changed from `before` to `after` inputs, as [kind, detail] pairs. */
export function risksOf(
  type: string,
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown> | undefined,
): Array<[string, string]> {
  const base = before ? [resource(type, "r", before)] : [];
  const head = after ? [resource(type, "r", after)] : [];
  return diff(base, head).risks.map((r) => [r.kind, r.detail]);
}

export const RDS = "aws:rds/instance:Instance";
export const REDIS = "aws:elasticache/replicationGroup:ReplicationGroup";
export const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
export const LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup";

/** The production database as the postgres component declares it, reduced to what the rules read. */
export const database = {
  identifier: "production-postgres",
  engine: "postgres",
  engineVersion: "16",
  instanceClass: "db.m7g.large",
  storageEncrypted: true,
  kmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/data-key",
  publiclyAccessible: false,
  multiAz: true,
  deletionProtection: true,
  skipFinalSnapshot: false,
  finalSnapshotIdentifier: "production-postgres-final",
  backupRetentionPeriod: 30,
  backupWindow: "02:00-03:00",
  maintenanceWindow: "sun:04:00-sun:05:00",
  tags: { service: "postgres" },
};

export const cache = {
  replicationGroupId: "production-redis",
  engine: "redis",
  engineVersion: "7.1",
  nodeType: "cache.m7g.large",
  numCacheClusters: 2,
  multiAzEnabled: true,
  automaticFailoverEnabled: true,
  atRestEncryptionEnabled: true,
  transitEncryptionEnabled: true,
  kmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/data-key",
  subnetGroupName: "production-redis-subnets",
  snapshotRetentionLimit: 7,
  snapshotWindow: "03:00-04:00",
};

/** The API's 5xx alarm at the critical level. */
export const errorAlarm = {
  alarmName: "production-api-5xx-critical",
  comparisonOperator: "GreaterThanThreshold",
  threshold: 5,
  evaluationPeriods: 3,
  datapointsToAlarm: 2,
  period: 60,
  metricName: "HTTPCode_Target_5XX_Count",
  namespace: "AWS/ApplicationELB",
  statistic: "Sum",
  treatMissingData: "missing",
  alarmActions: ["arn:aws:sns:eu-west-1:123456789012:production-critical"],
  okActions: ["arn:aws:sns:eu-west-1:123456789012:production-critical"],
};
