/**
 * Wires the components of one stack from its validated config. The stack's differences are values
 * in `Pulumi.<stack>.yaml`; nothing here asks which stack it is.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "./config";
import { Network } from "../components/network/network";
import { TierSecurityGroups } from "../components/network/securityGroups";
import { EncryptionKey } from "../components/security/encryptionKey";
import { Postgres } from "../components/data/postgres";
import { Redis } from "../components/data/redis";

export interface Platform {
  network: Network;
  securityGroups: TierSecurityGroups;
  logsKey: EncryptionKey;
  postgres: Postgres;
  redis: Redis;
}

/** Declares every resource of the platform for one stack. */
export function buildPlatform(config: PlatformConfig): Platform {
  const identity = aws.getCallerIdentityOutput();
  const partition = aws.getPartitionOutput();

  const logsKey = new EncryptionKey("logs", {
    description: `opsbook ${config.environment}: CloudWatch log groups`,
    accountId: identity.accountId,
    partition: partition.partition,
    services: [
      {
        principal: `logs.${config.region}.amazonaws.com`,
        condition: {
          ArnLike: { "kms:EncryptionContext:aws:logs:arn": pulumi.interpolate`arn:${partition.partition}:logs:${config.region}:${identity.accountId}:*` },
        },
      },
    ],
    protect: config.protect,
  });

  const network = new Network(config.environment, {
    cidr: config.network.cidr,
    availabilityZones: config.network.availabilityZones,
    natGateways: config.network.natGateways,
    flowLogRetentionDays: config.logRetentionDays,
    logKeyArn: logsKey.arn,
    accountId: identity.accountId,
    region: config.region,
  });

  const securityGroups = new TierSecurityGroups(config.environment, { vpcId: network.vpcId });

  const pg = config.postgres;
  const postgres = new Postgres(config.environment, {
    vpcId: network.vpcId,
    subnetIds: network.isolatedSubnetIds,
    clientSecurityGroupId: securityGroups.app.id,
    identifier: pg.identifier,
    engineVersion: pg.engineVersion,
    instanceClass: pg.instanceClass,
    allocatedStorageGb: pg.allocatedStorageGb,
    maxAllocatedStorageGb: pg.maxAllocatedStorageGb,
    databaseName: pg.databaseName,
    masterUsername: pg.masterUsername,
    multiAz: pg.multiAz,
    deletionProtection: pg.deletionProtection,
    backupRetentionDays: pg.backupRetentionDays,
    backupWindowStart: pg.backupWindowStart,
    timeZone: config.timeZone,
    maintenanceWindow: pg.maintenanceWindow,
    slowQueryMs: pg.slowQueryMs,
    maxConnections: pg.maxConnections,
    pool: pg.pool,
    performanceInsightsRetentionDays: pg.performanceInsightsRetentionDays,
    monitoringIntervalSeconds: pg.monitoringIntervalSeconds,
    restore: pg.restore,
    logRetentionDays: config.logRetentionDays,
    logKeyArn: logsKey.arn,
    accountId: identity.accountId,
    region: config.region,
    partition: partition.partition,
    protect: config.protect,
  });

  const rd = config.redis;
  const redis = new Redis(config.environment, {
    vpcId: network.vpcId,
    subnetIds: network.isolatedSubnetIds,
    clientSecurityGroupId: securityGroups.app.id,
    engine: rd.engine,
    engineVersion: rd.engineVersion,
    nodeType: rd.nodeType,
    nodes: rd.nodes,
    multiAz: rd.multiAz,
    snapshotRetentionDays: rd.snapshotRetentionDays,
    snapshotWindowStart: rd.snapshotWindowStart,
    timeZone: config.timeZone,
    maintenanceWindow: rd.maintenanceWindow,
    logRetentionDays: config.logRetentionDays,
    logKeyArn: logsKey.arn,
    accountId: identity.accountId,
    partition: partition.partition,
    protect: config.protect,
  });

  return { network, securityGroups, logsKey, postgres, redis };
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
  };
}
