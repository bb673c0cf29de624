/**
 * CloudWatch metrics, the only signal the alarms see. Publishing sits behind an interface so
 * tests (and `METRICS_ENABLED=false`) can swap CloudWatch for something local; production
 * publishes by default.
 */
import { CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import type { MetricsConfig } from "./config";
import type { Logger } from "./log";
import type { AwsCredentials } from "./storage";
import { BACKUP_ENV, BACKUP_METRIC, DATABASE_DIMENSION } from "../../../lib/backupContract";
import { pushgatewayPublisher } from "./pushgateway";

/** Metric names, published in the configured namespace with the single dimension {@link DATABASE_DIMENSION}. */
export const METRIC = BACKUP_METRIC;

export { DATABASE_DIMENSION };

export type MetricUnit = "Seconds" | "Bytes" | "Count";

export interface Metric {
  name: (typeof METRIC)[keyof typeof METRIC];
  value: number;
  unit: MetricUnit;
}

export interface MetricsPublisher {
  /** Publishes the metrics for one database, all stamped with `at`. */
  publish(database: string, metrics: readonly Metric[], at: Date): Promise<void>;
}

/**
 * The publisher the configuration asks for: CloudWatch, a Prometheus Pushgateway (with
 * `PUSHGATEWAY_URL`), or (with `METRICS_ENABLED=false`) one that only logs what it would have sent.
 */
export function createMetricsPublisher(
  config: MetricsConfig,
  region: string,
  log: Logger,
  credentials?: AwsCredentials,
): MetricsPublisher {
  if (!config.enabled) {
    return loggingPublisher(log);
  }
  if (config.pushgatewayUrl !== undefined) {
    return pushgatewayPublisher(config.pushgatewayUrl);
  }
  const client = new CloudWatchClient({
    region,
    ...(config.endpoint !== undefined && { endpoint: config.endpoint }),
    ...(credentials !== undefined && { credentials }),
  });
  return cloudWatchPublisher(client, config.namespace);
}

/** Publishes through PutMetricData, one call per run (well under its 1,000-datum limit). */
export function cloudWatchPublisher(client: CloudWatchClient, namespace: string): MetricsPublisher {
  return {
    async publish(database, metrics, at) {
      await client.send(
        new PutMetricDataCommand({
          Namespace: namespace,
          MetricData: metrics.map((metric) => ({
            MetricName: metric.name,
            Value: metric.value,
            Unit: metric.unit,
            Timestamp: at,
            Dimensions: [{ Name: DATABASE_DIMENSION, Value: database }],
          })),
        }),
      );
    },
  };
}

/** Stands in for CloudWatch when metrics are switched off, so a run still shows what it measured. */
export function loggingPublisher(log: Logger): MetricsPublisher {
  return {
    publish(database, metrics) {
      const values = Object.fromEntries(metrics.map((m) => [m.name, m.value]));
      log.info(`metrics disabled (${BACKUP_ENV.metricsEnabled}=false); not published`, { database, ...values });
      return Promise.resolve();
    },
  };
}

/** Metrics of a verified backup. */
export function backupSucceededMetrics(finishedAt: Date, sizeBytes: number, durationSeconds: number): Metric[] {
  return [
    { name: METRIC.backupSuccess, value: 1, unit: "Count" },
    { name: METRIC.lastSuccessfulBackupTimestamp, value: Math.floor(finishedAt.getTime() / 1000), unit: "Seconds" },
    { name: METRIC.backupSizeBytes, value: sizeBytes, unit: "Bytes" },
    { name: METRIC.backupDurationSeconds, value: roundSeconds(durationSeconds), unit: "Seconds" },
  ];
}

/** Metrics of a failed backup: only the failure, so the age alarm keeps counting from the last good one. */
export function backupFailedMetrics(): Metric[] {
  return [{ name: METRIC.backupSuccess, value: 0, unit: "Count" }];
}

/** Metrics of a restore drill; the time to recover is only meaningful when it worked. */
export function drillMetrics(succeeded: boolean, timeToRecoverSeconds: number | undefined): Metric[] {
  const metrics: Metric[] = [{ name: METRIC.restoreDrillSuccess, value: succeeded ? 1 : 0, unit: "Count" }];
  // Also when the drill restored everything but slower than the RTO: how much slower is the point.
  if (timeToRecoverSeconds !== undefined) {
    metrics.push({
      name: METRIC.restoreDrillTimeToRecoverSeconds,
      value: roundSeconds(timeToRecoverSeconds),
      unit: "Seconds",
    });
  }
  return metrics;
}

const roundSeconds = (seconds: number): number => Math.round(seconds * 1000) / 1000;
