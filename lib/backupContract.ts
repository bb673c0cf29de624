/**
 * What the backup component (components/backup/backups.ts) and the backup job (jobs/backup) agree
 * on: the environment the task definition sets and the job reads, and the metrics the job
 * publishes and the alarms watch. The job bundles this file with esbuild, so it imports nothing.
 *
 * The task definition and the job's image are updated separately (the image tag is a stack
 * setting), so renaming anything here needs a release of the job that reads both names first.
 */

/**
 * Environment variables the job reads. The PostgreSQL ones are libpq's own names, not a choice:
 * the job hands every PG* variable on to pg_dump, pg_restore and psql.
 */
export const BACKUP_ENV = {
  host: "PGHOST",
  port: "PGPORT",
  database: "PGDATABASE",
  user: "PGUSER",
  password: "PGPASSWORD",
  sslMode: "PGSSLMODE",
  bucket: "BACKUP_BUCKET",
  prefix: "BACKUP_PREFIX",
  region: "AWS_REGION",
  s3Endpoint: "S3_ENDPOINT",
  forcePathStyle: "S3_FORCE_PATH_STYLE",
  partSizeMiB: "BACKUP_PART_SIZE_MIB",
  metricsEnabled: "METRICS_ENABLED",
  metricsNamespace: "METRICS_NAMESPACE",
  cloudWatchEndpoint: "CLOUDWATCH_ENDPOINT",
  /** The instance the drill's instance copies its settings from; only ever described (R-backup-restore-test). */
  drillSourceInstance: "DRILL_SOURCE_INSTANCE",
  /** Identifier prefix of the drill's temporary instances: the IAM policy lets the job create and delete only these. */
  drillInstancePrefix: "DRILL_INSTANCE_PREFIX",
  drillInstanceClass: "DRILL_INSTANCE_CLASS",
  /** The security group of the drill's instance: it admits the drill task's group, nothing else. */
  drillSecurityGroup: "DRILL_SECURITY_GROUP_ID",
  /** The RTO the drill's time to recover is held to (R-backup-rto). */
  drillRtoSeconds: "DRILL_RTO_SECONDS",
  /**
   * `true`: the drill restores into a throwaway database on the server the job connects to, not an
   * instance of its own: for an in-cluster PostgreSQL, which has no API to create one (R-local-postgres).
   */
  drillInServer: "DRILL_IN_SERVER",
  /** Set: the metrics go to this Prometheus Pushgateway instead of CloudWatch (R-local-backup-metrics). */
  pushgatewayUrl: "PUSHGATEWAY_URL",
  /** How many of the slowest statements the maintenance job reports (R-db-maintenance). */
  maintenanceSlowStatements: "MAINTENANCE_SLOW_STATEMENTS",
} as const;

/** An environment variable the job reads. */
export type BackupEnvName = (typeof BACKUP_ENV)[keyof typeof BACKUP_ENV];

/**
 * Variables the job reads that the task definition leaves unset: their defaults are right on AWS,
 * and they exist for local S3 and CloudWatch stand-ins and for tuning.
 */
export const BACKUP_ENV_UNSET_IN_TASK: readonly BackupEnvName[] = [
  BACKUP_ENV.s3Endpoint,
  BACKUP_ENV.forcePathStyle,
  BACKUP_ENV.partSizeMiB,
  BACKUP_ENV.metricsEnabled,
  BACKUP_ENV.cloudWatchEndpoint,
  BACKUP_ENV.pushgatewayUrl,
  BACKUP_ENV.drillInServer,
];

/**
 * Tag key of the drill's temporary RDS instances, its value the source instance's identifier: the
 * job's IAM policy creates only instances tagged so, and the sweep deletes only those.
 */
export const DRILL_TAG = "opsbook:restore-drill";

/** Key prefix of the dumps in the bucket: the job's default, and what the component sets and grants. */
export const DUMP_PREFIX = "postgres";

/** The job's namespace when none is set, e.g. when run by hand outside a stack. */
export const DEFAULT_METRICS_NAMESPACE = "Opsbook/Backup";

/** Namespace of a stack's backup metrics: stacks in one account must not count each other's backups. */
export function metricsNamespace(stack: string): string {
  return `${DEFAULT_METRICS_NAMESPACE}/${stack}`;
}

/** Metric names, published with the single dimension {@link DATABASE_DIMENSION}. */
export const BACKUP_METRIC = {
  /** 1 after a verified backup, 0 after a failed one (Count). Alarm "backup failed": Minimum < 1. */
  backupSuccess: "BackupSuccess",
  /**
   * Epoch seconds of the last verified backup, published only on success (Seconds). Alarm
   * "last good backup older than the RPO": SampleCount < 1 over every 1-hour period of the RPO,
   * missing data breaching.
   */
  lastSuccessfulBackupTimestamp: "LastSuccessfulBackupTimestamp",
  /** Size of the verified dump (Bytes). */
  backupSizeBytes: "BackupSizeBytes",
  /** Wall time of the backup from snapshot to verified pointer (Seconds). */
  backupDurationSeconds: "BackupDurationSeconds",
  /** 1 when the drill restored the latest dump with identical row counts, else 0 (Count). */
  restoreDrillSuccess: "RestoreDrillSuccess",
  /**
   * Time to recover: create the drill's instance and wait for it, create the database, stream and
   * restore the dump, verify row counts (Seconds). Published on success and when over the RTO.
   */
  restoreDrillTimeToRecoverSeconds: "RestoreDrillTimeToRecoverSeconds",
  /** 1 after the weekly ANALYZE and its report, 0 after a failed run (Count). Alarm: Minimum < 1, missing ignored. */
  analyzeSuccess: "DatabaseAnalyzeSuccess",
  /** 1 after the monthly VACUUM (ANALYZE) and its report, 0 after a failed run (Count). */
  vacuumSuccess: "DatabaseVacuumSuccess",
  /**
   * Epoch seconds of the last successful run of either (VACUUM (ANALYZE) analyzes too), published
   * only on success (Seconds). Alarm: no sample in any of the last 168 hourly periods, a week
   * (R-db-maintenance).
   */
  lastSuccessfulAnalyzeTimestamp: "LastSuccessfulAnalyzeTimestamp",
} as const;

/**
 * The same metrics as Prometheus gauges, pushed to a Pushgateway under {@link PUSHGATEWAY_JOB}
 * with the database as the grouping key's second label (`database`).
 */
export const PROMETHEUS_METRIC: Record<keyof typeof BACKUP_METRIC, string> = {
  backupSuccess: "opsbook_backup_success",
  lastSuccessfulBackupTimestamp: "opsbook_backup_last_success_timestamp_seconds",
  backupSizeBytes: "opsbook_backup_size_bytes",
  backupDurationSeconds: "opsbook_backup_duration_seconds",
  restoreDrillSuccess: "opsbook_restore_drill_success",
  restoreDrillTimeToRecoverSeconds: "opsbook_restore_drill_time_to_recover_seconds",
  analyzeSuccess: "opsbook_database_analyze_success",
  vacuumSuccess: "opsbook_database_vacuum_success",
  lastSuccessfulAnalyzeTimestamp: "opsbook_database_last_analyze_timestamp_seconds",
};

/** The maintenance job's commands (R-db-maintenance): weekly ANALYZE, monthly VACUUM (ANALYZE), each with the report. */
export const MAINTENANCE_COMMANDS = { analyze: "maintenance-analyze", vacuum: "maintenance-vacuum" } as const;
export type MaintenanceTask = keyof typeof MAINTENANCE_COMMANDS;

/** Slowest statements the report lists when the task definition does not say. */
export const DEFAULT_SLOW_STATEMENTS = 10;

/** The Pushgateway `job` label of the backup job's and the drill's metrics. */
export const PUSHGATEWAY_JOB = "opsbook_backup";

/** The metrics' one dimension; its value is the database the job dumps ({@link BACKUP_ENV}.database). */
export const DATABASE_DIMENSION = "Database";

/**
 * The runbook's RTO (R-backup-rto): the drill's default, and the longest the settings
 * (`backup.rtoHours`) and the job (`DRILL_RTO_SECONDS`) accept, a week.
 */
export const RTO = { defaultHours: 4, maxHours: 168 } as const;

/**
 * How a scheduled run that fails to start is retried, the same on both platforms: two more
 * attempts, and none once the run is an hour late (EventBridge Scheduler's retry policy; the
 * CronJob's backoffLimit and startingDeadlineSeconds).
 */
export const JOB_RETRY = { attempts: 2, maxAgeSeconds: 3600 } as const;
