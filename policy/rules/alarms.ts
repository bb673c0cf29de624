/**
 * `runbook-alarm-coverage`: every database, cache and service has its threshold alarms (the R-alert-*
 * rows of docs/runbooks.md) at every severity, each with an action.
 *
 * The contract an alarm meets to count (README "Policy pack" has the same, for the components):
 * - it is an aws.cloudwatch.MetricAlarm with alarmActions and actions not disabled;
 * - its severity is its `severity` tag ("warning" or "critical"); without the tag, the `severity`
 *   tag of an SNS topic among its alarmActions;
 * - it watches the family's namespace and one of its metric names, either as the alarm's own
 *   metric or as a metric inside metricQueries (metric math such as 5xx / requests);
 * - that metric's dimensions name the resource:
 *     database  DBInstanceIdentifier = the instance's identifier
 *     cache     ReplicationGroupId = the group's replicationGroupId, or CacheClusterId = one of its
 *               member clusters ("<replicationGroupId>-001", ...)
 *     service   ClusterName = the cluster's name and ServiceName = the service's name
 *     service-target-group  TargetGroup = the arnSuffix of each target group in the service's
 *               loadBalancers (LoadBalancer may be given too; it is not compared)
 * The families (which metrics, for which kind of resource) are the rule's config, so they can change
 * with the runbooks; their `threshold` names the stack config threshold (`opsbook:thresholds.<name>`)
 * the alarms use.
 */
import type * as aws from "@pulumi/aws";
import type { PolicyResource } from "@pulumi/policy";
import type { Unwrap } from "@pulumi/pulumi";
import { type OpsbookPolicy, type Outputs, idSet, message, ofTypes, stackRule } from "./common";
import { METRIC_ALARM } from "./cloudwatch";
import { ECS_CLUSTER, ECS_SERVICE } from "./ecs";
import { REPLICATION_GROUP } from "./elasticache";
import { RDS_INSTANCE } from "./rds";

export const SNS_TOPIC = "aws:sns/topic:Topic";
export const TARGET_GROUPS = ["aws:lb/targetGroup:TargetGroup", "aws:alb/targetGroup:TargetGroup"] as const;

export type AlarmScope = "database" | "cache" | "service" | "service-target-group";

/** A kind of alarm every resource of a scope must have, at every severity. */
export interface AlarmFamily {
  /** Name used in messages, e.g. "database-cpu". */
  name: string;
  scope: AlarmScope;
  namespace: string;
  /** Any of these metric names counts. */
  metricNames: string[];
  /** The stack config threshold (`thresholds.<name>`) the alarms are set at. */
  threshold: string;
}

/**
 * The alert thresholds as alarm families: R-alert-cpu, R-alert-db-connections, R-alert-disk,
 * R-alert-memory, R-alert-cache-hit, R-alert-error-rate, R-alert-latency-p95.
 */
export const DEFAULT_FAMILIES: AlarmFamily[] = [
  {
    name: "database-cpu",
    scope: "database",
    namespace: "AWS/RDS",
    metricNames: ["CPUUtilization"],
    threshold: "cpuPercent",
  },
  {
    name: "database-connections",
    scope: "database",
    namespace: "AWS/RDS",
    metricNames: ["DatabaseConnections"],
    threshold: "dbConnectionsPercent",
  },
  {
    name: "database-storage",
    scope: "database",
    namespace: "AWS/RDS",
    metricNames: ["FreeStorageSpace"],
    threshold: "diskPercent",
  },
  {
    name: "cache-cpu",
    scope: "cache",
    namespace: "AWS/ElastiCache",
    metricNames: ["EngineCPUUtilization", "CPUUtilization"],
    threshold: "cpuPercent",
  },
  {
    name: "cache-memory",
    scope: "cache",
    namespace: "AWS/ElastiCache",
    metricNames: ["DatabaseMemoryUsagePercentage"],
    threshold: "memoryPercent",
  },
  {
    name: "cache-hit-rate",
    scope: "cache",
    namespace: "AWS/ElastiCache",
    metricNames: ["CacheHitRate", "CacheHits"],
    threshold: "cacheHitRatePercent",
  },
  {
    name: "service-cpu",
    scope: "service",
    namespace: "AWS/ECS",
    metricNames: ["CPUUtilization"],
    threshold: "cpuPercent",
  },
  {
    name: "service-memory",
    scope: "service",
    namespace: "AWS/ECS",
    metricNames: ["MemoryUtilization"],
    threshold: "memoryPercent",
  },
  {
    name: "http-error-rate",
    scope: "service-target-group",
    namespace: "AWS/ApplicationELB",
    metricNames: ["HTTPCode_Target_5XX_Count"],
    threshold: "httpErrorRatePercent",
  },
  {
    name: "response-time",
    scope: "service-target-group",
    namespace: "AWS/ApplicationELB",
    metricNames: ["TargetResponseTime"],
    threshold: "responseTimeP95Ms",
  },
];

/** One metric an alarm reads. */
export interface MetricRef {
  namespace?: string;
  metricName?: string;
  dimensions: Record<string, string>;
}

type Alarm = Unwrap<aws.cloudwatch.MetricAlarmState>;

/** The metrics an alarm reads: its own, and each metric inside its metric math. */
export function metricsOf(alarm: Alarm): MetricRef[] {
  const own = alarm.metricName
    ? [{ namespace: alarm.namespace, metricName: alarm.metricName, dimensions: alarm.dimensions ?? {} }]
    : [];
  const queried = (alarm.metricQueries ?? []).flatMap((q) =>
    q.metric
      ? [{ namespace: q.metric.namespace, metricName: q.metric.metricName, dimensions: q.metric.dimensions ?? {} }]
      : [],
  );
  return [...own, ...queried];
}

/** A resource that must be watched, and how to recognise a metric about it. */
interface Target {
  resource: PolicyResource;
  /** How messages name it, with the dimensions an alarm must carry. */
  label: string;
  dimensions: string;
  matches(metric: MetricRef): boolean;
}

function databases(resources: PolicyResource[]): Target[] {
  return ofTypes(resources, [RDS_INSTANCE]).map((db) => {
    const identifier = (db.props as Unwrap<aws.rds.InstanceState>).identifier;
    return {
      resource: db,
      label: `RDS instance "${db.name}"`,
      dimensions: `DBInstanceIdentifier=${identifier ?? "<identifier>"}`,
      matches: (m) => !!identifier && m.dimensions.DBInstanceIdentifier === identifier,
    };
  });
}

function caches(resources: PolicyResource[]): Target[] {
  return ofTypes(resources, [REPLICATION_GROUP]).map((group) => {
    const props = group.props as Outputs<aws.elasticache.ReplicationGroupState>;
    const ids = idSet(props.replicationGroupId, props.id);
    const members = idSet(...(props.memberClusters ?? []));
    const matches = (m: MetricRef) => {
      const rg = m.dimensions.ReplicationGroupId;
      const node = m.dimensions.CacheClusterId;
      return (
        (!!rg && ids.has(rg)) || (!!node && (members.has(node) || [...ids].some((id) => node.startsWith(`${id}-`))))
      );
    };
    const id = props.replicationGroupId ?? props.id ?? "<replicationGroupId>";
    return {
      resource: group,
      label: `ElastiCache replication group "${group.name}"`,
      dimensions: `ReplicationGroupId=${id} or CacheClusterId=${id}-001 ...`,
      matches,
    };
  });
}

type Service = Unwrap<aws.ecs.ServiceState>;

/** Names the service's cluster answers to in metrics: the declared cluster's name, else the ARN's last part. */
function clusterNamesOf(service: Service, clusters: PolicyResource[]): Set<string> {
  const ref = service.cluster ?? "default";
  const cluster = clusters.find((c) => idSet(c.props.arn, c.props.id, c.props.name).has(ref));
  if (cluster) return idSet((cluster.props as Unwrap<aws.ecs.ClusterState>).name);
  return idSet(/cluster\/([^/]+)$/.exec(ref)?.[1] ?? ref);
}

function services(resources: PolicyResource[]): Target[] {
  const clusters = ofTypes(resources, [ECS_CLUSTER]);
  return ofTypes(resources, [ECS_SERVICE]).map((s) => {
    const props = s.props as Service;
    const clusterNames = clusterNamesOf(props, clusters);
    return {
      resource: s,
      label: `ECS service "${s.name}"`,
      dimensions: `ClusterName=${[...clusterNames].join("|") || "<cluster name>"}, ServiceName=${props.name ?? "<service name>"}`,
      matches: (m) =>
        !!props.name && m.dimensions.ServiceName === props.name && clusterNames.has(m.dimensions.ClusterName ?? ""),
    };
  });
}

function serviceTargetGroups(resources: PolicyResource[]): Target[] {
  const groups = ofTypes(resources, TARGET_GROUPS);
  return ofTypes(resources, [ECS_SERVICE]).flatMap((s) =>
    ((s.props as Service).loadBalancers ?? []).flatMap((lb) => {
      const arn = lb.targetGroupArn;
      if (!arn) return [];
      const group = groups.find((g) => idSet(g.props.arn, g.props.id).has(arn));
      // A target group's metric dimension is the part of its ARN after the account: targetgroup/<name>/<id>.
      const suffix: string =
        (group?.props as Unwrap<aws.lb.TargetGroupState> | undefined)?.arnSuffix ?? arn.split(":").slice(5).join(":");
      return [
        {
          resource: s,
          label: `ECS service "${s.name}" (target group ${group ? `"${group.name}"` : suffix})`,
          dimensions: `TargetGroup=${suffix}`,
          matches: (m: MetricRef) => m.dimensions.TargetGroup === suffix,
        },
      ];
    }),
  );
}

const TARGETS: Record<AlarmScope, (resources: PolicyResource[]) => Target[]> = {
  database: databases,
  cache: caches,
  service: services,
  "service-target-group": serviceTargetGroups,
};

interface CoverageConfig {
  families: AlarmFamily[];
  severities: string[];
  severityTag: string;
}

/** An alarm as coverage sees it. */
interface CountedAlarm {
  name: string;
  metrics: MetricRef[];
  severity?: string;
  acts: boolean;
}

function countedAlarms(resources: PolicyResource[], config: CoverageConfig): CountedAlarm[] {
  const topicSeverity = new Map<string, string>();
  for (const topic of ofTypes(resources, [SNS_TOPIC])) {
    const severity = (topic.props as Unwrap<aws.sns.TopicState>).tags?.[config.severityTag];
    if (severity) for (const id of idSet(topic.props.arn, topic.props.id)) topicSeverity.set(id, severity);
  }
  return ofTypes(resources, [METRIC_ALARM]).map((r) => {
    const alarm = r.props as Alarm;
    const actions = (alarm.alarmActions ?? []).filter((a): a is string => typeof a === "string");
    const severity =
      alarm.tags?.[config.severityTag] ?? actions.map((a) => topicSeverity.get(a)).find((s) => s !== undefined);
    return {
      name: alarm.name ?? r.name,
      metrics: metricsOf(alarm),
      severity,
      acts: actions.length > 0 && alarm.actionsEnabled !== false,
    };
  });
}

export const runbookAlarmCoverage = stackRule<CoverageConfig>({
  name: "runbook-alarm-coverage",
  description:
    "Every database, cache and service has, for each alarm family of the runbook, an alarm at every severity (warning and critical), each with an action.",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["runbook 000", "CKV_AWS_319"],
  preview:
    "dimensions and topic ARNs that name resources created in the same update are unknown; the engine then reports this rule as advisory until the update.",
  remediationSteps:
    "For each family and severity, declare an aws.cloudwatch.MetricAlarm on the family's metric with the resource's dimensions, tags { severity: <level> } and alarmActions [the topic of that severity].",
  config: {
    families: {
      type: "array",
      items: {
        type: "object",
        properties: {
          name: { type: "string" },
          scope: { type: "string", enum: ["database", "cache", "service", "service-target-group"] },
          namespace: { type: "string" },
          metricNames: { type: "array", items: { type: "string" }, minItems: 1 },
          threshold: { type: "string" },
        },
        required: ["name", "scope", "namespace", "metricNames", "threshold"],
      },
      default: DEFAULT_FAMILIES,
      description: "Alarm families each database, cache and service must have.",
    },
    severities: {
      type: "array",
      items: { type: "string" },
      minItems: 1,
      default: ["warning", "critical"],
      description: "Severities every family needs an alarm at.",
    },
    severityTag: {
      type: "string",
      default: "severity",
      description: "Tag (on the alarm, or on the SNS topic it notifies) that carries the severity.",
    },
  },
  check: (resources, config, report) => {
    const alarms = countedAlarms(resources, config);
    for (const family of config.families) {
      for (const target of TARGETS[family.scope](resources)) {
        const onMetric = alarms.filter((a) =>
          a.metrics.some(
            (m) =>
              m.namespace === family.namespace && family.metricNames.includes(m.metricName ?? "") && target.matches(m),
          ),
        );
        const counted = onMetric.filter(
          (a) => a.acts && a.severity !== undefined && config.severities.includes(a.severity),
        );
        const missing = config.severities.filter((s) => !counted.some((a) => a.severity === s));
        if (missing.length === 0) continue;
        const present = counted.map((a) => `${a.severity} ("${a.name}")`);
        const uncounted = onMetric
          .filter((a) => !counted.includes(a))
          .map(
            (a) =>
              `"${a.name}" (${!a.acts ? "no action" : `severity ${a.severity === undefined ? "not tagged" : `"${a.severity}"`}`})`,
          );
        const found = [
          present.length > 0 ? `only ${present.join(", ")}` : "no alarm",
          ...(uncounted.length > 0 ? [`not counted: ${uncounted.join(", ")}`] : []),
        ].join("; ");
        report(
          target.resource,
          message(
            target.label,
            `alarms on ${family.namespace} ${family.metricNames.join(" or ")} (family "${family.name}")`,
            found,
            `an alarm with alarmActions at each severity (${config.severities.join(", ")}) with dimensions ${target.dimensions}`,
            `declare the ${missing.join(" and ")} alarm${missing.length > 1 ? "s" : ""} at thresholds.${family.threshold}, tagged ${config.severityTag}=<level>, with alarmActions [the ${missing.join(" / ")} topic]`,
          ),
        );
      }
    }
  },
});

export const alarmPolicies: OpsbookPolicy[] = [runbookAlarmCoverage];
