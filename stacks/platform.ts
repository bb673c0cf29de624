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
import { DatabaseRoles } from "../components/data/postgres/roles";
import { PostgresProxy } from "../components/data/postgres/proxy";
import { Redis } from "../components/data/redis/redis";
import { Backups, backupMetrics } from "../components/backup/backups";
import { DatabaseMaintenance } from "../components/backup/maintenance";
import { ImageRepository } from "../components/registry/repository";
import { BACKUP_JOB_IMAGE, repositoryName } from "../components/registry/settings";
import { AlertTopics } from "../components/monitoring/alertTopics";
import { DeploymentFailurePage } from "../components/monitoring/deploymentFailures";
import { AppSecrets } from "../components/service/appSecrets";
import { serviceConnections } from "../components/service/appVariables";
import { Cluster } from "../components/service/cluster";
import { LoadBalancer } from "../components/service/loadBalancer";
import { MaintenanceMode } from "../components/service/maintenance";
import { FIRST_SERVICE_PRIORITY } from "../lib/maintenance";
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
  proxyAlarms,
  loadBalancerAlarms,
  maintenanceAlarms,
  serviceAlarms,
} from "../components/monitoring/alarmCatalogue";
import { BACKUP_METRIC } from "../lib/backupContract";
import { libpqConnection, type ServiceConnection } from "../lib/connection";
import { ROLE_SECRET_KEYS, activeSlot } from "../lib/databaseRoles";
import { KubernetesApps } from "../components/kubernetes/apps";
import { ClusterDataAccess } from "../components/kubernetes/dataAccess";
import { rpoAlarmHours } from "../lib/time";
import { PROXY_CLIENT_CONNECTIONS_PERCENT, PROXY_PINNED_PERCENT, REPLICA_LAG_SECONDS } from "../lib/thresholds";
import { buildInClusterPlatform, inClusterOutputs, type InClusterPlatform } from "./inCluster";

export interface Platform {
  network: Network;
  securityGroups: TierSecurityGroups;
  logsKey: EncryptionKey;
  postgres: Postgres;
  /** The app, migration, backup and drill roles, and the task that creates them (R-db-roles). */
  databaseRoles: DatabaseRoles;
  redis: Redis;
  backups: Backups;
  /** The weekly ANALYZE and monthly VACUUM tasks (R-db-maintenance); none with `databaseMaintenance.enabled` off. */
  databaseMaintenance?: DatabaseMaintenance;
  alerts: AlertTopics;
  appSecrets: AppSecrets;
  /** The stack's ECR repositories: one per service, and the backup job's (R-security-image-scan). */
  repositories: { services: Record<string, ImageRepository>; backupJob: ImageRepository };
  /** The ECS cluster of the services and the backup job; none on Kubernetes. */
  cluster?: Cluster;
  /** The ECS platform's load balancer; none on Kubernetes (the cluster's ingress controller serves). */
  loadBalancer?: LoadBalancer;
  /** The ECS services; none on Kubernetes. */
  services: Record<string, Service>;
  /** The services on the cluster when `compute.platform` is `kubernetes`. */
  kubernetes?: KubernetesApps;
  /** The migration task, declared by the service `opsbook:migrations.service` names (ECS only). */
  migration?: MigrationTask;
  alarms: AlarmSet;
  dashboard: Dashboard;
  /** `opsbook:deploy` with the stack's time zone, published for the `opsbook` command (R-deploy-windows). */
  deploy: PlatformConfig["deploy"] & { timeZone: string; maintenance: { enabled: boolean; allow: string[] } };
}

/** Declares every resource of the platform for one stack. */
export function buildPlatform(config: PlatformConfig): Platform | InClusterPlatform {
  // No AWS at all when the data tier is on the cluster too (R-local-postgres).
  if (config.data.platform === "kubernetes") return buildInClusterPlatform(config);
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
      aliasName: `opsbook-${config.environment}-${name}`,
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
  const postgres = new Postgres(config.environment, {
    ...config.postgres,
    ...dataTier,
    region: config.region,
    availabilityZones: config.network.availabilityZones,
  });
  const redis = new Redis(config.environment, { ...config.redis, ...dataTier });

  const namePrefix = `opsbook-${config.environment}`;
  const onKubernetes = config.compute.platform === "kubernetes";
  // On Kubernetes the backup job runs as CronJobs too: no ECS at all (R-backup-job-k8s).
  const cluster = onKubernetes ? undefined : new Cluster(config.environment, { clusterName: namePrefix });
  // ECS rolls a failed deployment back by itself; this rule pages for it (R-rollback-page). Declared
  // before the alerts key, whose policy lets EventBridge use the key for this rule only.
  const deploymentFailures = onKubernetes
    ? undefined
    : new DeploymentFailurePage(config.environment, { environment: config.environment, clusterArn: cluster!.arn });

  // CloudWatch publishes alarm notifications into the encrypted topics.
  const alertsKey = key("alerts", "alarm notifications", [
    { principal: "cloudwatch.amazonaws.com", condition: { StringEquals: { "aws:SourceAccount": identity.accountId } } },
    ...(deploymentFailures ? [deploymentFailures.keyGrant] : []),
  ]);
  const alerts = new AlertTopics(config.environment, {
    kmsKeyArn: alertsKey.arn,
    emails: config.alerts.emails,
    httpsEndpoints: config.alerts.httpsEndpoints,
  });
  deploymentFailures?.pageTo(alerts.topics.critical, identity.accountId);

  const appSecretsKey = key("app-secrets", "app secrets");
  const appSecrets = new AppSecrets(config.environment, {
    ...config.appSecrets,
    kmsKeyArn: appSecretsKey.arn,
    protect: config.protect,
  });

  // The images' repositories: the one place that declares them, so a stack without AWS images can
  // leave them out; a configured `image` still wins over its repository (R-security-image-scan).
  const repositories = imageRepositories();
  function imageRepositories(): Platform["repositories"] {
    const imagesKey = key("images", "container images");
    const repository = (image: string, tag: string) =>
      new ImageRepository(image, {
        ...config.registry,
        repositoryName: repositoryName(config.environment, image),
        deployedTags: [tag],
        kmsKeyArn: imagesKey.arn,
        protect: config.protect,
      });
    return {
      services: Object.fromEntries(config.services.map((s) => [s.name, repository(s.name, s.tag)])),
      backupJob: repository(BACKUP_JOB_IMAGE, config.backup.tag),
    };
  }
  /** An image without its tag: the configured one, else the stack repository's, which the task then pulls from. */
  const imageOf = (configured: string | undefined, repository: ImageRepository) =>
    configured !== undefined
      ? { image: configured, pullFrom: undefined }
      : { image: repository.url, pullFrom: { arn: repository.arn, kmsKeyArn: repository.kmsKeyArn } };
  const backupImage = imageOf(config.backup.image, repositories.backupJob);

  const databaseRoles = new DatabaseRoles(config.environment, {
    database: postgres.roleDatabase,
    kmsKeyArn: postgres.kmsKeyArn,
    rotation: config.postgres.roleRotation,
    image: { repository: backupImage.image, tag: config.backup.tag, pullFrom: backupImage.pullFrom },
    ...(cluster ? { cluster: { arn: cluster.arn, name: cluster.name } } : {}),
    subnetIds: network.privateSubnetIds,
    securityGroupId: securityGroups.app.id,
    logRetentionDays: config.logRetentionDays,
    logKmsKeyArn: logsKey.arn,
    protect: config.protect,
    region: config.region,
    accountId: identity.accountId,
  });
  // R-db-proxy: with the proxy, the services' DB_HOST is its endpoint. The migration task (its
  // "migrate" connection below), the backups and the maintenance task keep the instance's: DDL,
  // advisory locks and session settings do not belong on a pooled connection, and would pin it.
  const proxy = config.postgres.proxy.enabled
    ? new PostgresProxy(config.environment, {
        ...config.postgres.proxy,
        identifier: postgres.identifier,
        instanceIdentifier: postgres.instance.identifier,
        vpcId: network.vpcId,
        subnetIds: network.isolatedSubnetIds,
        databaseSecurityGroupId: postgres.securityGroup.id,
        clientSecurityGroupId: securityGroups.app.id,
        externalClientSecurityGroupIds: onKubernetes ? [config.kubernetes.clientSecurityGroupId!] : [],
        logins: databaseRoles.loginSecrets("app"),
        databaseName: config.postgres.databaseName,
        kmsKeyArn: postgres.kmsKeyArn,
        protect: config.protect,
        region: config.region,
        accountId: identity.accountId,
        partition: partition.partition,
      })
    : undefined;
  const appDatabase = databaseRoles.connection("app");
  // Each service gets what its `uses` names, under its `envNames` (R-db-roles, R-app-variables).
  const sources = {
    database: proxy ? throughProxy(appDatabase, proxy) : appDatabase,
    cache: redis.connection,
    appSecrets,
  };
  /** The app connection with DB_HOST and DATABASE_URL on the proxy, for the active login role (R-db-proxy). */
  function throughProxy(connection: ServiceConnection, p: PostgresProxy): ServiceConnection {
    const url = p.urlSecrets[activeSlot(config.postgres.roleRotation.app)];
    return {
      ...connection,
      environment: { ...connection.environment, DB_HOST: p.endpoint },
      secrets: { ...connection.secrets, DATABASE_URL: pulumi.interpolate`${url.secret.arn}:${ROLE_SECRET_KEYS.url}::` },
      secretArns: [...connection.secretArns, url.secret.arn],
      secretVersions: [...(connection.secretVersions ?? []), url.version],
    };
  }
  const connectionsOf = (s: PlatformConfig["services"][number]) => serviceConnections(s, sources);
  const loadBalancer = onKubernetes ? undefined : ecsLoadBalancer();
  function ecsLoadBalancer(): LoadBalancer {
    const domain = config.domain!; // the stack rules require it on ECS
    return new LoadBalancer(config.environment, {
      ...config.loadBalancer,
      corsOrigins: config.services.flatMap((s) => s.corsOrigins),
      vpcId: network.vpcId,
      subnetIds: network.publicSubnetIds,
      securityGroupId: securityGroups.loadBalancer.id,
      tls: domain.certificateArn
        ? { certificateArn: domain.certificateArn }
        : { domainName: domain.name!, hostedZoneId: domain.hostedZoneId! },
      protect: config.protect,
    });
  }

  const services: Record<string, Service> = {};
  if (loadBalancer && cluster)
    config.services.forEach((s, i) => {
      const image = imageOf(s.image, repositories.services[s.name]!);
      services[s.name] = new Service(s.name, {
        container: (({ tag, port, command, cpu, memory, environment }) => ({
          image: image.image,
          repository: image.pullFrom,
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
                priority: FIRST_SERVICE_PRIORITY + 10 * i,
                healthCheck: { ...config.healthCheck, path: s.healthCheckPath ?? config.healthCheck.path },
              },
        connections: connectionsOf(s),
        // The warning topic: the catalogue's critical alarms on the same signals already page for the
        // event, so a rollback tells the team (email) without paging twice.
        rollback: { ...config.rollback, alarmTopicArn: alerts.topics.warning.arn },
        logRetentionDays: config.logRetentionDays,
        logKmsKeyArn: logsKey.arn,
        migrationCommand: s.name === config.migrations.service ? config.migrations.command : undefined,
        migrationConnections: serviceConnections(
          { ...s, uses: ["database"], corsOrigins: [] },
          { ...sources, database: databaseRoles.connection("migrate") },
        ),
        region: config.region,
        accountId: identity.accountId,
      });
    });

  // On, its rules sit ahead of every service rule; off, nothing is declared (R-ops-maintenance-mode).
  const { enabled: maintenanceOn, ...maintenance } = config.maintenance;
  if (loadBalancer && maintenanceOn)
    new MaintenanceMode(config.environment, {
      ...maintenance,
      listenerArn: loadBalancer.https.arn,
      services: config.services.flatMap((s) => {
        const targetGroup = services[s.name]?.targetGroup;
        return targetGroup ? [{ name: s.name, hosts: s.hosts, paths: s.paths, targetGroupArn: targetGroup.arn }] : [];
      }),
    });

  // The pods' only destinations besides DNS and HTTPS: the data tier in the VPC, on its ports.
  const vpc = [{ ipBlock: { cidr: config.network.cidr } }];
  const kubernetes = onKubernetes ? kubernetesApps() : undefined;
  function kubernetesApps(): KubernetesApps {
    const k = config.kubernetes;
    new ClusterDataAccess(config.environment, {
      clientSecurityGroupId: k.clientSecurityGroupId!, // required on Kubernetes by the stack rules
      stores: [
        { name: "postgres", engine: "PostgreSQL", securityGroupId: postgres.securityGroup.id, port: postgres.port },
        { name: "redis", engine: "Redis", securityGroupId: redis.securityGroup.id, port: redis.port },
      ],
    });
    return new KubernetesApps(config.environment, {
      ...k,
      host: k.host!,
      runbookUrl: k.runbookUrl!,
      environment: config.environment,
      services: config.services.map((s) => ({
        ...s,
        port: s.port!,
        image: imageOf(s.image, repositories.services[s.name]!).image,
      })),
      healthCheckPath: config.healthCheck.path,
      connections: Object.fromEntries(config.services.map((s) => [s.name, connectionsOf(s)])),
      // On Kubernetes the role bootstrap is a Job `pulumi up` runs, before the services that use
      // the database roll (R-db-roles); on ECS an operator starts its task.
      databaseRoles: (cluster) =>
        databaseRoles.bootstrapOnKubernetes({
          ...cluster,
          requestPercentOfLimits: config.kubernetes.requestPercentOfLimits,
        }),
      thresholds: config.thresholds,
      rollback: config.rollback,
      egress: [{ to: vpc, ports: [postgres.port, redis.port] }],
    });
  }

  const backupsKey = key("backups", "database dumps");
  const backups = new Backups(config.environment, {
    ...config.backup,
    image: backupImage.image,
    repository: backupImage.pullFrom,
    database: {
      name: config.postgres.databaseName,
      connection: libpqConnection(databaseRoles.connection("backup")),
      instanceArn: postgres.arn,
      backupRetentionDays: config.postgres.backupRetentionDays,
      drillSource: {
        identifier: postgres.identifier,
        parameterGroupName: postgres.parameterGroup.name,
        subnetGroupName: postgres.subnetGroup.name,
        kmsKeyArn: postgres.kmsKeyArn,
      },
    },
    vpcId: network.vpcId,
    timeZone: config.timeZone,
    kmsKeyArn: backupsKey.arn,
    ...(kubernetes
      ? {
          kubernetes: {
            provider: kubernetes.provider,
            namespace: kubernetes.namespace.metadata.name,
            commonLabels: kubernetes.commonLabels,
            oidcProviderArn: config.kubernetes.oidcProviderArn!, // required on Kubernetes by the stack rules
            maxRunMinutes: config.backup.maxRunMinutes,
            requestPercentOfLimits: config.kubernetes.requestPercentOfLimits,
            egress: { dns: config.kubernetes.dns, destinations: [{ to: vpc, ports: [postgres.port] }] },
            clientSecurityGroupId: config.kubernetes.clientSecurityGroupId!, // required on Kubernetes
          },
        }
      : {
          cluster: { arn: cluster!.arn },
          subnetIds: network.privateSubnetIds,
          securityGroupId: securityGroups.app.id,
        }),
    logRetentionDays: config.logRetentionDays,
    logKmsKeyArn: logsKey.arn,
    protect: config.protect,
    region: config.region,
    partition: partition.partition,
    accountId: identity.accountId,
  });
  // R-db-maintenance: the backup job's image, its own database role, the backup metrics' namespace.
  const { enabled: databaseMaintenanceOn, ...databaseMaintenanceSettings } = config.databaseMaintenance;
  const databaseMaintenance = databaseMaintenanceOn
    ? new DatabaseMaintenance(config.environment, {
        ...databaseMaintenanceSettings,
        connection: libpqConnection(databaseRoles.connection("maintenance")),
        databaseName: config.postgres.databaseName,
        metricsNamespace: backupMetrics(config.environment).namespace,
        image: { repository: backupImage.image, tag: config.backup.tag, pullFrom: backupImage.pullFrom },
        timeZone: config.timeZone,
        logRetentionDays: config.logRetentionDays,
        logKmsKeyArn: logsKey.arn,
        region: config.region,
        accountId: identity.accountId,
        ...(kubernetes
          ? {
              kubernetes: {
                provider: kubernetes.provider,
                namespace: kubernetes.namespace.metadata.name,
                commonLabels: kubernetes.commonLabels,
                oidcProviderArn: config.kubernetes.oidcProviderArn!, // required on Kubernetes by the stack rules
                requestPercentOfLimits: config.kubernetes.requestPercentOfLimits,
              },
            }
          : {
              ecs: {
                clusterArn: cluster!.arn,
                subnetIds: network.privateSubnetIds,
                securityGroupId: securityGroups.app.id,
              },
            }),
      })
    : undefined;
  // The load balancer's log bucket records its own access in the stack's S3 access-log bucket (S3.9).
  loadBalancer?.logBucket.logAccessTo(backups.logBucket.name, "alb-logs/");

  const definitions: AlarmDefinition[] = [
    ...Object.values(services).flatMap((svc) =>
      svc.targetGroup
        ? serviceAlarms({
            service: svc.appName,
            clusterName: cluster!.name,
            serviceName: svc.ecsService.name,
            loadBalancerArnSuffix: loadBalancer!.arnSuffix,
            targetGroupArnSuffix: svc.targetGroup.arnSuffix,
            healthCheck: config.healthCheck,
            thresholds: config.thresholds,
          })
        : [],
    ),
    ...(loadBalancer
      ? [
          ...loadBalancerAlarms({ loadBalancerArnSuffix: loadBalancer.arnSuffix, thresholds: config.thresholds }),
          ...certificateAlarms({ certificateArn: loadBalancer.certificateArn, thresholds: config.thresholds }),
        ]
      : []),
    ...databaseAlarms({
      instanceIdentifier: postgres.identifier,
      memoryBytes: postgres.memoryBytes,
      allocatedStorageGb: postgres.instance.allocatedStorage,
      maxConnections: postgres.maxConnections,
      slowQueries: postgres.slowQueries,
      thresholds: config.thresholds,
    }),
    // R-db-read-replicas: each replica at the database's thresholds, and its lag.
    ...postgres.replicas.flatMap((replica, i) =>
      databaseAlarms({
        subject: `database-replica-${i + 1}`,
        instanceIdentifier: replica.identifier,
        memoryBytes: replica.memoryBytes,
        allocatedStorageGb: replica.instance.allocatedStorage,
        maxConnections: replica.maxConnections,
        thresholds: config.thresholds,
        replicaLagSeconds: REPLICA_LAG_SECONDS,
      }),
    ),
    ...(proxy
      ? proxyAlarms({
          proxyName: proxy.name,
          maxConnections: postgres.maxConnections,
          maxConnectionsPercent: config.postgres.proxy.maxConnectionsPercent,
          pinnedPercent: PROXY_PINNED_PERCENT,
          clientConnectionsPercent: PROXY_CLIENT_CONNECTIONS_PERCENT,
        })
      : []),
    ...cacheAlarms({ nodeIds: redis.nodeIds, thresholds: config.thresholds }),
    ...backupAlarms({
      database: config.postgres.databaseName,
      rpoHours: config.backup.rpoHours,
      alarmAfterHours: rpoAlarmHours({ ...config.backup, timeZone: config.timeZone }),
      metrics: backupMetrics(config.environment),
    }),
    ...(databaseMaintenance
      ? maintenanceAlarms({
          database: config.postgres.databaseName,
          metrics: backupMetrics(config.environment),
          metricNames: {
            lastSuccessfulAnalyze: BACKUP_METRIC.lastSuccessfulAnalyzeTimestamp,
            analyzeSuccess: BACKUP_METRIC.analyzeSuccess,
            vacuumSuccess: BACKUP_METRIC.vacuumSuccess,
          },
        })
      : []),
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
    databaseRoles,
    redis,
    backups,
    databaseMaintenance,
    alerts,
    appSecrets,
    repositories,
    cluster,
    loadBalancer,
    services,
    kubernetes,
    migration: services[config.migrations.service]?.migration,
    alarms,
    dashboard,
    // `opsbook deploy` refuses while the load balancer serves the maintenance page (R-ops-maintenance-mode).
    deploy: {
      ...config.deploy,
      timeZone: config.timeZone,
      maintenance: { enabled: config.maintenance.enabled, allow: config.maintenance.allow },
    },
  };
}

/** The stack outputs: what operators and the next layers need to find. */
export function stackOutputs(platform: Platform | InClusterPlatform) {
  if ("inCluster" in platform) return inClusterOutputs(platform);
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
    /** The database roles' secrets, and the bootstrap task to run once and after each rotation (R-db-roles). */
    databaseRoles: { secretArns: platform.databaseRoles.secretArns, bootstrap: platform.databaseRoles.bootstrap },
    redisReplicationGroupId: platform.redis.replicationGroupId,
    redisPrimaryEndpoint: platform.redis.primaryEndpoint,
    redisPort: platform.redis.port,
    redisAuthTokenSecretArn: platform.redis.authTokenSecretArn,
    backupBucketName: platform.backups.bucket.name,
    /** Where to push the images (README "Build and push the images"): per service, and the backup job's. */
    repositoryUrls: {
      ...Object.fromEntries(Object.entries(platform.repositories.services).map(([name, r]) => [name, r.url])),
      [BACKUP_JOB_IMAGE]: platform.repositories.backupJob.url,
    },
    /** The dumps' copy in `backup.drRegion`, when there is one (README "Disaster recovery"). */
    backupReplicaBucketName: platform.backups.replica?.name,
    url: platform.loadBalancer?.url ?? platform.kubernetes?.url,
    loadBalancerDnsName: platform.loadBalancer?.dnsName,
    clusterName: platform.cluster?.name,
    serviceNames: Object.fromEntries(Object.entries(platform.services).map(([name, s]) => [name, s.ecsService.name])),
    alarmTopicArns: { warning: platform.alerts.topics.warning.arn, critical: platform.alerts.topics.critical.arn },
    dashboardName: platform.dashboard.dashboard.dashboardName,
    /** Per ECS service, what `opsbook deploy` verifies: task definition, ECS service, routing, health path. */
    services: Object.fromEntries(
      Object.entries(platform.services).map(([name, s]) => [
        name,
        {
          serviceName: s.ecsService.name,
          taskDefinitionArn: s.taskDefinition.arn,
          taskDefinitionFamily: s.taskDefinition.family,
          ...(s.routing ? { routing: s.routing } : {}),
        },
      ]),
    ),
    /** The critical alarms: a deploy does not start while one fires and watches them after (R-deploy-post-watch). */
    criticalAlarmNames: platform.alarms.criticalAlarmNames,
    /** What `aws ecs run-task` needs to run the migrations before services roll. */
    migration: platform.migration,
    /** Per load-balanced service, the worst case to the start and end of an automatic rollback (R-rollback-sla). */
    rollbackTiming: Object.fromEntries(
      Object.entries(platform.services).flatMap(([name, s]) => (s.rollbackTiming ? [[name, s.rollbackTiming]] : [])),
    ),
    /** Deploy windows, notice topic and smoke checks: the `opsbook` command reads them from here. */
    deploy: {
      ...platform.deploy,
      notifyTopicArn: platform.deploy.notifyTopic ?? platform.alerts.topics.warning.arn,
    },
    ...(platform.kubernetes
      ? {
          kubernetesNamespace: platform.kubernetes.namespace.metadata.name,
          deploymentNames: Object.fromEntries(
            Object.entries(platform.kubernetes.services).map(([name, s]) => [name, s.deployment.metadata.name]),
          ),
          /** What `opsbook deploy` and `rollback` verify on the cluster (R-k8s-verify). */
          kubernetes: {
            namespace: platform.kubernetes.namespace.metadata.name,
            prometheusNamespace: platform.kubernetes.prometheusNamespace,
            environment: platform.kubernetes.environment,
            ingressRules: platform.kubernetes.ingress.spec.rules,
            deployments: Object.fromEntries(
              Object.entries(platform.kubernetes.services).map(([name, s]) => [
                name,
                {
                  name: s.deployment.metadata.name,
                  serviceName: s.service.metadata.name,
                  container: s.appName,
                  image: s.deployment.spec.template.spec.containers.apply((c) => c[0]!.image),
                  healthCheckPath: s.deployment.spec.template.spec.containers.apply(
                    (c) => c[0]!.readinessProbe?.httpGet?.path,
                  ),
                },
              ]),
            ),
          },
        }
      : {}),
  };
}
