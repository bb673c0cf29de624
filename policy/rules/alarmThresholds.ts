/**
 * Alarms no looser than the runbook table (lib/thresholds.ts): a threshold beyond the runbook's
 * for the alarm's severity, a comparison the wrong way round or a window longer than the
 * runbook's turns a page into silence. And the backup-freshness alarm (R-backup-rpo) exists,
 * notifies, and counts a silent backup job as a breach.
 */
import type * as aws from "@pulumi/aws";
import type { Unwrap } from "@pulumi/pulumi";
import { BACKUP_METRIC } from "../../lib/backupContract";
import { LOWER_IS_WORSE, THRESHOLDS, type ThresholdMetric } from "../../lib/thresholds";
import { type OpsbookPolicy, message, ofTypes, resourceRule, show, stackRule } from "./common";
import { METRIC_ALARM } from "./cloudwatch";
import { RDS_INSTANCE } from "./rds";
import { metricsOf } from "./alarms";

type Alarm = Unwrap<aws.cloudwatch.MetricAlarmArgs>;

/** How an alarm on a metric is held against the runbook table. */
export interface ThresholdLimit {
  namespace: string;
  /** Any of these metrics, as the alarm's own or inside its metric math. */
  metricNames: string[];
  /** The row of lib/thresholds.ts. */
  threshold: ThresholdMetric;
  /** Multiplies the table's value into the alarm's unit (0.001: ms against TargetResponseTime in seconds). */
  scale: number;
  /** Longest time a breach may last before the alarm fires (period x evaluation periods), in minutes. */
  maximumWindowMinutes: number;
  /**
   * The metric is not in the table's unit (bytes, counts): only metric math turns it into one (free
   * bytes into % used, 5xx into a share of requests), so only such alarms are compared.
   */
  mathOnly: boolean;
}

/**
 * The alarm families and the window the program gives each (components/monitoring/alarmCatalogue.ts):
 * five one-minute periods, fifteen minutes for the cache hit rate, a day for certificates.
 */
export const DEFAULT_LIMITS: ThresholdLimit[] = [
  {
    namespace: "AWS/ApplicationELB",
    metricNames: ["HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count"],
    threshold: "httpErrorRatePercent",
    scale: 1,
    mathOnly: true,
    maximumWindowMinutes: 5,
  },
  {
    namespace: "AWS/ApplicationELB",
    metricNames: ["TargetResponseTime"],
    threshold: "responseTimeP95Ms",
    scale: 0.001,
    mathOnly: false,
    maximumWindowMinutes: 5,
  },
  {
    namespace: "AWS/ECS",
    metricNames: ["CPUUtilization"],
    threshold: "cpuPercent",
    scale: 1,
    mathOnly: false,
    maximumWindowMinutes: 5,
  },
  {
    namespace: "AWS/ECS",
    metricNames: ["MemoryUtilization"],
    threshold: "memoryPercent",
    scale: 1,
    mathOnly: false,
    maximumWindowMinutes: 5,
  },
  {
    namespace: "AWS/RDS",
    metricNames: ["CPUUtilization"],
    threshold: "cpuPercent",
    scale: 1,
    mathOnly: false,
    maximumWindowMinutes: 5,
  },
  {
    namespace: "AWS/RDS",
    metricNames: ["FreeableMemory"],
    threshold: "memoryPercent",
    scale: 1,
    mathOnly: true,
    maximumWindowMinutes: 5,
  },
  {
    namespace: "AWS/RDS",
    metricNames: ["FreeStorageSpace"],
    threshold: "diskPercent",
    scale: 1,
    mathOnly: true,
    maximumWindowMinutes: 5,
  },
  {
    namespace: "AWS/RDS",
    metricNames: ["DatabaseConnections"],
    threshold: "dbConnectionsPercent",
    scale: 1,
    mathOnly: true,
    maximumWindowMinutes: 5,
  },
  {
    namespace: "AWS/ElastiCache",
    metricNames: ["EngineCPUUtilization", "CPUUtilization"],
    threshold: "cpuPercent",
    scale: 1,
    mathOnly: false,
    maximumWindowMinutes: 5,
  },
  {
    namespace: "AWS/ElastiCache",
    metricNames: ["DatabaseMemoryUsagePercentage"],
    threshold: "memoryPercent",
    scale: 1,
    mathOnly: false,
    maximumWindowMinutes: 5,
  },
  {
    namespace: "AWS/ElastiCache",
    metricNames: ["CacheHits"],
    threshold: "cacheHitRatePercent",
    scale: 1,
    mathOnly: true,
    maximumWindowMinutes: 15,
  },
  {
    namespace: "AWS/ElastiCache",
    metricNames: ["CacheHitRate"],
    threshold: "cacheHitRatePercent",
    scale: 1,
    mathOnly: false,
    maximumWindowMinutes: 15,
  },
  {
    namespace: "AWS/CertificateManager",
    metricNames: ["DaysToExpiry"],
    threshold: "certificateDaysToExpiry",
    scale: 1,
    mathOnly: false,
    maximumWindowMinutes: 1440,
  },
];

interface ThresholdConfig {
  limits: ThresholdLimit[];
  thresholds: Record<string, { warning: number; critical: number }>;
  severityTag: string;
  exemptTag: { key: string; value: string };
}

const ABOVE = new Set(["GreaterThanThreshold", "GreaterThanOrEqualToThreshold"]);
const BELOW = new Set(["LessThanThreshold", "LessThanOrEqualToThreshold"]);

/** The longest period an alarm reads, in seconds: its own, or the longest of its metric queries. */
function periodOf(alarm: Alarm): number {
  return Math.max(alarm.period ?? 0, ...(alarm.metricQueries ?? []).map((q) => q.metric?.period ?? q.period ?? 0));
}

export const alarmThresholdsRunbook = resourceRule<Alarm, ThresholdConfig>({
  name: "alarm-thresholds-runbook",
  description:
    "No alarm on a runbook metric is looser than the runbook table for its severity: threshold, comparison direction and window (period x evaluation periods).",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["runbook 000"], // R-alert-* rows of docs/runbooks.md
  types: [METRIC_ALARM],
  kind: "Alarm",
  preview:
    "dimensions built from resources created in the same update are unknown; the engine then reports this rule as advisory until the update.",
  remediationSteps:
    "Set the alarm at the runbook threshold of its severity (opsbook:thresholds), compare in the metric's bad direction, and fire within the runbook's window.",
  config: {
    limits: {
      type: "array",
      items: {
        type: "object",
        properties: {
          namespace: { type: "string" },
          metricNames: { type: "array", items: { type: "string" }, minItems: 1 },
          threshold: { type: "string", enum: Object.keys(THRESHOLDS) },
          scale: { type: "number" },
          maximumWindowMinutes: { type: "number", minimum: 1 },
          mathOnly: { type: "boolean" },
        },
        required: ["namespace", "metricNames", "threshold", "scale", "maximumWindowMinutes", "mathOnly"],
      },
      default: DEFAULT_LIMITS,
      description: "Which metrics are held against which row of the runbook table, and their longest window.",
    },
    thresholds: {
      type: "object",
      default: THRESHOLDS,
      description: "The runbook table (lib/thresholds.ts): metric -> { warning, critical }.",
    },
    severityTag: {
      type: "string",
      default: "severity",
      description: "Tag carrying the alarm's severity; an alarm without it is held to the critical value.",
    },
    exemptTag: {
      type: "object",
      default: { key: "purpose", value: "rollback" },
      description:
        "Alarms with this tag follow their own numbers: the rollback triggers of runbook 004 (10 % for 1 min), checked by ecs-rollback-timing.",
    },
  },
  check: ({ props, report }, config) => {
    if (props.tags?.[config.exemptTag.key] === config.exemptTag.value) return;
    const metrics = metricsOf(props);
    const limit = config.limits.find((l) =>
      metrics.some((m) => m.namespace === l.namespace && l.metricNames.includes(m.metricName ?? "")),
    );
    if (!limit) return;
    // A raw byte or count metric has no threshold the table can be compared with.
    if (limit.mathOnly && !(props.metricQueries ?? []).some((q) => q.expression !== undefined)) return;
    const row = config.thresholds[limit.threshold];
    if (!row) return;
    const severity = props.tags?.[config.severityTag] === "warning" ? "warning" : "critical";
    const lowerIsWorse = LOWER_IS_WORSE.has(limit.threshold);
    const runbook = row[severity] * limit.scale;
    const fix = `pulumi config set --path 'opsbook:thresholds.${limit.threshold}.${severity}' ${row[severity]} (or remove the override)`;
    const operator = props.comparisonOperator ?? "";
    if (!(lowerIsWorse ? BELOW : ABOVE).has(operator)) {
      report(
        "comparisonOperator",
        show(props.comparisonOperator),
        lowerIsWorse ? "LessThanThreshold (lower is worse)" : "GreaterThanThreshold (higher is worse)",
        `set comparisonOperator: "${lowerIsWorse ? "LessThanThreshold" : "GreaterThanThreshold"}"`,
      );
    }
    const threshold = props.threshold;
    if (typeof threshold === "number" && (lowerIsWorse ? threshold < runbook : threshold > runbook)) {
      report(
        "threshold",
        `${threshold} (${limit.threshold}, ${severity})`,
        `${lowerIsWorse ? "at least" : "at most"} ${runbook}, the runbook's ${severity} value`,
        fix,
      );
    }
    const windowSeconds = periodOf(props) * (props.evaluationPeriods ?? 1);
    if (windowSeconds > limit.maximumWindowMinutes * 60) {
      report(
        "period x evaluationPeriods",
        `${windowSeconds / 60} min`,
        `at most ${limit.maximumWindowMinutes} min before the alarm fires`,
        `fire within ${limit.maximumWindowMinutes} min: fewer evaluationPeriods or a shorter period`,
      );
    }
  },
});

export const backupFreshnessAlarm = stackRule<{ metricName: string }>({
  name: "backup-freshness-alarm",
  description:
    "A stack with a database has an alarm on the age of its last good backup that notifies, with actions enabled, and treats a silent backup job as breaching.",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["runbook 001"], // R-backup-rpo
  preview:
    "the ARN of a topic created in the same update is unknown; the engine then reports this rule as advisory until the update.",
  remediationSteps:
    'Declare the backups\' "last good backup" alarm (components/backup) on LastSuccessfulBackupTimestamp with alarmActions [the critical topic], actions enabled and treatMissingData "breaching".',
  config: {
    metricName: {
      type: "string",
      default: BACKUP_METRIC.lastSuccessfulBackupTimestamp,
      description: "Metric the backup job publishes after each verified backup.",
    },
  },
  check: (resources, config, report) => {
    const databases = ofTypes(resources, [RDS_INSTANCE]);
    if (databases.length === 0) return;
    const alarms = ofTypes(resources, [METRIC_ALARM]).filter((a) =>
      metricsOf(a.props as Unwrap<aws.cloudwatch.MetricAlarmState>).some((m) => m.metricName === config.metricName),
    );
    if (alarms.length === 0) {
      for (const db of databases)
        report(
          db,
          message(
            `RDS instance "${db.name}"`,
            `backup-freshness alarm (on ${config.metricName})`,
            "missing",
            "an alarm that fires when no verified backup arrived within the RPO",
            "declare the Backups component (opsbook:backup), whose alarm watches the job's metric",
          ),
        );
      return;
    }
    for (const a of alarms) {
      const props = a.props as Alarm;
      const silenced = [
        (props.alarmActions ?? []).length === 0 ? "alarmActions is empty" : undefined,
        props.actionsEnabled === false ? "actionsEnabled is false" : undefined,
        props.treatMissingData !== "breaching"
          ? `treatMissingData is ${show(props.treatMissingData ?? "missing")}`
          : undefined,
      ].filter((x): x is string => x !== undefined);
      if (silenced.length > 0)
        report(
          a,
          message(
            `Alarm "${a.name}"`,
            "backup freshness",
            `silenced: ${silenced.join(", ")}`,
            'alarmActions [the critical topic], actions enabled, treatMissingData "breaching" (a job that publishes nothing has not backed up)',
            'set alarmActions, remove actionsEnabled: false and set treatMissingData: "breaching"',
          ),
        );
    }
  },
});

export const alarmThresholdPolicies: OpsbookPolicy[] = [alarmThresholdsRunbook, backupFreshnessAlarm];
