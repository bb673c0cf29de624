import type { RecordedResource } from "../../../tools/plan/mocks";
import { DEFAULT_FAMILIES, type AlarmFamily, metricsOf, runbookAlarmCoverage } from "../../rules/alarms";
import { resource, stackViolations } from "../helpers";

const ACCOUNT = "arn:aws:sns:eu-west-1:123456789012";
// Placeholder ARNs the offline plan gives the cluster and target group below.
const CLUSTER_ARN = "arn:aws:ecs:eu-west-1:123456789012:cluster/cluster";
const TARGET_GROUP_ARN = "arn:aws:lb:eu-west-1:123456789012:targetgroup/api-tg";
const TARGET_GROUP_SUFFIX = "targetgroup/api-tg/mock";

const watched = [
  resource("aws:rds/instance:Instance", "db", { identifier: "prod-db" }),
  resource("aws:elasticache/replicationGroup:ReplicationGroup", "redis", {
    replicationGroupId: "prod-redis",
    description: "cache",
  }),
  resource("aws:ecs/cluster:Cluster", "cluster", { name: "prod" }),
  resource("aws:ecs/service:Service", "api", {
    name: "api",
    cluster: CLUSTER_ARN,
    loadBalancers: [{ targetGroupArn: TARGET_GROUP_ARN, containerName: "api", containerPort: 8080 }],
  }),
  resource("aws:lb/targetGroup:TargetGroup", "api-tg", { port: 8080, protocol: "HTTP" }),
  resource("aws:sns/topic:Topic", "warning", { tags: { severity: "warning" } }),
  resource("aws:sns/topic:Topic", "critical", { tags: { severity: "critical" } }),
];

const DIMENSIONS: Record<string, Record<string, string>> = {
  database: { DBInstanceIdentifier: "prod-db" },
  cache: { CacheClusterId: "prod-redis-001" },
  service: { ClusterName: "prod", ServiceName: "api" },
  "service-target-group": { TargetGroup: TARGET_GROUP_SUFFIX, LoadBalancer: "app/prod-alb/mock" },
};

/** The alarm the monitoring component should declare for one family and severity. */
function alarm(family: AlarmFamily, severity: string, change: Record<string, unknown> = {}): RecordedResource {
  const metric = {
    namespace: family.namespace,
    metricName: family.metricNames[0],
    dimensions: DIMENSIONS[family.scope],
  };
  // Error rate is metric math over two metrics; the others read one metric. Cache alarms carry no tag: their topic's tag gives the severity.
  const shape =
    family.name === "http-error-rate"
      ? {
          metricQueries: [
            { id: "errors", metric: { ...metric, stat: "Sum", period: 60 } },
            { id: "requests", metric: { ...metric, metricName: "RequestCount", stat: "Sum", period: 60 } },
            { id: "rate", expression: "100 * errors / requests", returnData: true },
          ],
        }
      : metric;
  return resource("aws:cloudwatch/metricAlarm:MetricAlarm", `${family.name}-${severity}`, {
    name: `prod-${family.name}-${severity}`,
    ...shape,
    alarmActions: [`${ACCOUNT}:${severity}`],
    ...(family.scope === "cache" ? {} : { tags: { severity } }),
    ...change,
  });
}

const fullCoverage = DEFAULT_FAMILIES.flatMap((f) => [alarm(f, "warning"), alarm(f, "critical")]);
const family = (name: string) => DEFAULT_FAMILIES.find((f) => f.name === name)!;
const without = (name: string) => fullCoverage.filter((a) => a.name !== name);

test("passes when every database, cache and service has every family at both severities", async () => {
  expect(await stackViolations(runbookAlarmCoverage, [...watched, ...fullCoverage])).toEqual([]);
});

test("holds when the stack has nothing to watch", async () => {
  expect(await stackViolations(runbookAlarmCoverage, [resource("aws:ec2/vpc:Vpc", "vpc", {})])).toEqual([]);
});

test("reports a database without its critical CPU alarm", async () => {
  expect(await stackViolations(runbookAlarmCoverage, [...watched, ...without("database-cpu-critical")])).toEqual([
    'db: RDS instance "db": alarms on AWS/RDS CPUUtilization (family "database-cpu") is only warning ("prod-database-cpu-warning"); required: an alarm with alarmActions at each severity (warning, critical) with dimensions DBInstanceIdentifier=prod-db. Fix: declare the critical alarm at thresholds.cpuPercent, tagged severity=<level>, with alarmActions [the critical topic].',
  ]);
});

test("does not count an alarm without actions or without a severity", async () => {
  const silent = alarm(family("service-memory"), "warning", { alarmActions: [] });
  const untagged = alarm(family("service-memory"), "critical", {
    tags: undefined,
    alarmActions: ["arn:aws:sns:eu-west-1:123456789012:other"],
  });
  expect(
    await stackViolations(runbookAlarmCoverage, [
      ...watched,
      ...without("service-memory-warning").filter((a) => a.name !== "service-memory-critical"),
      silent,
      untagged,
    ]),
  ).toEqual([
    'api: ECS service "api": alarms on AWS/ECS MemoryUtilization (family "service-memory") is no alarm; not counted: "prod-service-memory-warning" (no action), "prod-service-memory-critical" (severity not tagged); required: an alarm with alarmActions at each severity (warning, critical) with dimensions ClusterName=prod, ServiceName=api. Fix: declare the warning and critical alarms at thresholds.memoryPercent, tagged severity=<level>, with alarmActions [the warning / critical topic].',
  ]);
});

test("matches a service's target group through the service's load balancer, inside metric math", async () => {
  expect(await stackViolations(runbookAlarmCoverage, [...watched, ...without("http-error-rate-warning")])).toEqual([
    expect.stringMatching(
      /^api: ECS service "api" \(target group "api-tg"\): alarms on AWS\/ApplicationELB HTTPCode_Target_5XX_Count \(family "http-error-rate"\) is only critical .* dimensions TargetGroup=targetgroup\/api-tg\/mock\./,
    ),
  ]);
});

test("does not count an alarm on another cluster's service of the same name", async () => {
  const elsewhere = alarm(family("service-cpu"), "warning", {
    dimensions: { ClusterName: "staging", ServiceName: "api" },
  });
  expect(
    await stackViolations(runbookAlarmCoverage, [...watched, ...without("service-cpu-warning"), elsewhere]),
  ).toEqual([expect.stringContaining('family "service-cpu") is only critical ("prod-service-cpu-critical")')]);
});

test("matches a cache by its replication group id as well as its member clusters", async () => {
  const byGroup = alarm(family("cache-hit-rate"), "warning", { dimensions: { ReplicationGroupId: "prod-redis" } });
  expect(
    await stackViolations(runbookAlarmCoverage, [...watched, ...without("cache-hit-rate-warning"), byGroup]),
  ).toEqual([]);
  const otherCache = alarm(family("cache-hit-rate"), "warning", { dimensions: { CacheClusterId: "prod-redisx-001" } });
  expect(
    await stackViolations(runbookAlarmCoverage, [...watched, ...without("cache-hit-rate-warning"), otherCache]),
  ).toEqual([
    expect.stringContaining(
      'ElastiCache replication group "redis": alarms on AWS/ElastiCache CacheHitRate or CacheHits (family "cache-hit-rate") is only critical',
    ),
  ]);
});

test("names a service's cluster from its ARN when the cluster is not in the stack", async () => {
  const service = resource("aws:ecs/service:Service", "worker", {
    name: "worker",
    cluster: "arn:aws:ecs:eu-west-1:123456789012:cluster/shared",
  });
  const families = [family("service-cpu")];
  const cpu = (severity: string) =>
    resource("aws:cloudwatch/metricAlarm:MetricAlarm", `worker-cpu-${severity}`, {
      namespace: "AWS/ECS",
      metricName: "CPUUtilization",
      dimensions: { ClusterName: "shared", ServiceName: "worker" },
      alarmActions: ["x"],
      tags: { severity },
    });
  expect(await stackViolations(runbookAlarmCoverage, [service, cpu("warning"), cpu("critical")], { families })).toEqual(
    [],
  );
});

test("reads the families, severities and severity tag from config", async () => {
  const config = { families: [family("database-cpu")], severities: ["page"], severityTag: "level" };
  const paging = resource("aws:cloudwatch/metricAlarm:MetricAlarm", "db-cpu-page", {
    namespace: "AWS/RDS",
    metricName: "CPUUtilization",
    dimensions: { DBInstanceIdentifier: "prod-db" },
    alarmActions: ["x"],
    tags: { level: "page" },
  });
  expect(await stackViolations(runbookAlarmCoverage, [watched[0]!, paging], config)).toEqual([]);
  expect(await stackViolations(runbookAlarmCoverage, [watched[0]!, ...fullCoverage], config)).toEqual([
    expect.stringContaining("required: an alarm with alarmActions at each severity (page)"),
  ]);
});

test("metricsOf reads the alarm's own metric and each metric of its math", () => {
  expect(
    metricsOf({ namespace: "AWS/RDS", metricName: "CPUUtilization", dimensions: { DBInstanceIdentifier: "db" } }),
  ).toEqual([{ namespace: "AWS/RDS", metricName: "CPUUtilization", dimensions: { DBInstanceIdentifier: "db" } }]);
  expect(
    metricsOf({
      metricQueries: [
        { id: "e", expression: "1" },
        { id: "m", metric: { namespace: "AWS/ECS", metricName: "CPUUtilization", period: 60, stat: "Average" } },
      ],
    }),
  ).toEqual([{ namespace: "AWS/ECS", metricName: "CPUUtilization", dimensions: {} }]);
});
