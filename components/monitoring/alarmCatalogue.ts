/**
 * The runbook alarms as data: what each alarm watches, how long it takes to fire, and what to do.
 * Pure builders turn the validated thresholds into definitions; `AlarmSet` declares them and
 * `Dashboard` draws them, so one table governs both.
 */
import type * as pulumi from "@pulumi/pulumi";
import { output } from "@pulumi/pulumi";
import { ANALYZE_OVERDUE_HOURS, REPLICA_LAG_FOR_MINUTES, SUSTAINED_WINDOW } from "../../lib/thresholds";
import type { Severity } from "./alertTopics";

/** One CloudWatch metric. `stat` is a statistic ("Average") or a percentile ("p95"). */
export interface MetricRef {
  namespace: string;
  metricName: string;
  dimensions: Record<string, pulumi.Input<string>>;
  stat: string;
}

/** What an alarm compares: a metric, or a metric-math expression over named metrics. */
export type Signal =
  { metric: MetricRef } | { expression: pulumi.Input<string>; label: string; metrics: Record<string, MetricRef> };

export interface AlarmDefinition {
  /** What is watched, e.g. "api", "database", "cache-node-1". */
  subject: string;
  /** Kind of alarm, e.g. "http-error-rate"; with the subject and severity it names the alarm. */
  family: string;
  /** Plain words for the 3 AM reader, e.g. "5xx responses of api as a share of its requests". */
  what: string;
  /** Unit of the thresholds as the reader sees them, e.g. "%", "ms". */
  unit: string;
  signal: Signal;
  /** "above": higher is worse; "below": lower is worse. */
  direction: "above" | "below";
  /** Thresholds in `unit`; an alarm is declared for each severity given. */
  thresholds: Partial<Record<Severity, number>>;
  /** Multiplies a threshold into the metric's own unit (e.g. 0.001 for ms against seconds). @default 1 */
  scale?: number;
  periodSeconds: number;
  /** Consecutive breaching periods before the alarm fires. */
  evaluationPeriods: number;
  /** How periods without data count, and why (see each builder). */
  missingData: "notBreaching" | "breaching" | "missing" | "ignore";
  /** The runbook step to take. */
  action: string;
}

/** Seconds from the first breaching data point to ALARM. */
export function timeToFire(d: AlarmDefinition): number {
  return d.periodSeconds * d.evaluationPeriods;
}

/** "fires after 5 min above 5 % ..." — the alarm description an on-call engineer reads. */
export function describe(d: AlarmDefinition, severity: Severity): string {
  const threshold = d.thresholds[severity];
  const minutes = timeToFire(d) / 60;
  const duration = minutes >= 60 && minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`;
  const unit = d.unit === "%" ? "%" : d.unit ? ` ${d.unit}` : "";
  return `${severity.toUpperCase()}: ${d.what} ${d.direction} ${threshold}${unit} for ${duration}. ${d.action}`;
}

export interface Thresholds {
  httpErrorRatePercent: ThresholdPair;
  responseTimeP95Ms: ThresholdPair;
  cpuPercent: ThresholdPair;
  memoryPercent: ThresholdPair;
  diskPercent: ThresholdPair;
  dbConnectionsPercent: ThresholdPair;
  cacheHitRatePercent: ThresholdPair;
  slowQueriesPerMinute: ThresholdPair;
  certificateDaysToExpiry: ThresholdPair;
}
export interface ThresholdPair {
  warning: number;
  critical: number;
}

const alb = (metricName: string, stat: string, dimensions: Record<string, pulumi.Input<string>>): MetricRef => ({
  namespace: "AWS/ApplicationELB",
  metricName,
  dimensions,
  stat,
});

/** A load-balanced service: errors, latency, CPU, memory, unhealthy and missing targets. */
export function serviceAlarms(args: {
  service: string;
  clusterName: pulumi.Input<string>;
  serviceName: pulumi.Input<string>;
  loadBalancerArnSuffix: pulumi.Input<string>;
  targetGroupArnSuffix: pulumi.Input<string>;
  /** The load balancer's health check: a target is unhealthy after `unhealthyThreshold` failed checks. */
  healthCheck: { intervalSeconds: number; unhealthyThreshold: number };
  thresholds: Thresholds;
}): AlarmDefinition[] {
  const tg = { LoadBalancer: args.loadBalancerArnSuffix, TargetGroup: args.targetGroupArnSuffix };
  const ecs = { ClusterName: args.clusterName, ServiceName: args.serviceName };
  const t = args.thresholds;
  // Runbook 002 rolls back after more than 2 consecutive failed checks: the health check's own
  // unhealthy threshold (3), in one-minute periods.
  const unhealthyPeriods = Math.max(
    1,
    Math.ceil((args.healthCheck.unhealthyThreshold * args.healthCheck.intervalSeconds) / 60),
  );
  const taskAverage = (
    family: "cpu" | "memory",
    metricName: string,
    what: string,
    thresholds: ThresholdPair,
    action: string,
  ): AlarmDefinition => ({
    subject: s,
    family,
    what: `average ${what} of ${s}'s tasks`,
    unit: "%",
    signal: { metric: { namespace: "AWS/ECS", metricName, dimensions: ecs, stat: "Average" } },
    direction: "above",
    thresholds,
    ...SUSTAINED_WINDOW,
    missingData: "missing", // no data means no tasks: the no-healthy-targets alarm covers that
    action,
  });
  const s = args.service;
  return [
    {
      subject: s,
      family: "http-error-rate",
      what: `5xx responses of ${s} as a share of its requests`,
      unit: "%",
      signal: {
        // No requests is no error rate, not a division by zero.
        expression: "IF(requests > 0, 100 * errors / requests, 0)",
        label: `${s} 5xx rate (%)`,
        metrics: { errors: alb("HTTPCode_Target_5XX_Count", "Sum", tg), requests: alb("RequestCount", "Sum", tg) },
      },
      direction: "above",
      thresholds: t.httpErrorRatePercent,
      ...SUSTAINED_WINDOW,
      missingData: "notBreaching", // no traffic is not an outage
      action:
        "Check the service's logs and recent deploys; roll back (runbook: Rollback Procedures) if a deploy caused it.",
    },
    {
      subject: s,
      family: "response-time-p95",
      what: `p95 response time of ${s}`,
      unit: "ms",
      signal: { metric: alb("TargetResponseTime", "p95", tg) },
      direction: "above",
      thresholds: t.responseTimeP95Ms,
      scale: 0.001, // TargetResponseTime is in seconds
      ...SUSTAINED_WINDOW,
      missingData: "notBreaching", // no traffic, no latency
      action: "Look for slow queries and saturated CPU or connections; scale out or roll back a slow release.",
    },
    taskAverage(
      "cpu",
      "CPUUtilization",
      "CPU",
      t.cpuPercent,
      "Autoscaling should be adding tasks; if at maxCount, raise it or the task CPU (runbook: vertical scaling above 80 %).",
    ),
    taskAverage(
      "memory",
      "MemoryUtilization",
      "memory",
      t.memoryPercent,
      "Look for a leak in the latest release; raise the task memory or roll back.",
    ),
    {
      subject: s,
      family: "unhealthy-targets",
      what: `targets of ${s} failing health checks (more than 2 consecutive checks), count`,
      unit: "",
      signal: { metric: alb("UnHealthyHostCount", "Maximum", tg) },
      direction: "above",
      thresholds: { critical: 0 },
      periodSeconds: 60,
      evaluationPeriods: unhealthyPeriods,
      missingData: "notBreaching",
      action: "Check the health endpoint and the tasks' logs; a deploy in progress rolls back by itself.",
    },
    {
      subject: s,
      family: "no-healthy-targets",
      what: `healthy targets of ${s}, count (below 1: the service is down)`,
      unit: "",
      signal: { metric: alb("HealthyHostCount", "Minimum", tg) },
      direction: "below",
      thresholds: { critical: 1 },
      periodSeconds: 60,
      evaluationPeriods: 1,
      missingData: "breaching", // silence from a target group is itself an outage
      action: "The service is down: check ECS events for failed task starts, then roll back.",
    },
  ];
}

/** The load balancer's own 5xx (no target answered): counted per load balancer, not per service. */
export function loadBalancerAlarms(args: {
  loadBalancerArnSuffix: pulumi.Input<string>;
  thresholds: Thresholds;
}): AlarmDefinition[] {
  const loadBalancer = { LoadBalancer: args.loadBalancerArnSuffix };
  return [
    {
      subject: "load-balancer",
      family: "http-error-rate",
      what: "5xx responses the load balancer itself returned, as a share of all requests",
      unit: "%",
      signal: {
        expression: "IF(requests > 0, 100 * errors / requests, 0)",
        label: "load balancer 5xx rate (%)",
        metrics: {
          errors: alb("HTTPCode_ELB_5XX_Count", "Sum", loadBalancer),
          requests: alb("RequestCount", "Sum", loadBalancer),
        },
      },
      direction: "above",
      thresholds: args.thresholds.httpErrorRatePercent,
      ...SUSTAINED_WINDOW,
      missingData: "notBreaching",
      action: "No healthy target answered: check the services' no-healthy-targets alarms and ECS events.",
    },
  ];
}

/** Percent of `allocatedGb` in use, from the `free` bytes metric. */
function storageUsedExpression(allocatedGb: pulumi.Input<number>): pulumi.Input<string> {
  const expression = (gb: number) => `100 - 100 * free / ${gb * 1024 ** 3}`;
  return typeof allocatedGb === "number" ? expression(allocatedGb) : output(allocatedGb).apply(expression);
}

/** PostgreSQL: CPU, memory, disk and connections in percent, and slow queries per minute. */
export function databaseAlarms(args: {
  instanceIdentifier: pulumi.Input<string>;
  /** Memory of the instance class, in bytes; unknown for a class outside the table (no memory alarm then). */
  memoryBytes: number | undefined;
  /**
   * The instance's current storage allocation in GiB: the instance's `allocatedStorage` output,
   * which the provider reads back from RDS on every refresh (storage autoscaling's growth included,
   * without a diff). A number in tests of the pure builder.
   */
  allocatedStorageGb: pulumi.Input<number>;
  maxConnections: number;
  /** Metric the slow-query log filter publishes (one per statement slower than the threshold); none for a replica. */
  slowQueries?: { namespace: string; metricName: string };
  thresholds: Thresholds;
  /** The alarms' subject: "database", or a read replica's "database-replica-<n>" (R-db-read-replicas). @default "database" */
  subject?: string;
  /** A read replica's: its lag behind the source, at these seconds (lib/thresholds.ts `REPLICA_LAG_SECONDS`). */
  replicaLagSeconds?: ThresholdPair;
}): AlarmDefinition[] {
  const rds = (metricName: string, stat = "Average"): MetricRef => ({
    namespace: "AWS/RDS",
    metricName,
    dimensions: { DBInstanceIdentifier: args.instanceIdentifier },
    stat,
  });
  const t = args.thresholds;
  const subject = args.subject ?? "database";
  const common = {
    subject,
    unit: "%",
    direction: "above" as const,
    ...SUSTAINED_WINDOW,
    missingData: "missing" as const,
  };
  return [
    {
      ...common,
      family: "cpu",
      what: "CPU of the database",
      signal: { metric: rds("CPUUtilization") },
      thresholds: t.cpuPercent,
      action:
        "Find the heaviest queries in Performance Insights; scale the instance class up (runbook: vertical scaling).",
    },
    ...(args.memoryBytes === undefined
      ? []
      : [
          {
            ...common,
            family: "memory",
            what: "memory in use on the database",
            signal: {
              expression: `100 - 100 * free / ${args.memoryBytes}`,
              label: "database memory used (%)",
              metrics: { free: rds("FreeableMemory", "Minimum") },
            },
            thresholds: t.memoryPercent,
            action: "Check connections and work_mem-heavy queries; scale the instance class up.",
          },
        ]),
    {
      ...common,
      family: "disk",
      what: "storage in use on the database",
      // R-alert-disk: RDS publishes free bytes, never the allocation, and autoscaling grows the
      // allocation without telling CloudWatch. Dividing by the size at creation stops being a
      // percentage after the first growth (at a 500 GiB ceiling from 100 GiB it warns at 96 %), so
      // the divisor is the allocation in the stack's state, which a refresh reads from RDS.
      signal: {
        expression: storageUsedExpression(args.allocatedStorageGb),
        label: "database storage used (%)",
        metrics: { free: rds("FreeStorageSpace", "Minimum") },
      },
      thresholds: t.diskPercent,
      action:
        "Storage autoscaling grows the volume up to postgres.maxAllocatedStorageGb; run `pulumi up --refresh` so this alarm divides by the current allocation, and if it is at the ceiling, raise the ceiling.",
    },
    {
      ...common,
      family: "connections",
      what: `connections in use, of max_connections (${args.maxConnections})`,
      signal: {
        expression: `100 * connections / ${args.maxConnections}`,
        label: "connections used (%)",
        metrics: { connections: rds("DatabaseConnections", "Maximum") },
      },
      thresholds: t.dbConnectionsPercent,
      action:
        "Check for connection leaks and pool sizes (DB_POOL_MAX per task x tasks); scale the database (runbook: > 80 % of pool).",
    },
    ...(args.replicaLagSeconds === undefined
      ? []
      : [
          {
            ...common,
            family: "replica-lag",
            what: "seconds the replica's data is behind its source",
            unit: "s",
            signal: { metric: rds("ReplicaLag", "Maximum") },
            thresholds: args.replicaLagSeconds,
            // RDS reports up to 5 min of lag on a replica whose source commits nothing; the
            // thresholds lie above that, and the longer window keeps a burst of writes from paging.
            evaluationPeriods: REPLICA_LAG_FOR_MINUTES,
            action:
              "Reads from the replica are stale: check its CPU and I/O and the source's write rate; scale the replica class up, or send reads to the primary meanwhile (DB_HOST).",
          },
        ]),
    ...(args.slowQueries === undefined ? [] : [slowQueryAlarm(common, args.slowQueries, t)]),
  ];
}

/**
 * R-db-proxy: the RDS Proxy's pinned connections and client connections, both in percent of its
 * connection budget (`max_connections` x `maxConnectionsPercent`). RDS publishes the metrics per
 * proxy node under `ProxyName`; `Sum` adds the nodes up.
 */
export function proxyAlarms(args: {
  proxyName: pulumi.Input<string>;
  maxConnections: number;
  /** `postgres.proxy.maxConnectionsPercent`. */
  maxConnectionsPercent: number;
  /** Pinned connections, in % of the budget (lib/thresholds.ts `PROXY_PINNED_PERCENT`). */
  pinnedPercent: ThresholdPair;
  /** Client connections, in % of the budget (lib/thresholds.ts `PROXY_CLIENT_CONNECTIONS_PERCENT`). */
  clientConnectionsPercent: ThresholdPair;
}): AlarmDefinition[] {
  const budget = Math.max(1, Math.floor((args.maxConnections * args.maxConnectionsPercent) / 100));
  const proxy = (metricName: string): MetricRef => ({
    namespace: "AWS/RDS",
    metricName,
    dimensions: { ProxyName: args.proxyName },
    stat: "Sum",
  });
  const common = {
    subject: "database-proxy",
    unit: "%",
    direction: "above" as const,
    ...SUSTAINED_WINDOW,
    // The proxy publishes nothing until its first client connects: no data is no trouble.
    missingData: "notBreaching" as const,
  };
  return [
    {
      ...common,
      family: "session-pinned",
      what: `database connections pinned to one client session, of the proxy's ${budget}`,
      signal: {
        expression: `100 * pinned / ${budget}`,
        label: "proxy connections pinned (%)",
        metrics: { pinned: proxy("DatabaseConnectionsCurrentlySessionPinned") },
      },
      thresholds: args.pinnedPercent,
      action:
        "Find what pins sessions (SET, temporary tables, advisory locks, named prepared statements) in the proxy's logs; move it out of the request path or into the migration task.",
    },
    {
      ...common,
      family: "client-connections",
      what: `client connections to the proxy, of its ${budget} database connections`,
      signal: {
        expression: `100 * clients / ${budget}`,
        label: "proxy client connections (%)",
        metrics: { clients: proxy("ClientConnections") },
      },
      thresholds: args.clientConnectionsPercent,
      action:
        "Check DB_POOL_MAX per task x tasks and for leaked connections; raise postgres.proxy.maxConnectionsPercent or the instance class (max_connections).",
    },
  ];
}

function slowQueryAlarm(
  common: Pick<
    AlarmDefinition,
    "subject" | "unit" | "direction" | "periodSeconds" | "evaluationPeriods" | "missingData"
  >,
  slowQueries: { namespace: string; metricName: string },
  t: Thresholds,
): AlarmDefinition {
  return {
    ...common,
    family: "slow-queries",
    what: "statements slower than the slow-query threshold, per minute",
    unit: "per minute",
    signal: {
      metric: {
        namespace: slowQueries.namespace,
        metricName: slowQueries.metricName,
        dimensions: {},
        stat: "Sum",
      },
    },
    thresholds: t.slowQueriesPerMinute,
    missingData: "notBreaching", // the log filter publishes nothing when no query is slow
    action: "Read the slow statements in the postgresql log group; add the missing index or fix the query.",
  };
}

/**
 * Redis: the hit rate of the whole group, and engine CPU and memory per node. The hit rate is
 * hits over lookups summed over every node, not each node's own `CacheHitRate`: a replica that
 * serves no reads (the services use the primary endpoint) has no lookups, and an alarm on its
 * own rate would fire on an idle node with nothing wrong (R-alert-cache-hit).
 */
export function cacheAlarms(args: { nodeIds: pulumi.Input<string>[]; thresholds: Thresholds }): AlarmDefinition[] {
  const t = args.thresholds;
  const count = (metricName: string, nodeId: pulumi.Input<string>): MetricRef => ({
    namespace: "AWS/ElastiCache",
    metricName,
    dimensions: { CacheClusterId: nodeId },
    stat: "Sum",
  });
  const metrics: Record<string, MetricRef> = {};
  args.nodeIds.forEach((nodeId, i) => {
    metrics[`hits${i + 1}`] = count("CacheHits", nodeId);
    metrics[`misses${i + 1}`] = count("CacheMisses", nodeId);
  });
  // A node without data in a period (no lookups) adds nothing instead of blanking the sum.
  const sum = (prefix: string): string =>
    `SUM([${args.nodeIds.map((_, i) => `FILL(${prefix}${i + 1}, 0)`).join(", ")}])`;
  const hitRate: AlarmDefinition = {
    subject: "cache",
    family: "hit-rate",
    what: "cache hit rate over all nodes (hits / lookups)",
    unit: "%",
    signal: {
      // No lookups at all is no hit rate: 100, not a division by zero.
      expression: `IF(${sum("hits")} + ${sum("misses")} > 0, 100 * ${sum("hits")} / (${sum("hits")} + ${sum("misses")}), 100)`,
      label: "cache hit rate (%)",
      metrics,
    },
    direction: "below",
    thresholds: t.cacheHitRatePercent,
    // Hit rate swings with traffic; fifteen minutes keeps a burst of misses from paging.
    periodSeconds: 300,
    evaluationPeriods: 3,
    missingData: "notBreaching", // no lookups, no hit rate
    action: "Check key expiry and eviction (memory alarm); a new release may have changed cache keys.",
  };
  return [hitRate, ...perNodeCacheAlarms(args.nodeIds, t)];
}

function perNodeCacheAlarms(nodeIds: pulumi.Input<string>[], t: Thresholds): AlarmDefinition[] {
  return nodeIds.flatMap((nodeId, i) => {
    const node = (metricName: string): MetricRef => ({
      namespace: "AWS/ElastiCache",
      metricName,
      dimensions: { CacheClusterId: nodeId },
      stat: "Average",
    });
    const subject = `cache-node-${i + 1}`;
    return [
      {
        subject,
        family: "cpu",
        what: `engine CPU of cache node ${i + 1}`,
        unit: "%",
        signal: { metric: node("EngineCPUUtilization") },
        direction: "above" as const,
        thresholds: t.cpuPercent,
        ...SUSTAINED_WINDOW,
        missingData: "missing" as const,
        action: "Look for expensive commands (KEYS, large sorted sets) in the slow log; scale the node type up.",
      },
      {
        subject,
        family: "memory",
        what: `memory used by cache node ${i + 1}`,
        unit: "%",
        signal: { metric: node("DatabaseMemoryUsagePercentage") },
        direction: "above" as const,
        thresholds: t.memoryPercent,
        ...SUSTAINED_WINDOW,
        missingData: "missing" as const,
        action: "Keys are evicted past 100 %: check TTLs, or scale the node type up.",
      },
    ];
  });
}

/** The load balancer's ACM certificate (R-alert-cert-expiry: checked weekly; this alarm checks daily). */
export function certificateAlarms(args: {
  certificateArn: pulumi.Input<string>;
  thresholds: Thresholds;
}): AlarmDefinition[] {
  return [
    {
      subject: "certificate",
      family: "days-to-expiry",
      what: "days until the TLS certificate expires",
      unit: "days",
      signal: {
        metric: {
          namespace: "AWS/CertificateManager",
          metricName: "DaysToExpiry",
          dimensions: { CertificateArn: args.certificateArn },
          stat: "Minimum",
        },
      },
      direction: "below",
      thresholds: args.thresholds.certificateDaysToExpiry,
      periodSeconds: 86400,
      evaluationPeriods: 1,
      missingData: "missing", // ACM publishes once a day
      action:
        "ACM renews DNS-validated certificates by itself: check the validation record; renew or re-import an imported certificate.",
    },
  ];
}

/** Alarms on the app's own metrics, from the stack config. */
export function customAlarms(
  alarms: ReadonlyArray<{
    name: string;
    description: string;
    namespace: string;
    metricName: string;
    dimensions: Record<string, string>;
    statistic: string;
    direction: "above" | "below";
    warning: number;
    critical: number;
    periodSeconds: number;
    evaluationPeriods: number;
  }>,
): AlarmDefinition[] {
  return alarms.map((a) => ({
    subject: "app",
    family: a.name,
    what: `${a.namespace} ${a.metricName}`,
    unit: "",
    signal: {
      metric: { namespace: a.namespace, metricName: a.metricName, dimensions: a.dimensions, stat: a.statistic },
    },
    direction: a.direction,
    thresholds: { warning: a.warning, critical: a.critical },
    periodSeconds: a.periodSeconds,
    evaluationPeriods: a.evaluationPeriods,
    missingData: "notBreaching", // an app that publishes nothing has other alarms firing
    action: a.description,
  }));
}

/**
 * Backups: no verified dump for longer than the schedule can explain (critical), a failed restore
 * drill (warning).
 */
export function backupAlarms(args: {
  database: string;
  /** The RPO, for the reader. */
  rpoHours: number;
  /**
   * Hours without a verified dump before paging: `lib/time.ts` `rpoAlarmHours`, the RPO or the
   * schedule's longest gap (clock changes included) plus the run time and one hour of bucketing.
   * @default rpoHours
   */
  alarmAfterHours?: number;
  metrics: { namespace: string; lastSuccessfulBackup: string; restoreDrillSuccess: string; dimension: string };
}): AlarmDefinition[] {
  const dimensions = { [args.metrics.dimension]: args.database };
  const hours = args.alarmAfterHours ?? args.rpoHours;
  return [
    {
      subject: "backups",
      family: "last-good-backup",
      what: `verified backups of ${args.database} per hour`,
      unit: "",
      // The job publishes the timestamp only after a verified dump; an hour without one is
      // "missing", counted as breaching, so the alarm fires when all RPO hours are empty.
      signal: {
        metric: {
          namespace: args.metrics.namespace,
          metricName: args.metrics.lastSuccessfulBackup,
          dimensions,
          stat: "SampleCount",
        },
      },
      direction: "below",
      thresholds: { critical: 1 },
      periodSeconds: 3600,
      evaluationPeriods: hours,
      missingData: "breaching",
      action: `No verified backup for ${hours} h (RPO ${args.rpoHours} h, plus the slack the daily schedule and its run time need): read the backup job's log group, run the job by hand, and take an RDS snapshot meanwhile.`,
    },
    {
      subject: "backups",
      family: "restore-drill",
      what: `restore drill of ${args.database} succeeding (1) or failing (0)`,
      unit: "",
      signal: {
        metric: {
          namespace: args.metrics.namespace,
          metricName: args.metrics.restoreDrillSuccess,
          dimensions,
          stat: "Minimum",
        },
      },
      direction: "below",
      thresholds: { warning: 1 },
      periodSeconds: 3600,
      evaluationPeriods: 1,
      // The drill runs weekly, so most hours have no data. "ignore" keeps the last state: a failed
      // drill stays in ALARM until the next drill passes, instead of clearing (and sending OK) an
      // hour later as "notBreaching" would (R-backup-restore-test).
      missingData: "ignore",
      action:
        "The newest dump did not restore with equal row counts: read the drill's log, then test the previous dump by hand.",
    },
  ];
}

/**
 * The database maintenance job's alarms (R-db-maintenance), to the warning topic: a late ANALYZE
 * degrades plans slowly, it does not take the service down.
 *
 * `analyze-overdue`: no successful ANALYZE (the monthly VACUUM (ANALYZE) counts) in any hour of
 * the last 7 days. CloudWatch evaluates at most 7 days, the weekly schedule's own period, so the
 * margin is the hourly bucketing: it fires about an hour after a run that did not start or did not
 * succeed. In a zone with clock changes the autumn week is 169 h long and the alarm may fire for
 * that hour once a year. `failed` reports each failed run at once and holds until one succeeds.
 */
export function maintenanceAlarms(args: {
  database: string;
  metrics: { namespace: string; dimension: string };
  metricNames: { lastSuccessfulAnalyze: string; analyzeSuccess: string; vacuumSuccess: string };
}): AlarmDefinition[] {
  const dimensions = { [args.metrics.dimension]: args.database };
  const metric = (metricName: string, stat: string): MetricRef => ({
    namespace: args.metrics.namespace,
    metricName,
    dimensions,
    stat,
  });
  const failed = (task: "analyze" | "vacuum", metricName: string, words: string): AlarmDefinition => ({
    subject: "database-maintenance",
    family: `${task}-failed`,
    what: `${words} of ${args.database} succeeding (1) or failing (0)`,
    unit: "",
    signal: { metric: metric(metricName, "Minimum") },
    direction: "below",
    thresholds: { warning: 1 },
    periodSeconds: 3600,
    evaluationPeriods: 1,
    // Runs are weekly or monthly: "ignore" keeps a failure in ALARM until the next run succeeds.
    missingData: "ignore",
    action: `The ${words} failed: read its log group (/opsbook/<environment>/db-maintenance) and run the task again by hand.`,
  });
  return [
    {
      subject: "database-maintenance",
      family: "analyze-overdue",
      what: `successful ANALYZE runs of ${args.database} per hour`,
      unit: "",
      signal: { metric: metric(args.metricNames.lastSuccessfulAnalyze, "SampleCount") },
      direction: "below",
      thresholds: { warning: 1 },
      periodSeconds: 3600,
      evaluationPeriods: ANALYZE_OVERDUE_HOURS,
      missingData: "breaching",
      action:
        "No successful ANALYZE for a week: check the maintenance schedule and the task's log group, then run maintenance-analyze by hand.",
    },
    failed("analyze", args.metricNames.analyzeSuccess, "weekly ANALYZE"),
    failed("vacuum", args.metricNames.vacuumSuccess, "monthly VACUUM (ANALYZE)"),
  ];
}
