import * as cw from "../../rules/cloudwatch";
import { changed, violations } from "../helpers";

const logGroup = {
  namePrefix: "/opsbook/prod/api-",
  retentionInDays: 365,
  kmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/logs-key",
};
const alarm = {
  name: "prod-api-cpu-critical",
  namespace: "AWS/ECS",
  metricName: "CPUUtilization",
  dimensions: { ClusterName: "prod", ServiceName: "api" },
  statistic: "Average",
  period: 60,
  evaluationPeriods: 5,
  threshold: 90,
  comparisonOperator: "GreaterThanThreshold",
  alarmActions: ["arn:aws:sns:eu-west-1:123456789012:prod-critical"],
  tags: { severity: "critical" },
};

test.each([cw.cloudwatchLogGroupRetention, cw.cloudwatchLogGroupEncrypted].map((p) => [p.name, p] as const))(
  "%s passes the compliant log group",
  async (_name, policy) => {
    expect(await violations(policy, cw.LOG_GROUP, logGroup)).toEqual([]);
  },
);

test("cloudwatch-alarm-actions passes the compliant alarm", async () => {
  expect(await violations(cw.cloudwatchAlarmActions, cw.METRIC_ALARM, alarm)).toEqual([]);
});

describe("cloudwatch-log-group-retention", () => {
  test("reports a log group that keeps events forever", async () => {
    expect(
      await violations(
        cw.cloudwatchLogGroupRetention,
        cw.LOG_GROUP,
        changed(logGroup, { retentionInDays: undefined }),
        { name: "api-logs" },
      ),
    ).toEqual([
      "Log group \"api-logs\": retentionInDays is not set (events never expire); required: at least 30 days. Fix: set retentionInDays (pulumi config set 'opsbook:logRetentionDays' 30 or more).",
    ]);
  });

  test("reads the minimum from config: a month is short of production's year", async () => {
    expect(
      await violations(cw.cloudwatchLogGroupRetention, cw.LOG_GROUP, changed(logGroup, { retentionInDays: 30 })),
    ).toEqual([]);
    expect(
      await violations(cw.cloudwatchLogGroupRetention, cw.LOG_GROUP, changed(logGroup, { retentionInDays: 30 }), {
        config: { minimumRetentionDays: 365 },
      }),
    ).toEqual([expect.stringContaining("retentionInDays is 30; required: at least 365 days")]);
  });
});

test("cloudwatch-log-group-encrypted reports a log group without a key", async () => {
  expect(
    await violations(cw.cloudwatchLogGroupEncrypted, cw.LOG_GROUP, changed(logGroup, { kmsKeyId: undefined }), {
      name: "api-logs",
    }),
  ).toEqual([
    'Log group "api-logs": kmsKeyId is not set; required: the ARN of a customer-managed KMS key that CloudWatch Logs may use. Fix: set kmsKeyId to the stack\'s logs key ARN.',
  ]);
});

describe("cloudwatch-alarm-actions", () => {
  test("reports an alarm that notifies nobody", async () => {
    expect(
      await violations(cw.cloudwatchAlarmActions, cw.METRIC_ALARM, changed(alarm, { alarmActions: [] }), {
        name: "api-cpu",
      }),
    ).toEqual([
      'Alarm "api-cpu": alarmActions is []; required: at least one action (the warning or critical SNS topic). Fix: set alarmActions: [<topic of the alarm\'s severity>.arn].',
    ]);
  });

  test("reports actions switched off", async () => {
    expect(
      await violations(cw.cloudwatchAlarmActions, cw.METRIC_ALARM, changed(alarm, { actionsEnabled: false }), {
        name: "api-cpu",
      }),
    ).toEqual([
      'Alarm "api-cpu": actionsEnabled is false; required: true (the default). Fix: remove actionsEnabled: false.',
    ]);
  });
});
