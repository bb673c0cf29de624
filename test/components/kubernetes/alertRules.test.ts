/**
 * The Kubernetes alert rules, run by the real Prometheus rule engine: `promtool check rules` on the
 * generated file, and `promtool test rules` with synthetic series that put each family's value just
 * above and just below each threshold. Every expression is also parsed by the PromQL grammar.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parser } from "@prometheus-io/lezer-promql";
import { stringify } from "yaml";
import {
  alertGroups,
  serviceAlertFamilies,
  type AlertFamily,
  type AlertRule,
} from "../../../components/kubernetes/alertRules";
import { kubernetesSettings } from "../../../components/kubernetes/settings";
import { thresholdsSettings } from "../../../components/monitoring/settings";
import { rollbackSettings } from "../../../components/service/settings";
import { promtool } from "../../helpers/promtool";

const NS = "ns";
const args = {
  service: "api",
  namespace: NS,
  metrics: kubernetesSettings.parse({}).metrics,
  thresholds: thresholdsSettings.parse({}),
  rollback: rollbackSettings.parse({}),
};
const RUNBOOK = "https://git.example.com/opsbook/docs/runbooks.md";
const groups = alertGroups([args], "test", RUNBOOK);
const rules = groups.flatMap((g) => g.rules);
const families = serviceAlertFamilies(args);
const SEVERITIES = ["warning", "critical"] as const;

/** Seconds between samples and between rule evaluations. */
const STEP = 15;
/** Steps of input: long enough for every `for` plus the checks after it. */
const STEPS = 60;
const GiB = 1024 ** 3;
const CPU_LIMIT_CORES = 0.5;

type Series = { series: string; values: string };
/**
 * A counter of a process that has run a while: started from zero, Prometheus' rate would not
 * extrapolate below zero and the first minutes would read low.
 */
const counter = (series: string, perStep: number): Series => ({
  series,
  values: `${100 * perStep}+${perStep}x${STEPS}`,
});
const gauge = (series: string, value: number): Series => ({ series, values: `${value}x${STEPS}` });

/** 5xx share `v` % of 10000 requests per step. */
function errorSeries(v: number): Series[] {
  const errors = Math.round(v * 100);
  return [
    counter(`http_requests_total{namespace="${NS}",service="api",code="200"}`, 10000 - errors),
    counter(`http_requests_total{namespace="${NS}",service="api",code="500"}`, errors),
  ];
}

/**
 * Every request in one bucket (a, b] chosen so that the 95th percentile Prometheus interpolates
 * in it is `v` ms: a + 0.95 (b - a) = v.
 */
function latencySeries(v: number): Series[] {
  const a = (0.99 * v) / 1000;
  const b = a + (v / 1000 - a) / 0.95;
  const bucket = (le: string, perStep: number) =>
    counter(`http_request_duration_seconds_bucket{namespace="${NS}",service="api",le="${le}"}`, perStep);
  return [bucket(String(a), 0), bucket(String(b), 100), bucket("+Inf", 100)];
}

/** The synthetic input of a family whose value is `v` (in the family's unit). */
const INPUT: Record<string, (v: number) => Series[]> = {
  "http-error-rate": errorSeries,
  "rollback-error-rate": errorSeries,
  "response-time-p95": latencySeries,
  cpu: (v) => [
    counter(
      `container_cpu_usage_seconds_total{namespace="${NS}",pod="api-1",container="api"}`,
      (STEP * CPU_LIMIT_CORES * v) / 100,
    ),
    gauge(
      `kube_pod_container_resource_limits{namespace="${NS}",pod="api-1",container="api",resource="cpu",unit="core"}`,
      CPU_LIMIT_CORES,
    ),
  ],
  memory: (v) => [
    gauge(`container_memory_working_set_bytes{namespace="${NS}",pod="api-1",container="api"}`, (GiB * v) / 100),
    gauge(
      `kube_pod_container_resource_limits{namespace="${NS}",pod="api-1",container="api",resource="memory",unit="byte"}`,
      GiB,
    ),
  ],
  "unavailable-replicas": (v) => [
    gauge(`kube_deployment_status_replicas_unavailable{namespace="${NS}",deployment="api"}`, v),
  ],
};

/** Values just above and just below a threshold: 0.5 points of a percentage, 1 % of a latency, one replica. */
function near(f: AlertFamily, threshold: number): { above: number; below: number } {
  if (f.unit === "%") return { above: threshold + 0.5, below: threshold - 0.5 };
  if (f.unit === "ms") return { above: threshold * 1.01, below: threshold * 0.99 };
  return { above: threshold + 1, below: threshold };
}

/**
 * Seconds from the first sample until the family's value is what the input holds. Gauges: at
 * once. Ratios of rates: from the second sample (the extrapolation cancels out). CPU, a rate on
 * its own: once its 2-minute window is full, since Prometheus does not extrapolate a series back
 * past its first sample.
 */
const firstValueAt = (f: AlertFamily) =>
  f.family === "unavailable-replicas" || f.family === "memory" ? 0 : f.family === "cpu" ? 120 : STEP;

/** The rules of `f` that fire at `t` seconds when the value is `v` from the start. */
function firing(f: AlertFamily, v: number, t: number): AlertRule[] {
  return SEVERITIES.filter((s) => {
    const threshold = f.thresholds[s];
    const minutes = f.forMinutes[s];
    return threshold !== undefined && minutes !== undefined && v > threshold && t >= firstValueAt(f) + minutes * 60;
  }).map((s) => rules.find((r) => r.labels.family === f.family && r.labels.severity === s)!);
}

/** One promtool test: the family's value held at `v`, checked a minute before and after each `for`. */
function unitTest(f: AlertFamily, v: number, name: string) {
  const times = SEVERITIES.flatMap((s) => {
    const m = f.forMinutes[s];
    return m === undefined ? [] : [firstValueAt(f) + Math.max(0, m - 1) * 60, firstValueAt(f) + (m + 1) * 60];
  });
  const alertname = rules.find((r) => r.labels.family === f.family)!.alert;
  return {
    name,
    interval: `${STEP}s`,
    input_series: INPUT[f.family]!(v),
    alert_rule_test: [...new Set(times)].map((t) => ({
      eval_time: `${t}s`,
      alertname,
      exp_alerts: firing(f, v, t).map((r) => ({
        exp_labels: { alertname: r.alert, ...r.labels },
        exp_annotations: r.annotations,
      })),
    })),
  };
}

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "opsbook-rules-"));
  fs.writeFileSync(path.join(dir, "rules.yml"), stringify({ groups }));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("Kubernetes alert rules", () => {
  test("cover every family at the severities of the catalogue, labelled, described and linked to the runbook map", () => {
    expect(rules.map((r) => `${r.labels.family} ${r.labels.severity} ${r.for}`)).toEqual([
      "http-error-rate warning 5m",
      "http-error-rate critical 5m",
      "response-time-p95 warning 5m",
      "response-time-p95 critical 5m",
      "cpu warning 5m",
      "cpu critical 5m",
      "memory warning 5m",
      "memory critical 5m",
      "unavailable-replicas warning 1m",
      "unavailable-replicas critical 2m",
      "rollback-error-rate critical 1m",
    ]);
    expect(rules[0]).toEqual({
      alert: "HttpErrorRate",
      expr: '100 * sum(rate(http_requests_total{namespace="ns",service="api",code=~"5.."}[2m])) / sum(rate(http_requests_total{namespace="ns",service="api"}[2m])) > 1',
      for: "5m",
      labels: { severity: "warning", family: "http-error-rate", service: "api", environment: "test" },
      annotations: {
        summary: "api: http-error-rate above 1% (warning)",
        description:
          "WARNING: 5xx responses of api as a share of its requests above 1% for 5 min. Check the service's logs and recent deploys; roll back (runbook: Rollback Procedures) if a deploy caused it.",
        runbook_url: `${RUNBOOK}#alerts`,
      },
    });
    for (const r of rules) expect(r.annotations.description).toContain(`above ${r.expr.split(" > ").pop()}`);
    // The anchors exist in docs/runbooks.md.
    const map = fs.readFileSync(path.join(__dirname, "../../../docs/runbooks.md"), "utf8");
    for (const anchor of new Set(rules.map((r) => r.annotations.runbook_url.split("#")[1]!)))
      expect(map).toMatch(new RegExp(`^## ${anchor}$`, "im"));
  });

  test("every expression parses as PromQL", () => {
    for (const r of rules) {
      const errors: number[] = [];
      parser.parse(r.expr).iterate({ enter: (n) => void (n.type.isError && errors.push(n.from)) });
      expect({ expr: r.expr, errors }).toEqual({ expr: r.expr, errors: [] });
    }
    const bad: number[] = [];
    parser.parse("sum(rate(x[2m]) >").iterate({ enter: (n) => void (n.type.isError && bad.push(n.from)) });
    expect(bad.length).toBeGreaterThan(0);
  });

  test("promtool check rules accepts the generated rule file", () => {
    const r = promtool("check", "rules", path.join(dir, "rules.yml"));
    expect(r.output).toContain("SUCCESS: 11 rules found");
    expect(r.status).toBe(0);
  });

  test("promtool test rules: each family fires just above each threshold after its `for`, and not below", () => {
    const tests = families.flatMap((f) =>
      SEVERITIES.flatMap((s) => {
        const threshold = f.thresholds[s];
        if (threshold === undefined) return [];
        const { above, below } = near(f, threshold);
        return [
          unitTest(f, above, `${f.family} just above ${s} (${above})`),
          unitTest(f, below, `${f.family} just below ${s} (${below})`),
        ];
      }),
    );
    // Each family is tried on both sides of each of its thresholds.
    expect(tests).toHaveLength(2 * 11);
    // The checks include alerts that must fire, not only silence.
    expect(tests.filter((t) => t.alert_rule_test.some((c) => c.exp_alerts.length > 0))).toHaveLength(11 + 4);
    fs.writeFileSync(
      path.join(dir, "tests.yml"),
      stringify({ rule_files: ["rules.yml"], evaluation_interval: `${STEP}s`, tests }),
    );
    const r = promtool("test", "rules", path.join(dir, "tests.yml"));
    expect(r.output).toContain("SUCCESS");
    expect(r.status).toBe(0);
  });

  test("promtool test rules fails when a threshold in the rules is not the one the test expects", () => {
    const shifted = groups.map((g) => ({
      ...g,
      rules: g.rules.map((r) =>
        r.labels.family === "cpu" && r.labels.severity === "warning"
          ? { ...r, expr: r.expr.replace(/> 70$/, "> 71") }
          : r,
      ),
    }));
    fs.writeFileSync(path.join(dir, "rules.yml"), stringify({ groups: shifted }));
    const f = families.find((x) => x.family === "cpu")!;
    fs.writeFileSync(
      path.join(dir, "shifted.yml"),
      stringify({
        rule_files: ["rules.yml"],
        evaluation_interval: `${STEP}s`,
        tests: [unitTest(f, 70.5, "cpu just above 70")],
      }),
    );
    const r = promtool("test", "rules", path.join(dir, "shifted.yml"));
    expect(r.status).not.toBe(0);
    fs.writeFileSync(path.join(dir, "rules.yml"), stringify({ groups }));
  });
});
