/**
 * The data tier's alert rules run by the real Prometheus rule engine: `promtool test rules` with
 * synthetic exporter, cAdvisor, kube-state-metrics and kubelet series that put each family's value
 * just beyond and just short of each threshold (R-local-alerts).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parser } from "@prometheus-io/lezer-promql";
import { stringify } from "yaml";
import { thresholdsSettings } from "../../../components/monitoring/settings";
import type { AlertFamily, AlertRule } from "../../../components/kubernetes/alertRules";
import { dataAlertFamilies, dataAlertGroups } from "../../../components/kubernetes/dataAlertRules";
import { promtool } from "../../helpers/promtool";

const NS = "ns";
const RUNBOOK = "https://git.example.com/opsbook/docs/runbooks.md";
const SLOW_MS = 1000;
/** When the slow-query input's statement turns slow, in seconds (a full rate window). */
const SLOW_FROM = 5 * 60;
const args = {
  environment: "local",
  namespace: NS,
  thresholds: thresholdsSettings.parse({}),
  slowQueryMs: SLOW_MS,
  runbookUrl: RUNBOOK,
};
const groups = dataAlertGroups(args);
const families = dataAlertFamilies(args);
const SEVERITIES = ["warning", "critical"] as const;
const STEP = 15;
const STEPS = 60;
const GiB = 1024 ** 3;

type Series = { series: string; values: string };
const gauge = (series: string, value: number): Series => ({ series, values: `${value}x${STEPS}` });
const counter = (series: string, perStep: number): Series => ({
  series,
  values: `${100 * perStep}+${perStep}x${STEPS}`,
});

/** The synthetic input of a store's family whose value is `v` (in the family's unit). */
function input(store: string, f: AlertFamily, v: number): Series[] {
  const svc = (name: string, labels = "") => `${name}{namespace="${NS}",service="${store}"${labels}}`;
  const pvc = `namespace="${NS}",persistentvolumeclaim="data-${store}-0"`;
  switch (`${store} ${f.family}`) {
    case "postgres db-connections":
      // Two databases share the server's connections.
      return [
        gauge(svc("pg_stat_database_numbackends", ',datname="app"'), v - 10),
        gauge(svc("pg_stat_database_numbackends", ',datname="postgres"'), 10),
        gauge(svc("pg_settings_max_connections"), 100),
      ];
    case "postgres memory":
      return [
        gauge(
          `container_memory_working_set_bytes{namespace="${NS}",pod="postgres-0",container="postgres"}`,
          (GiB * v) / 100,
        ),
        gauge(
          `kube_pod_container_resource_limits{namespace="${NS}",pod="postgres-0",container="postgres",resource="memory",unit="byte"}`,
          GiB,
        ),
      ];
    case "postgres slow-queries": {
      // `v` calls a minute of one statement whose mean time goes from half of slowQueryMs to twice
      // it after SLOW_FROM seconds, beside a busier one just under it (in another database) that
      // counts for nothing. The first 5 minutes fill the rate's window: the count is exact when
      // the statement turns slow, and so does not depend on `v`.
      const labels = (datname: string, queryid: string) => `,user="app",datname="${datname}",queryid="${queryid}"`;
      const slow = labels("app", "101");
      const calls = (v * STEP) / 60;
      const [before, after] = [(calls * SLOW_MS) / 2 / 1000, (calls * 2 * SLOW_MS) / 1000];
      const switchStep = SLOW_FROM / STEP;
      const start = 100 * before;
      const seconds = `${start}+${before}x${switchStep} ${start + switchStep * before + after}+${after}x${STEPS - switchStep - 1}`;
      const fast = labels("jobs", "202");
      return [
        counter(svc("pg_stat_statements_calls_total", slow), calls),
        { series: svc("pg_stat_statements_seconds_total", slow), values: seconds },
        counter(svc("pg_stat_statements_calls_total", fast), 50),
        counter(svc("pg_stat_statements_seconds_total", fast), (50 * 0.999 * SLOW_MS) / 1000),
      ];
    }
    case "redis cache-hit-rate":
      return [
        counter(svc("redis_keyspace_hits_total"), v * 10),
        counter(svc("redis_keyspace_misses_total"), (100 - v) * 10),
      ];
    case "redis memory":
      return [gauge(svc("redis_memory_used_bytes"), (GiB * v) / 100), gauge(svc("redis_memory_max_bytes"), GiB)];
    default:
      if (f.family !== "disk") throw new Error(`no input for ${store} ${f.family}`);
      return [
        gauge(`kubelet_volume_stats_used_bytes{${pvc}}`, (20 * GiB * v) / 100),
        gauge(`kubelet_volume_stats_capacity_bytes{${pvc}}`, 20 * GiB),
      ];
  }
}

const rules = groups.flatMap((g) => g.rules);
const ruleOf = (store: string, f: AlertFamily, s: string): AlertRule | undefined =>
  rules.find((r) => r.labels.service === store && r.labels.family === f.family && r.labels.severity === s);

/** The one family where lower is worse, named here rather than read from the rules under test. */
const lowerIsWorse = (f: AlertFamily) => f.family === "cache-hit-rate";
/** Beyond the threshold in the family's bad direction: above, or below for the cache hit rate. */
const breaches = (f: AlertFamily, v: number, threshold: number) => (lowerIsWorse(f) ? v < threshold : v > threshold);

/**
 * When each family's input reaches its value: gauges at once, a ratio of rates from the second
 * sample (the extrapolation cancels), and the slow-query count when its statement turns slow.
 */
function firstValueAt(f: AlertFamily): number {
  // Over the window the mean moves from half to twice slowQueryMs; it passes slowQueryMs once 7 of
  // the window's 19 or 20 sample intervals are slow ones.
  if (f.family === "slow-queries") return SLOW_FROM + 7 * STEP;
  return f.family === "cache-hit-rate" ? STEP : 0;
}

function unitTest(store: string, f: AlertFamily, v: number, name: string) {
  const times = [firstValueAt(f) + 4 * 60, firstValueAt(f) + 6 * 60];
  const alertname = ruleOf(store, f, "warning")!.alert;
  return {
    name,
    interval: `${STEP}s`,
    input_series: input(store, f, v),
    alert_rule_test: times.map((t) => ({
      eval_time: `${t}s`,
      alertname,
      exp_alerts: SEVERITIES.filter((s) => breaches(f, v, f.thresholds[s]!) && t >= firstValueAt(f) + 5 * 60)
        .map((s) => ruleOf(store, f, s)!)
        // The memory and disk families share names across stores: only this store's series exist.
        .map((r) => ({ exp_labels: { alertname: r.alert, ...r.labels }, exp_annotations: r.annotations })),
    })),
  };
}

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "opsbook-data-rules-"));
  fs.writeFileSync(path.join(dir, "rules.yml"), stringify({ groups }));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("data tier alert rules", () => {
  test("each family fires at the runbook table's thresholds (the promtool tests below take them from the families)", () => {
    const table = (f: AlertFamily) => [f.family, f.thresholds];
    expect(Object.fromEntries(Object.entries(families).map(([store, fs_]) => [store, fs_.map(table)]))).toEqual({
      postgres: [
        ["db-connections", { warning: 80, critical: 95 }],
        ["memory", { warning: 80, critical: 95 }],
        ["disk", { warning: 80, critical: 95 }],
        ["slow-queries", { warning: 10, critical: 60 }],
      ],
      redis: [
        ["cache-hit-rate", { warning: 80, critical: 50 }],
        ["memory", { warning: 80, critical: 95 }],
        ["disk", { warning: 80, critical: 95 }],
      ],
      minio: [["disk", { warning: 80, critical: 95 }]],
    });
  });

  test("every family of each store at both severities, labelled, described and linked to the runbook map", () => {
    expect(rules.map((r) => `${r.labels.service} ${r.labels.family} ${r.labels.severity} ${r.for}`)).toEqual([
      "postgres db-connections warning 5m",
      "postgres db-connections critical 5m",
      "postgres memory warning 5m",
      "postgres memory critical 5m",
      "postgres disk warning 5m",
      "postgres disk critical 5m",
      "postgres slow-queries warning 5m",
      "postgres slow-queries critical 5m",
      "redis cache-hit-rate warning 5m",
      "redis cache-hit-rate critical 5m",
      "redis memory warning 5m",
      "redis memory critical 5m",
      "redis disk warning 5m",
      "redis disk critical 5m",
      "minio disk warning 5m",
      "minio disk critical 5m",
    ]);
    expect(rules[0]).toEqual({
      alert: "DbConnections",
      expr: '100 * sum(pg_stat_database_numbackends{namespace="ns",service="postgres"}) / max(pg_settings_max_connections{namespace="ns",service="postgres"}) > 80',
      for: "5m",
      labels: { severity: "warning", family: "db-connections", service: "postgres", environment: "local" },
      annotations: {
        summary: "postgres: db-connections above 80% (warning)",
        description:
          "WARNING: connections to PostgreSQL as a share of its max_connections above 80% for 5 min. Look for a connection leak or too many pods times DB_POOL_MAX; raise postgres.maxConnections.",
        runbook_url: `${RUNBOOK}#alerts`,
      },
    });
    const hit = rules.find((r) => r.labels.family === "cache-hit-rate" && r.labels.severity === "critical")!;
    expect(hit.expr).toMatch(/ < 50$/);
    expect(hit.annotations.summary).toBe("redis: cache-hit-rate below 50% (critical)");
    const slow = rules.find((r) => r.labels.family === "slow-queries" && r.labels.severity === "critical")!;
    expect(slow.expr).toBe(
      '60 * sum(rate(pg_stat_statements_calls_total{namespace="ns",service="postgres"}[5m]) and (rate(pg_stat_statements_seconds_total{namespace="ns",service="postgres"}[5m]) / rate(pg_stat_statements_calls_total{namespace="ns",service="postgres"}[5m]) > 1)) > 60',
    );
    expect(slow.annotations).toEqual({
      summary: "postgres: slow-queries above 60 per minute (critical)",
      description: expect.stringMatching(
        /^CRITICAL: calls per minute of statements whose mean time over 5 min exceeds 1000 ms \(postgres.slowQueryMs\) above 60 per minute for 5 min\. /,
      ) as string,
      runbook_url: `${RUNBOOK}#alerts`,
    });
    const map = fs.readFileSync(path.join(__dirname, "../../../docs/runbooks.md"), "utf8");
    expect(map).toMatch(/^## alerts$/im);
    for (const r of rules) {
      const errors: number[] = [];
      parser.parse(r.expr).iterate({ enter: (n) => void (n.type.isError && errors.push(n.from)) });
      expect({ expr: r.expr, errors }).toEqual({ expr: r.expr, errors: [] });
    }
  });

  test("promtool: each family fires just beyond each threshold after 5 minutes, and not short of it", () => {
    expect(promtool("check", "rules", path.join(dir, "rules.yml")).output).toContain("SUCCESS: 16 rules found");
    const tests = Object.entries(families).flatMap(([store, fs_]) =>
      fs_.flatMap((f) =>
        SEVERITIES.flatMap((s) => {
          const threshold = f.thresholds[s]!;
          const [beyond, short] = lowerIsWorse(f)
            ? [threshold - 0.5, threshold + 0.5]
            : [threshold + 0.5, threshold - 0.5];
          return [
            unitTest(store, f, beyond, `${store} ${f.family} just beyond ${s} (${beyond})`),
            unitTest(store, f, short, `${store} ${f.family} just short of ${s} (${short})`),
          ];
        }),
      ),
    );
    expect(tests).toHaveLength(2 * 16);
    // 16 tests with the value beyond a threshold: each expects its alert (and the warning beside a critical).
    expect(tests.filter((t) => t.alert_rule_test.some((c) => c.exp_alerts.length > 0))).toHaveLength(16 + 8);
    fs.writeFileSync(
      path.join(dir, "tests.yml"),
      stringify({ rule_files: ["rules.yml"], evaluation_interval: `${STEP}s`, tests }),
    );
    const r = promtool("test", "rules", path.join(dir, "tests.yml"));
    expect({ status: r.status, output: r.output }).toEqual({
      status: 0,
      output: expect.stringContaining("SUCCESS") as string,
    });
  });

  test("promtool fails the same tests when a rule's threshold is off by one", () => {
    const shifted = groups.map((g) => ({
      ...g,
      rules: g.rules.map((r) =>
        r.labels.family === "cache-hit-rate" && r.labels.severity === "warning"
          ? { ...r, expr: r.expr.replace(/< 80$/, "< 79") }
          : r,
      ),
    }));
    fs.writeFileSync(path.join(dir, "shifted-rules.yml"), stringify({ groups: shifted }));
    const f = families.redis.find((x) => x.family === "cache-hit-rate")!;
    fs.writeFileSync(
      path.join(dir, "shifted.yml"),
      stringify({
        rule_files: ["shifted-rules.yml"],
        evaluation_interval: `${STEP}s`,
        tests: [unitTest("redis", f, 79.5, "hit rate 79.5")],
      }),
    );
    expect(promtool("test", "rules", path.join(dir, "shifted.yml")).status).not.toBe(0);
  });
});
