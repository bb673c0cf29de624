import { runInNewContext } from "node:vm";
import { alarmInputs, alarmName } from "../../../components/monitoring/alarmSet";
import { widget } from "../../../components/monitoring/dashboard";
import {
  cacheAlarms,
  certificateAlarms,
  customAlarms,
  databaseAlarms,
  describe as describeAlarm,
  serviceAlarms,
  timeToFire,
} from "../../../components/monitoring/alarmCatalogue";
import { THRESHOLDS } from "../../../lib/thresholds";

const thresholds = THRESHOLDS;
const svc = serviceAlarms({
  service: "api",
  clusterName: "c",
  serviceName: "s",
  loadBalancerArnSuffix: "app/lb/1",
  targetGroupArnSuffix: "targetgroup/tg/2",
  healthCheck: { intervalSeconds: 30, unhealthyThreshold: 3 },
  thresholds,
});
const byFamily = (defs: ReturnType<typeof serviceAlarms>, family: string) => defs.find((d) => d.family === family)!;

describe("service alarm definitions", () => {
  test("cover the runbook's service metrics, four at both severities and two critical only", () => {
    expect(svc.map((d) => [d.family, d.thresholds])).toEqual([
      ["http-error-rate", { warning: 1, critical: 5 }],
      ["response-time-p95", { warning: 500, critical: 2000 }],
      ["cpu", { warning: 70, critical: 90 }],
      ["memory", { warning: 80, critical: 95 }],
      ["unhealthy-targets", { critical: 0 }],
      ["no-healthy-targets", { critical: 1 }],
    ]);
  });

  test("fire after the documented time", () => {
    expect(svc.map((d) => [d.family, timeToFire(d)])).toEqual([
      ["http-error-rate", 300],
      ["response-time-p95", 300],
      ["cpu", 300],
      ["memory", 300],
      ["unhealthy-targets", 120], // three 30 s checks, rounded up to whole minutes
      ["no-healthy-targets", 60],
    ]);
  });

  test("unhealthy targets wait for the health check's own unhealthy threshold", () => {
    const slow = serviceAlarms({
      service: "api",
      clusterName: "c",
      serviceName: "s",
      loadBalancerArnSuffix: "lb",
      targetGroupArnSuffix: "tg",
      healthCheck: { intervalSeconds: 30, unhealthyThreshold: 5 },
      thresholds,
    });
    expect(timeToFire(byFamily(slow, "unhealthy-targets"))).toBe(180);
  });

  test("the error rate is 5xx over requests, and no traffic is no error", () => {
    const inputs = alarmInputs("opsbook-prod", byFamily(svc, "http-error-rate"), "critical", "topic-critical");
    expect(inputs).toMatchObject({
      name: "opsbook-prod-api-http-error-rate-critical",
      comparisonOperator: "GreaterThanThreshold",
      threshold: 5,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      treatMissingData: "notBreaching",
      alarmActions: ["topic-critical"],
      okActions: ["topic-critical"],
      tags: { severity: "critical", family: "http-error-rate", subject: "api" },
    });
    const dims = { LoadBalancer: "app/lb/1", TargetGroup: "targetgroup/tg/2" };
    expect(inputs.metricQueries).toEqual([
      {
        id: "errors",
        metric: {
          namespace: "AWS/ApplicationELB",
          metricName: "HTTPCode_Target_5XX_Count",
          dimensions: dims,
          stat: "Sum",
          period: 60,
        },
        returnData: false,
      },
      {
        id: "requests",
        metric: {
          namespace: "AWS/ApplicationELB",
          metricName: "RequestCount",
          dimensions: dims,
          stat: "Sum",
          period: 60,
        },
        returnData: false,
      },
      {
        id: "signal",
        expression: "IF(requests > 0, 100 * errors / requests, 0)",
        label: "api 5xx rate (%)",
        returnData: true,
      },
    ]);
  });

  test("p95 latency compares seconds with the milliseconds of the runbook", () => {
    expect(alarmInputs("p", byFamily(svc, "response-time-p95"), "warning", "t")).toMatchObject({
      extendedStatistic: "p95",
      threshold: 0.5,
      metricName: "TargetResponseTime",
      period: 60,
    });
    expect(alarmInputs("p", byFamily(svc, "response-time-p95"), "warning", "t").statistic).toBeUndefined();
  });

  test("a service with no healthy target is down, and silence counts as down", () => {
    expect(alarmInputs("p", byFamily(svc, "no-healthy-targets"), "critical", "t")).toMatchObject({
      metricName: "HealthyHostCount",
      statistic: "Minimum",
      comparisonOperator: "LessThanThreshold",
      threshold: 1,
      treatMissingData: "breaching",
    });
    expect(() => alarmInputs("p", byFamily(svc, "no-healthy-targets"), "warning", "t")).toThrow(
      "api/no-healthy-targets has no warning threshold",
    );
  });

  test("describe() tells what broke, the threshold, how long, and what to do", () => {
    expect(describeAlarm(byFamily(svc, "http-error-rate"), "warning")).toBe(
      "WARNING: 5xx responses of api as a share of its requests above 1% for 5 min. Check the service's logs and recent deploys; roll back (runbook: Rollback Procedures) if a deploy caused it.",
    );
    expect(describeAlarm(byFamily(svc, "response-time-p95"), "critical")).toMatch(
      /^CRITICAL: p95 response time of api above 2000 ms for 5 min\./,
    );
  });

  test("alarm names carry prefix, subject, family and severity", () => {
    expect(alarmName("opsbook-staging", byFamily(svc, "cpu"), "warning")).toBe("opsbook-staging-api-cpu-warning");
  });
});

describe("database, cache and certificate definitions", () => {
  const db = databaseAlarms({
    instanceIdentifier: "opsbook-prod",
    memoryBytes: 16 * 1024 ** 3,
    allocatedStorageGb: 100,
    maxConnections: 1000,
    slowQueries: { namespace: "Opsbook/prod", metricName: "PostgresSlowQueries" },
    thresholds,
  });

  test("measure memory, disk and connections in percent of what the instance has", () => {
    const expr = (family: string) => {
      const s = db.find((d) => d.family === family)!.signal;
      return "expression" in s ? s.expression : undefined;
    };
    expect(expr("memory")).toBe(`100 - 100 * free / ${16 * 1024 ** 3}`);
    expect(expr("disk")).toBe(`100 - 100 * free / ${100 * 1024 ** 3}`);
    expect(expr("connections")).toBe("100 * connections / 1000");
    expect(db.map((d) => [d.family, d.thresholds])).toEqual([
      ["cpu", { warning: 70, critical: 90 }],
      ["memory", { warning: 80, critical: 95 }],
      ["disk", { warning: 80, critical: 95 }],
      ["connections", { warning: 80, critical: 95 }],
      ["slow-queries", { warning: 10, critical: 60 }],
    ]);
  });

  test("watch every cache node's CPU and memory, and the group's hit rate falling below 80 % and 50 %", () => {
    const cache = cacheAlarms({ nodeIds: ["rg-001", "rg-002"], thresholds });
    expect(cache.map((d) => `${d.subject}/${d.family}`)).toEqual([
      "cache/hit-rate",
      "cache-node-1/cpu",
      "cache-node-1/memory",
      "cache-node-2/cpu",
      "cache-node-2/memory",
    ]);
    const inputs = alarmInputs("p", cache[0]!, "critical", "t");
    expect(inputs).toMatchObject({ comparisonOperator: "LessThanThreshold", threshold: 50, evaluationPeriods: 3 });
    const queries = inputs.metricQueries as Array<{
      id: string;
      expression?: string;
      metric?: Record<string, unknown>;
    }>;
    expect(queries.filter((q) => q.metric).map((q) => [q.id, q.metric!.metricName, q.metric!.dimensions])).toEqual([
      ["hits1", "CacheHits", { CacheClusterId: "rg-001" }],
      ["misses1", "CacheMisses", { CacheClusterId: "rg-001" }],
      ["hits2", "CacheHits", { CacheClusterId: "rg-002" }],
      ["misses2", "CacheMisses", { CacheClusterId: "rg-002" }],
    ]);
  });

  test("an idle replica cannot bring the hit rate down: hits and lookups are summed over the nodes", () => {
    const [hitRate] = cacheAlarms({ nodeIds: ["rg-001", "rg-002"], thresholds });
    const signal = hitRate!.signal as { expression: string };
    // Evaluate the expression as CloudWatch would for one period: the primary 95 % hits, the
    // replica no data at all (FILL turns it into 0), and a group with no lookups.
    const evaluate = (values: Record<string, number | undefined>): number => {
      const js = signal.expression
        .replace(/FILL\((\w+), 0\)/g, (_, id: string) => String(values[id] ?? 0))
        .replace(/SUM\(\[([^\]]*)\]\)/g, (_, list: string) => `(${list.split(",").join("+")})`)
        .replace(/IF\((.*) > 0, (.*), 100\)$/, "(($1) > 0 ? ($2) : 100)");
      return runInNewContext(js) as number;
    };
    expect(evaluate({ hits1: 950, misses1: 50 })).toBe(95);
    expect(evaluate({})).toBe(100);
    expect(evaluate({ hits1: 400, misses1: 600 })).toBe(40);
  });

  test("warn 30 days and page 7 days before the certificate expires", () => {
    const [cert] = certificateAlarms({ certificateArn: "arn:cert", thresholds });
    expect(alarmInputs("p", cert!, "warning", "t")).toMatchObject({
      namespace: "AWS/CertificateManager",
      metricName: "DaysToExpiry",
      dimensions: { CertificateArn: "arn:cert" },
      comparisonOperator: "LessThanThreshold",
      threshold: 30,
      period: 86400,
    });
    expect(alarmInputs("p", cert!, "critical", "t").threshold).toBe(7);
  });

  test("custom alarms keep their own metric, direction and thresholds", () => {
    const [lag] = customAlarms([
      {
        name: "event-loop-lag",
        description: "Event loop blocked: profile the api.",
        namespace: "Opsbook/App",
        metricName: "EventLoopLagP99",
        dimensions: { Service: "api" },
        statistic: "p99",
        direction: "above",
        warning: 100,
        critical: 500,
        periodSeconds: 60,
        evaluationPeriods: 3,
      },
    ]);
    expect(alarmInputs("opsbook-prod", lag!, "warning", "t")).toMatchObject({
      name: "opsbook-prod-app-event-loop-lag-warning",
      namespace: "Opsbook/App",
      metricName: "EventLoopLagP99",
      extendedStatistic: "p99",
      threshold: 100,
      evaluationPeriods: 3,
      alarmDescription:
        "WARNING: Opsbook/App EventLoopLagP99 above 100 for 3 min. Event loop blocked: profile the api.",
    });
  });
});

describe("dashboard widgets", () => {
  test("draw the signal with both thresholds in the metric's own unit", () => {
    const w = widget(byFamily(svc, "response-time-p95"), "eu-west-1", 3) as {
      x: number;
      y: number;
      properties: Record<string, unknown>;
    };
    expect([w.x, w.y]).toEqual([12, 6]);
    expect(w.properties.metrics).toEqual([
      [
        "AWS/ApplicationELB",
        "TargetResponseTime",
        "LoadBalancer",
        "app/lb/1",
        "TargetGroup",
        "targetgroup/tg/2",
        { stat: "p95", period: 60 },
      ],
    ]);
    expect(w.properties.annotations).toEqual({
      horizontal: [
        { label: "warning", value: 0.5, color: "#ff7f0e" },
        { label: "critical", value: 2, color: "#d62728" },
      ],
    });
  });

  test("draw metric math with its inputs hidden", () => {
    const w = widget(byFamily(svc, "http-error-rate"), "eu-west-1", 0) as { properties: { metrics: unknown[][] } };
    expect(w.properties.metrics[0]).toEqual([
      { expression: "IF(requests > 0, 100 * errors / requests, 0)", label: "api 5xx rate (%)", id: "signal" },
    ]);
    expect(w.properties.metrics[1]?.[6]).toEqual({ stat: "Sum", id: "errors", visible: false, period: 60 });
  });
});
