import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { SEVERITIES, type Severity } from "./alertTopics";
import { type AlarmDefinition, describe } from "./alarmCatalogue";

export interface AlarmSetArgs {
  /** Alarm names start with this, e.g. `opsbook-production`. */
  namePrefix: string;
  definitions: AlarmDefinition[];
  /** Topic per severity: each alarm notifies its severity's topic on ALARM and on OK. */
  topicArns: Record<Severity, pulumi.Input<string>>;
}

/** CloudWatch alarm name for a definition at a severity: `<prefix>-<subject>-<family>-<severity>`. */
export function alarmName(prefix: string, d: AlarmDefinition, severity: Severity): string {
  return `${prefix}-${d.subject}-${d.family}-${severity}`;
}

/** The inputs of one alarm, from its definition. Pure, so tests can read them without mocks. */
export function alarmInputs(
  prefix: string,
  d: AlarmDefinition,
  severity: Severity,
  topicArn: pulumi.Input<string>,
): aws.cloudwatch.MetricAlarmArgs {
  const threshold = d.thresholds[severity];
  if (threshold === undefined) throw new Error(`${d.subject}/${d.family} has no ${severity} threshold`);
  const signal: Partial<aws.cloudwatch.MetricAlarmArgs> =
    "metric" in d.signal
      ? {
          namespace: d.signal.metric.namespace,
          metricName: d.signal.metric.metricName,
          dimensions: d.signal.metric.dimensions,
          ...(/^p\d/.test(d.signal.metric.stat)
            ? { extendedStatistic: d.signal.metric.stat }
            : { statistic: d.signal.metric.stat }),
          period: d.periodSeconds,
        }
      : {
          metricQueries: [
            ...Object.entries(d.signal.metrics).map(([id, m]) => ({
              id,
              metric: {
                namespace: m.namespace,
                metricName: m.metricName,
                dimensions: m.dimensions,
                stat: m.stat,
                period: d.periodSeconds,
              },
              returnData: false,
            })),
            { id: "signal", expression: d.signal.expression, label: d.signal.label, returnData: true },
          ],
        };
  return {
    name: alarmName(prefix, d, severity),
    alarmDescription: describe(d, severity),
    ...signal,
    comparisonOperator: d.direction === "above" ? "GreaterThanThreshold" : "LessThanThreshold",
    threshold: threshold * (d.scale ?? 1),
    evaluationPeriods: d.evaluationPeriods,
    datapointsToAlarm: d.evaluationPeriods,
    treatMissingData: d.missingData,
    actionsEnabled: true,
    alarmActions: [topicArn],
    okActions: [topicArn],
    tags: { severity, family: d.family, subject: d.subject },
  };
}

/**
 * Declares every alarm of the definitions at every severity it has a threshold for, each wired
 * to its severity's topic.
 */
export class AlarmSet extends pulumi.ComponentResource {
  readonly alarms: aws.cloudwatch.MetricAlarm[] = [];
  /** Names of the critical alarms: a deploy does not start while one fires, and watches them after (R-deploy-post-watch). */
  readonly criticalAlarmNames: string[] = [];

  constructor(name: string, args: AlarmSetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("opsbook:monitoring:AlarmSet", name, {}, opts);
    const seen = new Set<string>();
    for (const d of args.definitions) {
      for (const severity of SEVERITIES) {
        if (d.thresholds[severity] === undefined) continue;
        const alarm = alarmName(args.namePrefix, d, severity);
        if (seen.has(alarm))
          throw new pulumi.ResourceError(
            `two alarms would be named ${alarm}: give custom alarms names of their own`,
            this,
          );
        seen.add(alarm);
        if (severity === "critical") this.criticalAlarmNames.push(alarm);
        this.alarms.push(
          new aws.cloudwatch.MetricAlarm(
            `${name}-${d.subject}-${d.family}-${severity}`,
            alarmInputs(args.namePrefix, d, severity, args.topicArns[severity]),
            { parent: this },
          ),
        );
      }
    }
    this.registerOutputs({ alarmNames: this.alarms.map((a) => a.name) });
  }
}
