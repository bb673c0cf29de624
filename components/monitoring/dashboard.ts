import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AlarmDefinition, MetricRef } from "./alarmCatalogue";

/** A metric as a dashboard widget row: namespace, name, dimension pairs, then options. */
function metricRow(m: MetricRef, options: Record<string, unknown>): pulumi.Input<unknown>[] {
  return [
    m.namespace,
    m.metricName,
    ...Object.entries(m.dimensions).flatMap(([k, v]) => [k, v]),
    { stat: m.stat, ...options },
  ];
}

/** The widget of one definition: its signal with the warning and critical thresholds drawn on it. */
export function widget(d: AlarmDefinition, region: string, index: number): Record<string, unknown> {
  const metrics =
    "metric" in d.signal
      ? [metricRow(d.signal.metric, { period: d.periodSeconds })]
      : [
          [{ expression: d.signal.expression, label: d.signal.label, id: "signal" }],
          ...Object.entries(d.signal.metrics).map(([id, m]) =>
            metricRow(m, { id, visible: false, period: d.periodSeconds }),
          ),
        ];
  const scale = d.scale ?? 1;
  const horizontal = (["warning", "critical"] as const)
    .filter((severity) => d.thresholds[severity] !== undefined)
    .map((severity) => ({
      label: severity,
      value: d.thresholds[severity]! * scale,
      color: severity === "critical" ? "#d62728" : "#ff7f0e",
      ...(d.direction === "below" ? { fill: "below" } : {}),
    }));
  return {
    type: "metric",
    x: (index % 2) * 12,
    y: Math.floor(index / 2) * 6,
    width: 12,
    height: 6,
    properties: {
      title: `${d.subject}: ${d.what}`,
      region,
      view: "timeSeries",
      period: d.periodSeconds,
      metrics,
      annotations: { horizontal },
    },
  };
}

/** One CloudWatch dashboard for the stack: every alarmed signal, thresholds drawn. */
export class Dashboard extends pulumi.ComponentResource {
  readonly dashboard: aws.cloudwatch.Dashboard;

  constructor(
    name: string,
    args: { dashboardName: string; region: string; definitions: AlarmDefinition[] },
    opts?: pulumi.ComponentResourceOptions,
  ) {
    super("opsbook:monitoring:Dashboard", name, {}, opts);
    this.dashboard = new aws.cloudwatch.Dashboard(
      `${name}`,
      {
        dashboardName: args.dashboardName,
        dashboardBody: pulumi.jsonStringify({ widgets: args.definitions.map((d, i) => widget(d, args.region, i)) }),
      },
      { parent: this },
    );
    this.registerOutputs({ dashboardName: this.dashboard.dashboardName });
  }
}
