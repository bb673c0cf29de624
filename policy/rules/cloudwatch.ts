/**
 * CloudWatch: log groups kept for a bounded, long-enough time and encrypted; alarms that notify.
 * Whether every service, database and cache has its alarms is `runbook-alarm-coverage` (alarms.ts).
 */
import type * as aws from "@pulumi/aws";
import type { Unwrap } from "@pulumi/pulumi";
import { type OpsbookPolicy, dayCount, resourceRule, show } from "./common";

export const LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup";
export const METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";

type LogGroup = Unwrap<aws.cloudwatch.LogGroupArgs>;
type MetricAlarm = Unwrap<aws.cloudwatch.MetricAlarmArgs>;

export const cloudwatchLogGroupRetention = resourceRule<LogGroup, { minimumRetentionDays: number }>({
  name: "cloudwatch-log-group-retention",
  description: "Every log group expires its events, after at least the configured days.",
  enforcementLevel: "mandatory",
  severity: "low",
  sources: ["CKV_AWS_66", "CKV_AWS_338"],
  types: [LOG_GROUP],
  kind: "Log group",
  remediationSteps:
    "Set retentionInDays to a CloudWatch-allowed value at least the minimum (logRetentionDays in the stack file).",
  config: {
    minimumRetentionDays: {
      type: "integer",
      minimum: 1,
      default: 30,
      description: "Fewest days a log group keeps events.",
    },
  },
  check: ({ props, report }, config) => {
    const days = props.retentionInDays;
    if (typeof days !== "number" || days === 0 || days < config.minimumRetentionDays) {
      report(
        "retentionInDays",
        days === undefined || days === 0 ? "not set (events never expire)" : show(days),
        `at least ${dayCount(config.minimumRetentionDays)}`,
        `set retentionInDays (pulumi config set 'opsbook:logRetentionDays' ${config.minimumRetentionDays} or more)`,
      );
    }
  },
});

export const cloudwatchLogGroupEncrypted = resourceRule<LogGroup>({
  name: "cloudwatch-log-group-encrypted",
  description: "Every log group is encrypted with a customer-managed KMS key.",
  enforcementLevel: "mandatory",
  severity: "medium",
  sources: ["CKV_AWS_158"],
  types: [LOG_GROUP],
  kind: "Log group",
  preview:
    "a KMS key created in the same update has no ARN yet; the engine then reports this rule as advisory until the update.",
  remediationSteps: "Set kmsKeyId to the stack's logs key; its key policy must let logs.<region>.amazonaws.com use it.",
  check: ({ props, report }) => {
    if (!props.kmsKeyId)
      report(
        "kmsKeyId",
        "not set",
        "the ARN of a customer-managed KMS key that CloudWatch Logs may use",
        "set kmsKeyId to the stack's logs key ARN",
      );
  },
});

export const cloudwatchAlarmActions = resourceRule<MetricAlarm>({
  name: "cloudwatch-alarm-actions",
  description: "Every alarm notifies someone: it has alarm actions, and actions are enabled.",
  enforcementLevel: "mandatory",
  severity: "medium",
  sources: ["CKV_AWS_319"],
  types: [METRIC_ALARM],
  kind: "Alarm",
  preview:
    "the ARN of a topic created in the same update is unknown; the engine then reports this rule as advisory until the update.",
  remediationSteps:
    "Set alarmActions (and okActions) to the SNS topic of the alarm's severity and leave actionsEnabled unset or true.",
  check: ({ props, report }) => {
    if ((props.alarmActions ?? []).length === 0)
      report(
        "alarmActions",
        show(props.alarmActions),
        "at least one action (the warning or critical SNS topic)",
        "set alarmActions: [<topic of the alarm's severity>.arn]",
      );
    if (props.actionsEnabled === false)
      report("actionsEnabled", "false", "true (the default)", "remove actionsEnabled: false");
  },
});

export const cloudwatchPolicies: OpsbookPolicy[] = [
  cloudwatchLogGroupRetention,
  cloudwatchLogGroupEncrypted,
  cloudwatchAlarmActions,
];
