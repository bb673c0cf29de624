/**
 * Every number the runbooks ask for, in one place, with the runbook it comes from.
 *
 * These are the defaults of the stack config schema (`stacks/config.ts`). Components never read
 * this file: they receive the validated config, so a stack can override any value in its
 * `Pulumi.<stack>.yaml`. Seed numbers refer to the runbooks: 000 operations, 001 deployment and
 * backups, 002 release checklist, 003 production setup, 004 production deployment.
 */
export const RUNBOOK = {
  /** Health checks behind the load balancer (003: interval 30 s, timeout 10 s, 2 / 3). */
  healthCheck: {
    path: "/health",
    intervalSeconds: 30,
    timeoutSeconds: 10,
    healthyThreshold: 2,
    unhealthyThreshold: 3,
  },

  /**
   * Backups (001): daily at 2 AM, kept 30 days; RPO 24 h, RTO 4 h; restore tested weekly (000). The
   * drill's hour is this program's choice: after the default Sunday maintenance windows (UTC).
   */
  backup: {
    dailyAt: "02:00",
    retentionDays: 30,
    rpoHours: 24,
    rtoHours: 4,
    restoreDrillDay: "SUN",
    restoreDrillAt: "06:00",
  },

  /** Application connection pool per instance (000: DB_POOL_MIN=5, DB_POOL_MAX=20). */
  connectionPool: { min: 5, max: 20 },

  /** Slow query threshold (000: query duration > 100 ms). */
  slowQueryMs: 100,

  /**
   * Alert thresholds, keyed by metric and severity (000's table; see RUNBOOKS.md for the other
   * seeds). `below` metrics alarm when the value falls under the threshold.
   */
  thresholds: {
    httpErrorRatePercent: { warning: 1, critical: 5 },
    responseTimeP95Ms: { warning: 500, critical: 2000 },
    cpuPercent: { warning: 70, critical: 90 },
    memoryPercent: { warning: 80, critical: 95 },
    diskPercent: { warning: 80, critical: 95 },
    dbConnectionsPercent: { warning: 80, critical: 95 },
    cacheHitRatePercent: { warning: 80, critical: 50 },
    // The runbooks name these signals without a number: slow queries (000: > 100 ms, "alert") and
    // certificate expiry (001: checked weekly). The numbers below are this program's defaults.
    slowQueriesPerMinute: { warning: 10, critical: 60 },
    certificateDaysToExpiry: { warning: 30, critical: 7 },
  },

  /**
   * Automatic rollback triggers (004): health check failures for more than 2 minutes, error rate
   * above 10 % for more than 1 minute. 002: roll back after more than 2 consecutive failed checks.
   */
  rollback: {
    unhealthyForMinutes: 2,
    errorRatePercent: 10,
    errorRateForMinutes: 1,
  },

  /** Compute (002: desired count 2; 003: 3 replicas, requests 256Mi/250m, limits 512Mi/500m). */
  service: {
    desiredCount: 2,
    minCount: 2,
    maxCount: 6,
    cpu: 512,
    memoryMiB: 1024,
    scaleOnCpuPercent: 70,
  },
} as const;

/** Metrics where a lower value is worse: their critical threshold lies below the warning one. */
export const LOWER_IS_WORSE: ReadonlySet<keyof typeof RUNBOOK.thresholds> = new Set([
  "cacheHitRatePercent",
  "certificateDaysToExpiry",
]);
