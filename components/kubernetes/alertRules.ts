/**
 * The runbook alarms of a Kubernetes service as Prometheus alerting rules (R-k8s-alerts): the same
 * families and the same `thresholds` table as the CloudWatch catalogue (alarmCatalogue.ts), so one
 * override changes both platforms. Pure: the component wraps the groups in a PrometheusRule, and
 * the tests run them through promtool.
 */
import { SUSTAINED_MINUTES } from "../../lib/thresholds";
import type { Severity } from "../monitoring/alertTopics";
import type { Thresholds } from "../monitoring/alarmCatalogue";
import type { RollbackSettings } from "../service/settings";
import type { KubernetesSettings } from "./settings";

/** One family of one service: an expression per severity, compared with its threshold. */
export interface AlertFamily {
  family: string;
  /** Plain words for the reader, e.g. "5xx responses of api as a share of its requests". */
  what: string;
  unit: string;
  /** Thresholds in `unit`; a rule is generated for each severity given. */
  thresholds: Partial<Record<Severity, number>>;
  /** Minutes the condition must hold before the alert fires, per severity. */
  forMinutes: Partial<Record<Severity, number>>;
  /** The PromQL of the value compared, in `unit`. */
  value: string;
  /** Section of docs/runbooks.md the alert links to. */
  anchor: string;
  action: string;
}

/** A Prometheus alerting rule as the prometheus-operator and promtool read it. */
export interface AlertRule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: { summary: string; description: string; runbook_url: string };
}

export interface AlertGroup {
  name: string;
  rules: AlertRule[];
}

export interface ServiceAlertArgs {
  /** The service's name: its Deployment's and container's name, and the `service` label of its metrics. */
  service: string;
  namespace: string;
  metrics: KubernetesSettings["metrics"];
  thresholds: Thresholds;
  rollback: RollbackSettings;
}

/** PromQL label matchers of a service's own series: its namespace and one other label. */
const matchers = (a: ServiceAlertArgs, label: string, extra = "") =>
  `namespace="${a.namespace}",${label}="${a.service}"${extra}`;

/**
 * 5xx as a share of requests, in %, over `window`. No requests is 0 / 0, which compares false:
 * no traffic is no error (as `notBreaching` on ECS).
 */
function errorRate(a: ServiceAlertArgs, window: string): string {
  const m = a.metrics;
  const errors = `sum(rate(${m.requestsTotal}{${matchers(a, "service", `,${m.statusCodeLabel}=~"5.."`)}}[${window}]))`;
  const all = `sum(rate(${m.requestsTotal}{${matchers(a, "service")}}[${window}]))`;
  return `100 * ${errors} / ${all}`;
}

/** The families of one service, with the thresholds of the stack (R-alert-*, R-rollback-auto). */
export function serviceAlertFamilies(a: ServiceAlertArgs): AlertFamily[] {
  const t = a.thresholds;
  const s = a.service;
  const container = matchers(a, "container");
  return [
    {
      family: "http-error-rate",
      what: `5xx responses of ${s} as a share of its requests`,
      unit: "%",
      thresholds: t.httpErrorRatePercent,
      forMinutes: { warning: SUSTAINED_MINUTES, critical: SUSTAINED_MINUTES },
      value: errorRate(a, "2m"),
      anchor: "alerts",
      action:
        "Check the service's logs and recent deploys; roll back (runbook: Rollback Procedures) if a deploy caused it.",
    },
    {
      family: "response-time-p95",
      what: `p95 response time of ${s}`,
      unit: "ms",
      thresholds: t.responseTimeP95Ms,
      forMinutes: { warning: SUSTAINED_MINUTES, critical: SUSTAINED_MINUTES },
      value: `1000 * histogram_quantile(0.95, sum by (le) (rate(${a.metrics.durationHistogram}_bucket{${matchers(a, "service")}}[2m])))`,
      anchor: "alerts",
      action: "Look for slow queries and saturated CPU or connections; scale out or roll back a slow release.",
    },
    {
      family: "cpu",
      what: `CPU of ${s}'s containers, as a share of their limits`,
      unit: "%",
      thresholds: t.cpuPercent,
      forMinutes: { warning: SUSTAINED_MINUTES, critical: SUSTAINED_MINUTES },
      // cAdvisor's usage over kube-state-metrics' limits.
      value: `100 * sum(rate(container_cpu_usage_seconds_total{${container}}[2m])) / sum(kube_pod_container_resource_limits{${container},resource="cpu"})`,
      anchor: "alerts",
      action: "The HPA should be adding pods; if at maxCount, raise it or the service's cpu.",
    },
    {
      family: "memory",
      what: `memory of ${s}'s containers, as a share of their limits`,
      unit: "%",
      thresholds: t.memoryPercent,
      forMinutes: { warning: SUSTAINED_MINUTES, critical: SUSTAINED_MINUTES },
      value: `100 * sum(container_memory_working_set_bytes{${container}}) / sum(kube_pod_container_resource_limits{${container},resource="memory"})`,
      anchor: "alerts",
      action: "Look for a leak in the latest release; raise the service's memory or roll back.",
    },
    {
      family: "unavailable-replicas",
      what: `replicas of ${s} not available (failing readiness or not started), count`,
      unit: "",
      thresholds: { warning: 0, critical: 0 },
      // Warning after a minute; critical at the rollback trigger (R-alert-health-failed, R-rollback-auto).
      forMinutes: { warning: 1, critical: a.rollback.unhealthyForMinutes },
      value: `sum(kube_deployment_status_replicas_unavailable{${matchers(a, "deployment")}})`,
      anchor: "rollback",
      action:
        "Check the pods' events and logs (kubectl describe pod, kubectl logs); roll back a failing rollout (kubectl rollout undo).",
    },
    {
      family: "rollback-error-rate",
      what: `5xx responses of ${s} as a share of its requests (the rollback trigger)`,
      unit: "%",
      thresholds: { critical: a.rollback.errorRatePercent },
      forMinutes: { critical: a.rollback.errorRateForMinutes },
      value: errorRate(a, "1m"),
      anchor: "rollback",
      action: "Roll back now (runbook: automatic rollback triggers): revert the stack file's tag and run pulumi up.",
    },
  ];
}

/** "HttpErrorRate" from "http-error-rate". */
export function alertName(family: string): string {
  return family
    .split("-")
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join("");
}

const SEVERITIES: Severity[] = ["warning", "critical"];

/** The rules of one family: one per severity, each with a summary, a description and a runbook link. */
export function familyRules(
  f: AlertFamily,
  labels: { service: string; environment: string },
  runbookUrl: string,
): AlertRule[] {
  return SEVERITIES.flatMap((severity) => {
    const threshold = f.thresholds[severity];
    const minutes = f.forMinutes[severity];
    if (threshold === undefined || minutes === undefined) return [];
    const unit = f.unit === "%" ? "%" : f.unit ? ` ${f.unit}` : "";
    // Lower is worse when the critical threshold lies below the warning one (a cache hit rate, as
    // in lib/thresholds.ts LOWER_IS_WORSE): the alert fires below the threshold.
    const below =
      f.thresholds.critical !== undefined &&
      f.thresholds.warning !== undefined &&
      f.thresholds.critical < f.thresholds.warning;
    const [op, beyond] = below ? ["<", "below"] : [">", "above"];
    return [
      {
        alert: alertName(f.family),
        expr: `${f.value} ${op} ${threshold}`,
        for: `${minutes}m`,
        labels: { severity, family: f.family, ...labels },
        annotations: {
          summary: `${labels.service}: ${f.family} ${beyond} ${threshold}${unit} (${severity})`,
          description: `${severity.toUpperCase()}: ${f.what} ${beyond} ${threshold}${unit} for ${minutes} min. ${f.action}`,
          runbook_url: `${runbookUrl}#${f.anchor}`,
        },
      },
    ];
  });
}

/** One group per service: every family at every severity it has. */
export function alertGroups(services: ServiceAlertArgs[], environment: string, runbookUrl: string): AlertGroup[] {
  return services.map((a) => ({
    name: `opsbook-${environment}-${a.service}`,
    rules: serviceAlertFamilies(a).flatMap((f) => familyRules(f, { service: a.service, environment }, runbookUrl)),
  }));
}
