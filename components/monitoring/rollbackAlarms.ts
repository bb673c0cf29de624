import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { RollbackSettings } from "../service/settings";

/** The rollback triggers (`opsbook:rollback`, R-rollback-auto). */
export type RollbackTriggers = RollbackSettings;

/** Every rollback alarm evaluates one-minute periods, so a trigger of N minutes is N periods. */
export const ROLLBACK_ALARM_PERIOD_SECONDS = 60;

export interface RollbackAlarmsArgs extends RollbackTriggers {
  /** Alarm names start with this, e.g. `opsbook-production-api`. */
  namePrefix: string;
  /** `arnSuffix` of the load balancer and of the service's target group: the metric dimensions. */
  loadBalancerArnSuffix: pulumi.Input<string>;
  targetGroupArnSuffix: pulumi.Input<string>;
  /**
   * SNS topic told when a deploy is being rolled back: the warning topic, since the catalogue's
   * critical alarms on the same signals (unhealthy targets, 5xx rate) page for the event once.
   */
  actionArn: pulumi.Input<string>;
}

/** The two alarms an ECS deployment watches; either one in ALARM rolls the deployment back. */
export interface RollbackAlarmSet {
  unhealthy: aws.cloudwatch.MetricAlarm;
  errorRate: aws.cloudwatch.MetricAlarm;
  /** Names to hand to the ECS service's `alarms.alarmNames`. */
  names: string[];
}

/**
 * Declares the automatic-rollback alarms of one service, from the runbook's triggers. One-minute
 * periods, so a trigger of N minutes fires after N consecutive breaching minutes. Missing data
 * (no traffic, no targets yet) is not breaching: a quiet service is not a failed deploy.
 */
export function rollbackAlarms(name: string, args: RollbackAlarmsArgs, parent: pulumi.Resource): RollbackAlarmSet {
  const dimensions = { LoadBalancer: args.loadBalancerArnSuffix, TargetGroup: args.targetGroupArnSuffix };
  const unhealthyName = `${args.namePrefix}-rollback-unhealthy-targets`;
  const errorName = `${args.namePrefix}-rollback-error-rate`;
  const unhealthy = new aws.cloudwatch.MetricAlarm(
    `${name}-rollback-unhealthy`,
    {
      name: unhealthyName,
      alarmDescription: `Targets of ${args.namePrefix} failed health checks for ${args.unhealthyForMinutes} min. A deploy in progress rolls back by itself; otherwise follow the rollback runbook.`,
      namespace: "AWS/ApplicationELB",
      metricName: "UnHealthyHostCount",
      dimensions,
      statistic: "Maximum",
      period: ROLLBACK_ALARM_PERIOD_SECONDS,
      evaluationPeriods: args.unhealthyForMinutes,
      datapointsToAlarm: args.unhealthyForMinutes,
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
      treatMissingData: "notBreaching",
      alarmActions: [args.actionArn],
      okActions: [args.actionArn],
      tags: { severity: "warning", purpose: "rollback" },
    },
    { parent },
  );
  const errorRate = new aws.cloudwatch.MetricAlarm(
    `${name}-rollback-error-rate`,
    {
      name: errorName,
      alarmDescription: `5xx responses of ${args.namePrefix} above ${args.errorRatePercent}% of requests for ${args.errorRateForMinutes} min. A deploy in progress rolls back by itself; otherwise follow the rollback runbook.`,
      metricQueries: [
        {
          id: "errors",
          metric: {
            namespace: "AWS/ApplicationELB",
            metricName: "HTTPCode_Target_5XX_Count",
            dimensions,
            stat: "Sum",
            period: ROLLBACK_ALARM_PERIOD_SECONDS,
          },
        },
        {
          id: "requests",
          metric: {
            namespace: "AWS/ApplicationELB",
            metricName: "RequestCount",
            dimensions,
            stat: "Sum",
            period: ROLLBACK_ALARM_PERIOD_SECONDS,
          },
        },
        // No requests means no errors, not a division by zero.
        {
          id: "rate",
          expression: "IF(requests > 0, 100 * errors / requests, 0)",
          label: "5xx rate (%)",
          returnData: true,
        },
      ],
      evaluationPeriods: args.errorRateForMinutes,
      datapointsToAlarm: args.errorRateForMinutes,
      comparisonOperator: "GreaterThanThreshold",
      threshold: args.errorRatePercent,
      treatMissingData: "notBreaching",
      alarmActions: [args.actionArn],
      okActions: [args.actionArn],
      tags: { severity: "warning", purpose: "rollback" },
    },
    { parent },
  );
  return { unhealthy, errorRate, names: [unhealthyName, errorName] };
}
