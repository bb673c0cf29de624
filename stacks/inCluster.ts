/**
 * Wires a stack whose data tier runs on the services' cluster (`data.platform: kubernetes`,
 * R-local-postgres): the services, PostgreSQL, Redis, MinIO, the backup CronJobs and the alert
 * rules, all on Kubernetes. Declares no AWS resource and calls no AWS API: there is no AWS
 * provider in such a stack.
 */
import type { PlatformConfig } from "./config";
import { serviceConnections } from "../components/service/appVariables";
import { KubernetesApps } from "../components/kubernetes/apps";
import { STACK_CA_ISSUER } from "../components/kubernetes/certificates";
import { InClusterDataTier, storeEgress } from "../components/kubernetes/dataTier";
import { USES } from "../lib/appVariables";
import { rpoAlarmHours } from "../lib/time";

/** The platform of an in-cluster stack. */
export interface InClusterPlatform {
  inCluster: true;
  kubernetes: KubernetesApps;
  data: InClusterDataTier;
  deploy: PlatformConfig["deploy"] & { timeZone: string; maintenance: { enabled: boolean; allow: string[] } };
}

/** Declares every resource of an in-cluster stack. */
export function buildInClusterPlatform(config: PlatformConfig): InClusterPlatform {
  const k = config.kubernetes;
  let data: InClusterDataTier | undefined;
  const kubernetes = new KubernetesApps(config.environment, {
    ...k,
    host: k.host!, // required on Kubernetes by the stack rules
    runbookUrl: k.runbookUrl!,
    environment: config.environment,
    // Images are required on an in-cluster stack by the stack rules (no repository to default to).
    services: config.services.map((s) => ({ ...s, port: s.port!, image: s.image! })),
    healthCheckPath: config.healthCheck.path,
    // The stack's own CA signs the Ingress's certificate unless `kubernetes.tls` names a source.
    tlsIssuer: STACK_CA_ISSUER,
    connections: (cluster) => {
      const usersOf = (use: string) => config.services.filter((s) => s.uses.includes(use)).map((s) => s.name);
      data = new InClusterDataTier(config.environment, {
        cluster,
        environment: config.environment,
        postgres: config.postgres,
        data: config.data,
        appSecrets: config.appSecrets,
        backup: { ...config.backup, image: config.backup.image! },
        timeZone: config.timeZone,
        requestPercentOfLimits: k.requestPercentOfLimits,
        dns: k.dns,
        prometheus: k.prometheus,
        namespaceName: k.namespace,
        alerts: {
          thresholds: config.thresholds,
          runbookUrl: k.runbookUrl!,
          rpoHours: config.backup.rpoHours,
          alarmAfterHours: rpoAlarmHours({ ...config.backup, timeZone: config.timeZone }),
        },
        clients: { database: usersOf(USES.database), cache: usersOf(USES.cache) },
        protect: config.protect,
      });
      const sources = { database: data.database("app"), cache: data.cache, appSecrets: data.appSecrets };
      return Object.fromEntries(config.services.map((s) => [s.name, serviceConnections(s, sources)]));
    },
    databaseRoles: () => data!.bootstrapJob,
    thresholds: config.thresholds,
    rollback: config.rollback,
    egress: storeEgress(),
  });
  return {
    inCluster: true,
    kubernetes,
    data: data!, // declared by the connections callback, which the constructor calls
    deploy: {
      ...config.deploy,
      timeZone: config.timeZone,
      maintenance: { enabled: config.maintenance.enabled, allow: config.maintenance.allow },
    },
  };
}

/** The stack outputs of an in-cluster stack: what the `opsbook` command and a developer need. */
export function inClusterOutputs(platform: InClusterPlatform) {
  const pg = platform.data.postgres.connection;
  return {
    url: platform.kubernetes.url,
    kubernetesNamespace: platform.kubernetes.namespace.metadata.name,
    deploymentNames: Object.fromEntries(
      Object.entries(platform.kubernetes.services).map(([name, s]) => [name, s.deployment.metadata.name]),
    ),
    databaseHost: pg.host,
    databasePort: pg.port,
    databaseName: pg.database,
    redisHost: platform.data.redis.connection.host,
    redisPort: platform.data.redis.connection.port,
    backupBucketName: platform.data.bucket,
    objectStoreEndpoint: platform.data.objectStore.endpoint,
    /** The data tier runs on the cluster: `opsbook deploy` and `rollback` refuse such a stack by this. */
    dataPlatform: "kubernetes" as const,
    /** No CloudWatch alarms: the alert rules are the PrometheusRules. */
    criticalAlarmNames: [] as string[],
    deploy: platform.deploy,
  };
}
