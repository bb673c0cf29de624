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
};

/** The Pushgateway `job` label of the backup job's and the drill's metrics. */
export const PUSHGATEWAY_JOB = "opsbook_backup";

/** The metrics' one dimension; its value is the database the job dumps ({@link BACKUP_ENV}.database). */
export const DATABASE_DIMENSION = "Database";
