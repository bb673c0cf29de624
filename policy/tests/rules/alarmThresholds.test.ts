import { THRESHOLDS } from "../../../lib/thresholds";
import * as at from "../../rules/alarmThresholds";
import { METRIC_ALARM } from "../../rules/cloudwatch";
import { RDS_INSTANCE } from "../../rules/rds";
import { changed, resource, stackViolations, violations } from "../helpers";

/** The service CPU alarm as the alarm catalogue declares it, at the runbook's numbers. */
const cpu = (severity: "warning" | "critical") => ({
  name: `prod-api-cpu-${severity}`,
  namespace: "AWS/ECS",
  metricName: "CPUUtilization",
  dimensions: { ClusterName: "prod", ServiceName: "api" },
  statistic: "Average",
  period: 60,
  evaluationPeriods: 5,
  comparisonOperator: "GreaterThanThreshold",
  threshold: THRESHOLDS.cpuPercent[severity],
  alarmActions: ["arn:aws:sns:eu-west-1:123456789012:prod-warning"],
  tags: { severity, family: "cpu" },
});

/** The cache hit-rate alarm: lower is worse, metric math, a 15-minute window. */
const hitRate = {
  name: "prod-cache-hit-rate-warning",
  comparisonOperator: "LessThanThreshold",
  threshold: THRESHOLDS.cacheHitRatePercent.warning,
  evaluationPeriods: 3,
  metricQueries: [
    { id: "hits1", metric: { namespace: "AWS/ElastiCache", metricName: "CacheHits", period: 300, stat: "Sum" } },
    { id: "signal", expression: "100 * hits1 / hits1", returnData: true },
  ],
  alarmActions: ["arn:aws:sns:eu-west-1:123456789012:prod-warning"],
  tags: { severity: "warning" },
};

describe("alarm-thresholds-runbook", () => {
  test("passes alarms at the runbook's numbers, tighter ones, metric math, and unrelated metrics", async () => {
    for (const alarm of [cpu("warning"), cpu("critical"), hitRate, changed(cpu("warning"), { threshold: 60 })])
      expect(await violations(at.alarmThresholdsRunbook, METRIC_ALARM, alarm)).toEqual([]);
    expect(
      await violations(at.alarmThresholdsRunbook, METRIC_ALARM, {
        ...cpu("warning"),
        namespace: "Opsbook/App",
        metricName: "QueueDepth",
        threshold: 5000,
      }),
    ).toEqual([]);
  });

  test("reports a threshold looser than the table for the alarm's severity", async () => {
    expect(
      await violations(at.alarmThresholdsRunbook, METRIC_ALARM, changed(cpu("warning"), { threshold: 85 }), {
        name: "prod-api-cpu-warning",
      }),
    ).toEqual([
      `Alarm "prod-api-cpu-warning": threshold is 85 (cpuPercent, warning); required: at most ${THRESHOLDS.cpuPercent.warning}, the runbook's warning value. Fix: pulumi config set --path 'opsbook:thresholds.cpuPercent.warning' ${THRESHOLDS.cpuPercent.warning} (or remove the override).`,
    ]);
    expect(
      await violations(at.alarmThresholdsRunbook, METRIC_ALARM, changed(hitRate, { threshold: 60 }), { name: "hit" }),
    ).toEqual([expect.stringContaining(`threshold is 60 (cacheHitRatePercent, warning); required: at least 80`)]);
  });

  test("holds an alarm without a severity tag to the critical value", async () => {
    const untagged = changed(cpu("critical"), { tags: undefined, threshold: THRESHOLDS.cpuPercent.critical + 1 });
    expect(await violations(at.alarmThresholdsRunbook, METRIC_ALARM, untagged)).toEqual([
      expect.stringContaining(`(cpuPercent, critical); required: at most ${THRESHOLDS.cpuPercent.critical}`),
    ]);
  });

  test("reports a comparison the wrong way round and a window longer than the runbook's", async () => {
    expect(
      await violations(
        at.alarmThresholdsRunbook,
        METRIC_ALARM,
        changed(cpu("critical"), { comparisonOperator: "LessThanThreshold", evaluationPeriods: 15 }),
        { name: "cpu" },
      ),
    ).toEqual([
      'Alarm "cpu": comparisonOperator is "LessThanThreshold"; required: GreaterThanThreshold (higher is worse). Fix: set comparisonOperator: "GreaterThanThreshold".',
      'Alarm "cpu": period x evaluationPeriods is 15 min; required: at most 5 min before the alarm fires. Fix: fire within 5 min: fewer evaluationPeriods or a shorter period.',
    ]);
  });

  test("leaves the rollback triggers, which follow runbook 004's numbers, to ecs-rollback-timing", async () => {
    const rollback = {
      name: "prod-api-rollback-error-rate",
      comparisonOperator: "GreaterThanThreshold",
      threshold: 10,
      evaluationPeriods: 1,
      metricQueries: [
        {
          id: "errors",
          metric: { namespace: "AWS/ApplicationELB", metricName: "HTTPCode_Target_5XX_Count", period: 60, stat: "Sum" },
        },
        {
          id: "requests",
          metric: { namespace: "AWS/ApplicationELB", metricName: "RequestCount", period: 60, stat: "Sum" },
        },
        { id: "rate", expression: "100 * errors / requests", returnData: true },
      ],
      alarmActions: ["arn:aws:sns:eu-west-1:123456789012:prod-warning"],
      tags: { severity: "warning", purpose: "rollback" },
    };
    expect(await violations(at.alarmThresholdsRunbook, METRIC_ALARM, rollback)).toEqual([]);
    expect(
      await violations(at.alarmThresholdsRunbook, METRIC_ALARM, changed(rollback, { tags: { severity: "warning" } })),
    ).toEqual([expect.stringContaining("threshold is 10 (httpErrorRatePercent, warning)")]);
  });
});

test("alarm-thresholds-runbook compares a byte or count metric only through the metric math that makes it a percentage", async () => {
  const raw = { ...cpu("warning"), namespace: "AWS/RDS", metricName: "FreeStorageSpace", threshold: 10_000_000_000 };
  expect(await violations(at.alarmThresholdsRunbook, METRIC_ALARM, raw)).toEqual([]);
});

describe("backup-freshness-alarm", () => {
  const db = resource(RDS_INSTANCE, "prod-db", { identifier: "prod" });
  const freshness = {
    name: "prod-backups-last-good-backup-critical",
    namespace: "Opsbook/Backup/prod",
    metricName: "LastSuccessfulBackupTimestamp",
    dimensions: { Database: "app" },
    statistic: "SampleCount",
    period: 3600,
    evaluationPeriods: 28,
    comparisonOperator: "LessThanThreshold",
    threshold: 1,
    treatMissingData: "breaching",
    alarmActions: ["arn:aws:sns:eu-west-1:123456789012:prod-critical"],
  };

  test("passes a stack with the alarm, and a stack with no database", async () => {
    expect(await stackViolations(at.backupFreshnessAlarm, [db, resource(METRIC_ALARM, "fresh", freshness)])).toEqual(
      [],
    );
    expect(await stackViolations(at.backupFreshnessAlarm, [])).toEqual([]);
  });

  test("reports a database without the alarm", async () => {
    expect(await stackViolations(at.backupFreshnessAlarm, [db])).toEqual([
      'prod-db: RDS instance "prod-db": backup-freshness alarm (on LastSuccessfulBackupTimestamp) is missing; required: an alarm that fires when no verified backup arrived within the RPO. Fix: declare the Backups component (opsbook:backup), whose alarm watches the job\'s metric.',
    ]);
  });

  test("reports the alarm silenced: no action, actions disabled, or a silent job not breaching", async () => {
    const silenced = { ...freshness, alarmActions: [], actionsEnabled: false, treatMissingData: "notBreaching" };
    expect(await stackViolations(at.backupFreshnessAlarm, [db, resource(METRIC_ALARM, "fresh", silenced)])).toEqual([
      'fresh: Alarm "fresh": backup freshness is silenced: alarmActions is empty, actionsEnabled is false, treatMissingData is "notBreaching"; required: alarmActions [the critical topic], actions enabled, treatMissingData "breaching" (a job that publishes nothing has not backed up). Fix: set alarmActions, remove actionsEnabled: false and set treatMissingData: "breaching".',
    ]);
  });
});
