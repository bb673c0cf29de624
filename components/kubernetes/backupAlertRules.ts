/**
 * The backup alarms of the CloudWatch catalogue (`backupAlarms`) as Prometheus rules over the
 * gauges the job pushes to a Pushgateway (R-local-backup-metrics, R-backup-rpo,
 * R-backup-restore-test). Pure, like alertRules.ts; promtool tests them.
 */
import { PROMETHEUS_METRIC } from "../../lib/backupContract";
import type { AlertGroup, AlertRule } from "./alertRules";

export interface BackupAlertArgs {
  environment: string;
  /** `postgres.databaseName`: the `database` label of the pushed gauges. */
  database: string;
  /** `backup.rpoHours`, for the words. */
  rpoHours: number;
  /** `lib/time.ts` `rpoAlarmHours`: the RPO or the schedule's longest gap, plus the run time and 1 h. */
  alarmAfterHours: number;
  runbookUrl: string;
}

/**
 * Two rules, as on CloudWatch. `last-good-backup` (critical): the newest verified backup is older
 * than the window, or none was ever pushed (missing data breaches: no job is no backup).
 * `restore-drill` (warning): the last drill failed; the Pushgateway keeps that value until the
 * next drill pushes, so the alert holds until a drill passes. The selectors use the `database`
 * label only: a Prometheus that scrapes the Pushgateway without `honorLabels` renames its `job`.
 */
export function backupAlertGroup(a: BackupAlertArgs): AlertGroup {
  const sel = `{database="${a.database}"}`;
  const last = `${PROMETHEUS_METRIC.lastSuccessfulBackupTimestamp}${sel}`;
  const seconds = a.alarmAfterHours * 3600;
  const labels = (family: string, severity: string) => ({
    severity,
    family,
    database: a.database,
    environment: a.environment,
  });
  const rules: AlertRule[] = [
    {
      alert: "LastGoodBackup",
      expr: `(time() - max(${last}) > ${seconds}) or absent(${last})`,
      for: "0m",
      labels: labels("last-good-backup", "critical"),
      annotations: {
        summary: `${a.database}: last-good-backup older than ${a.alarmAfterHours} h (critical)`,
        description: `CRITICAL: no verified backup of ${a.database} in the last ${a.alarmAfterHours} h (RPO ${a.rpoHours} h plus the schedule's gap and the run time), or none was ever recorded. Check the opsbook-backup CronJob's last Jobs (kubectl get jobs, kubectl logs) and run one by hand (kubectl create job --from=cronjob/opsbook-backup).`,
        runbook_url: `${a.runbookUrl}#backups`,
      },
    },
    {
      alert: "RestoreDrill",
      expr: `min(${PROMETHEUS_METRIC.restoreDrillSuccess}${sel}) < 1`,
      for: "0m",
      labels: labels("restore-drill", "warning"),
      annotations: {
        summary: `${a.database}: restore-drill failed (warning)`,
        description: `WARNING: the last restore drill of ${a.database} failed: the newest dump did not restore with its row counts. Read the opsbook-restore-drill Job's log; the alert clears when a drill passes.`,
        runbook_url: `${a.runbookUrl}#backups`,
      },
    },
  ];
  return { name: `opsbook-${a.environment}-backups`, rules };
}
