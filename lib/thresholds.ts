/**
 * The runbooks' alert thresholds, keyed by metric and severity: the one table that the alarm
 * catalogue, the dashboard and the policy pack's coverage rules read (as defaults of
 * `opsbook:thresholds`, which a stack may override value by value). See docs/runbooks.md.
 */
export const THRESHOLDS = {
  // R-alert-error-rate, R-alert-latency-p95, R-alert-cpu, R-alert-memory, R-alert-disk,
  // R-alert-db-connections, R-alert-cache-hit
  httpErrorRatePercent: { warning: 1, critical: 5 },
  responseTimeP95Ms: { warning: 500, critical: 2000 },
  cpuPercent: { warning: 70, critical: 90 },
  memoryPercent: { warning: 80, critical: 95 },
  diskPercent: { warning: 80, critical: 95 },
  dbConnectionsPercent: { warning: 80, critical: 95 },
  cacheHitRatePercent: { warning: 80, critical: 50 },
  // The runbooks name these signals without a number (R-alert-slow-queries, R-alert-cert-expiry):
  // the numbers are this program's defaults.
  slowQueriesPerMinute: { warning: 10, critical: 60 },
  certificateDaysToExpiry: { warning: 30, critical: 7 },
} as const;

export type ThresholdMetric = keyof typeof THRESHOLDS;

/**
 * How long a threshold of the table above must be crossed before its alarm fires, so that one
 * spike does not page: five one-minute periods in the CloudWatch catalogue, `for: 5m` in the
 * Prometheus rules of the in-cluster stacks.
 */
export const SUSTAINED_WINDOW = { periodSeconds: 60, evaluationPeriods: 5 } as const;

/** {@link SUSTAINED_WINDOW} in minutes, as a Prometheus rule's `for`. */
export const SUSTAINED_MINUTES = (SUSTAINED_WINDOW.periodSeconds * SUSTAINED_WINDOW.evaluationPeriods) / 60;

/** Metrics where a lower value is worse: their critical threshold lies below the warning one. */
export const LOWER_IS_WORSE: ReadonlySet<ThresholdMetric> = new Set(["cacheHitRatePercent", "certificateDaysToExpiry"]);

/**
 * Replica lag in seconds (R-db-read-replicas), outside the runbook table: the runbooks name no
 * number. RDS reports up to 5 min of lag on a replica whose source commits nothing, so the warning
 * lies above that: 10 min of stale reads is worth a look, 30 min means the replica cannot keep up
 * (and the source keeps the WAL it has not replayed).
 */
export const REPLICA_LAG_SECONDS = { warning: 600, critical: 1800 } as const;

/**
 * Minutes the replica lag must stay above a threshold before its alarm fires: 15, three times the
 * sustained window, so that a burst of writes on the source does not page.
 */
export const REPLICA_LAG_FOR_MINUTES = 3 * SUSTAINED_MINUTES;

/**
 * Hours without a successful ANALYZE (R-db-maintenance) after which it is overdue: a week, the
 * interval of the weekly ANALYZE job; the monthly VACUUM (ANALYZE) counts as one too.
 */
export const ANALYZE_OVERDUE_HOURS = 7 * 24;

/**
 * RDS Proxy (R-db-proxy), outside the runbook table, in percent of the proxy's connection budget
 * (`max_connections` x `postgres.proxy.maxConnectionsPercent`). A pinned connection serves one
 * client session until it ends, so pooling gains nothing on it: half the budget pinned is worth a
 * look (find the SET, temporary tables or prepared statements that pin), most of it leaves clients
 * waiting for a connection. Client connections are what the proxy multiplexes onto the budget:
 * five times the budget still pools well while sessions stay short, ten times leaves no headroom
 * when pinning or long transactions rise (each such client then needs a connection of its own).
 */
export const PROXY_PINNED_PERCENT = { warning: 50, critical: 80 } as const;
export const PROXY_CLIENT_CONNECTIONS_PERCENT = { warning: 500, critical: 1000 } as const;
