/**
 * Prometheus metrics through a Pushgateway (R-local-backup-metrics), for clusters without
 * CloudWatch: the same values as the CloudWatch publisher, as gauges in the text exposition
 * format, pushed to `/metrics/job/<job>/database/<database>`.
 */
import { BACKUP_METRIC, PROMETHEUS_METRIC, PUSHGATEWAY_JOB } from "../../../lib/backupContract";
import type { Metric, MetricsPublisher } from "./metrics";

const PROMETHEUS_NAMES: Record<string, string> = Object.fromEntries(
  (Object.keys(BACKUP_METRIC) as Array<keyof typeof BACKUP_METRIC>).map((k) => [
    BACKUP_METRIC[k],
    PROMETHEUS_METRIC[k],
  ]),
);

/** How long one push may take before the run counts it as failed. */
const PUSH_TIMEOUT_MS = 10_000;

/** The metrics in the Prometheus text exposition format (version 0.0.4), one gauge each. */
export function exposition(metrics: readonly Metric[]): string {
  return metrics
    .map((m) => {
      const name = PROMETHEUS_NAMES[m.name];
      if (name === undefined) throw new Error(`no Prometheus name for metric ${m.name}`);
      return `# TYPE ${name} gauge\n${name} ${m.value}\n`;
    })
    .join("");
}

/** The grouping key's path: the job and the database, each label value URL-encoded. */
export function groupPath(baseUrl: string, database: string): string {
  return `${baseUrl.replace(/\/+$/, "")}/metrics/job/${encodeURIComponent(PUSHGATEWAY_JOB)}/database/${encodeURIComponent(database)}`;
}

/**
 * Pushes with POST, which replaces only the metrics of the same names in the group: a failed
 * backup (which sends only its success gauge) leaves the last good backup's timestamp in place,
 * as the CloudWatch series keep it. Any answer but 2xx fails the push.
 */
export function pushgatewayPublisher(baseUrl: string, fetchImpl: typeof fetch = fetch): MetricsPublisher {
  return {
    async publish(database, metrics) {
      const url = groupPath(baseUrl, database);
      const response = await fetchImpl(url, {
        method: "POST",
        headers: { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" },
        body: exposition(metrics),
        signal: AbortSignal.timeout(PUSH_TIMEOUT_MS),
      });
      if (!response.ok) {
        const text = (await response.text()).slice(0, 200);
        throw new Error(`Pushgateway ${url} answered ${response.status} ${response.statusText}: ${text}`);
      }
    },
  };
}
