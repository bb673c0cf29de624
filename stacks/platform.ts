/**
 * Wires the components of one stack from its validated config. The stack's differences are values
 * in `Pulumi.<stack>.yaml`; nothing here asks which stack it is.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "./config";
import { Network } from "../components/network/network";
import { TierSecurityGroups } from "../components/network/securityGroups";
import { EncryptionKey, type KeyServiceGrant } from "../components/security/encryptionKey";
import { Postgres } from "../components/data/postgres/postgres";
import { Redis } from "../components/data/redis/redis";
import { Backups, backupMetrics } from "../components/backup/backups";
import { AlertTopics } from "../components/monitoring/alertTopics";
import { AppSecrets } from "../components/service/appSecrets";
import { Cluster } from "../components/service/cluster";
import { LoadBalancer } from "../components/service/loadBalancer";
import { type MigrationTask, Service } from "../components/service/service";
import { AlarmSet } from "../components/monitoring/alarmSet";
import { Dashboard } from "../components/monitoring/dashboard";
import {
  type AlarmDefinition,
  backupAlarms,
  cacheAlarms,
  certificateAlarms,
  customAlarms,
  databaseAlarms,
  loadBalancerAlarms,
  serviceAlarms,
} from "../components/monitoring/alarmCatalogue";
import { libpqConnection } from "../lib/connection";
import { rpoAlarmHours } from "../lib/time";

export interface Platform {
  network: Network;
  securityGroups: TierSecurityGroups;
  logsKey: EncryptionKey;
  postgres: Postgres;
  redis: Redis;
  backups: Backups;
  alerts: AlertTopics;
  appSecrets: AppSecrets;
  cluster: Cluster;
  loadBalancer: LoadBalancer;
  services: Record<string, Service>;
  /** The migration task, declared by the service `opsbook:migrations.service` names. */
  migration: MigrationTask;
  alarms: AlarmSet;
  dashboard: Dashboard;
}

/** Declares every resource of the platform for one stack. */
export function buildPlatform(config: PlatformConfig): Platform {
  const identity = aws.getCallerIdentityOutput();
  const partition = aws.getPartitionOutput();

  /** A stack key: rotated, owned by this account, protected as the stack says. */
  const key = (name: string, protects: string, services?: KeyServiceGrant[]) =>
    new EncryptionKey(name, {
      description: `opsbook ${config.environment}: ${protects}`,
      accountId: identity.accountId,
      partition: partition.partition,
      services,
      protect: config.protect,
    });

  const logsKey = key("logs", "CloudWatch log groups", [
    {
      principal: `logs.${config.region}.amazonaws.com`,
      condition: {
        ArnLike: {
          "kms:EncryptionContext:aws:logs:arn": pulumi.interpolate`arn:${partition.partition}:logs:${config.region}:${identity.accountId}:*`,
        },
      },
    },
  ]);

  const network = new Network(config.environment, {
    ...config.network,
    flowLogRetentionDays: config.logRetentionDays,
    logKeyArn: logsKey.arn,
    accountId: identity.accountId,
    region: config.region,
    partition: partition.partition,
  });

  const securityGroups = new TierSecurityGroups(config.environment, { vpcId: network.vpcId });

  const dataTier = {
    vpcId: network.vpcId,
    subnetIds: network.isolatedSubnetIds,
    clientSecurityGroupId: securityGroups.app.id,
    timeZone: config.timeZone,
    logRetentionDays: config.logRetentionDays,
    logKeyArn: logsKey.arn,
    accountId: identity.accountId,
    partition: partition.partition,
    protect: config.protect,
  };
  const postgres = new Postgres(config.environment, { ...config.postgres, ...dataTier, region: config.region });
  const redis = new Redis(config.environment, { ...config.redis, ...dataTier });

  // CloudWatch publishes alarm notifications into the encrypted topics.
  const alertsKey = key("alerts", "alarm notifications", [
    { principal: "cloudwatch.amazonaws.com", condition: { StringEquals: { "aws:SourceAccount": identity.accountId } } },
  ]);
  const alerts = new AlertTopics(config.environment, {
    kmsKeyArn: alertsKey.arn,
    emails: config.alerts.emails,
    httpsEndpoints: config.alerts.httpsEndpoints,
  });

  const appSecretsKey = key("app-secrets", "app secrets");
  const appSecrets = new AppSecrets(config.environment, {
    ...config.appSecrets,
    kmsKeyArn: appSecretsKey.arn,
    protect: config.protect,
  });

  const namePrefix = `opsbook-${config.environment}`;
  const cluster = new Cluster(config.environment, { clusterName: namePrefix });
  const loadBalancer = new LoadBalancer(config.environment, {
    ...config.loadBalancer,
    vpcId: network.vpcId,
    subnetIds: network.publicSubnetIds,
    securityGroupId: securityGroups.loadBalancer.id,
    tls: config.domain.certificateArn
      ? { certificateArn: config.domain.certificateArn }
      : { domainName: config.domain.name!, hostedZoneId: config.domain.hostedZoneId! },
    protect: config.protect,
  });

  const services: Record<string, Service> = {};
  config.services.forEach((s, i) => {
    services[s.name] = new Service(s.name, {
      container: (({ image, tag, port, command, cpu, memory, environment }) => ({
        image,
        tag,
        port,
        command,
        cpu,
        memory,
        environment,
      }))(s),
      desiredCount: s.desiredCount,
      minCount: s.minCount,
      maxCount: s.maxCount,
      scaling: s.scaling,
      namePrefix: `${namePrefix}-${s.name}`,
      cluster: { arn: cluster.arn, name: cluster.name },
      vpcId: network.vpcId,
      subnetIds: network.privateSubnetIds,
      securityGroupId: securityGroups.app.id,
      loadBalancer:
        s.port === undefined
          ? undefined
          : {
              listenerArn: loadBalancer.https.arn,
              arnSuffix: loadBalancer.arnSuffix,
              securityGroupId: securityGroups.loadBalancer.id,
              paths: s.paths,
              hosts: s.hosts,
              priority: 100 + 10 * i,
              healthCheck: { ...config.healthCheck, path: s.healthCheckPath ?? config.healthCheck.path },
            },
      connections: [appSecrets.connection, postgres.connection, redis.connection],
      // The warning topic: the catalogue's critical alarms on the same signals already page for the
      // event, so a rollback tells the team (email) without paging twice.
      rollback: { ...config.rollback, alarmTopicArn: alerts.topics.warning.arn },
      logRetentionDays: config.logRetentionDays,
      logKmsKeyArn: logsKey.arn,
      migrationCommand: s.name === config.migrations.service ? config.migrations.command : undefined,
      region: config.region,
      accountId: identity.accountId,
    });
  });

  const backupsKey = key("backups", "database dumps");
  const backups = new Backups(config.environment, {
    ...config.backup,
    database: {
      name: config.postgres.databaseName,
      connection: libpqConnection(postgres.connection),
      instanceArn: postgres.arn,
      backupRetentionDays: config.postgres.backupRetentionDays,
    },
    timeZone: config.timeZone,
    kmsKeyArn: backupsKey.arn,
    cluster: { arn: cluster.arn },
    subnetIds: network.privateSubnetIds,
    securityGroupId: securityGroups.app.id,
    logRetentionDays: config.logRetentionDays,
    logKmsKeyArn: logsKey.arn,
    protect: config.protect,
    region: config.region,
    partition: partition.partition,
    accountId: identity.accountId,
  });

  const definitions: AlarmDefinition[] = [
    ...Object.values(services).flatMap((svc) =>
      svc.targetGroup
        ? serviceAlarms({
            service: svc.appName,
            clusterName: cluster.name,
            serviceName: svc.ecsService.name,
            loadBalancerArnSuffix: loadBalancer.arnSuffix,
            targetGroupArnSuffix: svc.targetGroup.arnSuffix,
            healthCheck: config.healthCheck,
            thresholds: config.thresholds,
          })
        : [],
    ),
    ...loadBalancerAlarms({ loadBalancerArnSuffix: loadBalancer.arnSuffix, thresholds: config.thresholds }),
    ...certificateAlarms({ certificateArn: loadBalancer.certificateArn, thresholds: config.thresholds }),
    ...databaseAlarms({
      instanceIdentifier: postgres.identifier,
      memoryBytes: postgres.memoryBytes,
      allocatedStorageGb: postgres.allocatedStorageGb,
      maxConnections: postgres.maxConnections,
      slowQueries: postgres.slowQueries,
      thresholds: config.thresholds,
    }),
    ...cacheAlarms({ nodeIds: redis.nodeIds, thresholds: config.thresholds }),
    ...backupAlarms({
      database: config.postgres.databaseName,
      rpoHours: config.backup.rpoHours,
      alarmAfterHours: rpoAlarmHours({ ...config.backup, timeZone: config.timeZone }),
      metrics: backupMetrics(config.environment),
    }),
    ...customAlarms(config.customAlarms),
  ];
  const alarms = new AlarmSet(config.environment, {
    namePrefix,
    definitions,
    topicArns: { warning: alerts.topics.warning.arn, critical: alerts.topics.critical.arn },
  });
  const dashboard = new Dashboard(config.environment, {
    dashboardName: namePrefix,
    region: config.region,
    definitions,
  });

  return {
    network,
    securityGroups,
    logsKey,
    postgres,
    redis,
    backups,
    alerts,
    appSecrets,
    cluster,
    loadBalancer,
    services,
    migration: services[config.migrations.service]!.migration!,
    alarms,
    dashboard,
  };
}

/** The stack outputs: what operators and the next layers need to find. */
export function stackOutputs(platform: Platform) {
  return {
    vpcId: platform.network.vpcId,
    publicSubnetIds: platform.network.publicSubnetIds,
    privateSubnetIds: platform.network.privateSubnetIds,
    isolatedSubnetIds: platform.network.isolatedSubnetIds,
    logsKeyArn: platform.logsKey.arn,
    loadBalancerSecurityGroupId: platform.securityGroups.loadBalancer.id,
    appSecurityGroupId: platform.securityGroups.app.id,
    databaseIdentifier: platform.postgres.identifier,
    databaseEndpoint: platform.postgres.endpoint,
    databaseHost: platform.postgres.address,
    databasePort: platform.postgres.port,
    databaseName: platform.postgres.databaseName,
    databaseMasterSecretArn: platform.postgres.masterSecretArn,
    redisReplicationGroupId: platform.redis.replicationGroupId,
    redisPrimaryEndpoint: platform.redis.primaryEndpoint,
    redisPort: platform.redis.port,
    redisAuthTokenSecretArn: platform.redis.authTokenSecretArn,
    backupBucketName: platform.backups.bucket.name,
    url: platform.loadBalancer.url,
    loadBalancerDnsName: platform.loadBalancer.dnsName,
    clusterName: platform.cluster.name,
    serviceNames: Object.fromEntries(Object.entries(platform.services).map(([name, s]) => [name, s.ecsService.name])),
    alarmTopicArns: { warning: platform.alerts.topics.warning.arn, critical: platform.alerts.topics.critical.arn },
    dashboardName: platform.dashboard.dashboard.dashboardName,
    /** What `aws ecs run-task` needs to run the migrations before services roll. */
    migration: platform.migration,
  };
}
