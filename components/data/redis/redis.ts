import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { clientOnlySecurityGroup } from "../../network/securityGroups";
import { dailyHourUtc } from "../../../lib/time";
import { EncryptionKey } from "../../security/encryptionKey";
import { redisUrl, type ServiceConnection } from "../../../lib/connection";
import { type RedisSettings } from "./settings";

/** Redis's port; the security group rules and the connection use it. */
export const REDIS_PORT = 6379;

/** ElastiCache takes 16 to 128 printable characters; letters and digits only keep clear of the forbidden ones. */
export const AUTH_TOKEN_LENGTH = 64;

/** The parsed `opsbook:redis` settings (./settings.ts) plus what the stack wires in. */
export interface RedisArgs extends RedisSettings {
  /** VPC of the cache's security group. */
  vpcId: pulumi.Input<string>;
  /** Isolated subnets (no route out of the VPC) for the cache subnet group. */
  subnetIds: pulumi.Input<string>[];
  /** Security group of the clients (the app tasks): the only source admitted on 6379, and given an egress rule to it. */
  clientSecurityGroupId: pulumi.Input<string>;
  /** Replication group id; the log groups and the final snapshot derive from it. @default `opsbook-<name>` */
  replicationGroupId?: string;
  /** IANA zone of `snapshotWindowStart`. */
  timeZone: string;
  /** Retention of the engine and slow log groups, in days. */
  logRetentionDays: number;
  /** KMS key of the log groups. */
  logKeyArn: pulumi.Input<string>;
  /** Account that owns the cache key. */
  accountId: pulumi.Input<string>;
  /** AWS partition. */
  partition: pulumi.Input<string>;
  /** Pulumi `protect` on the replication group, its key and the auth token secret. */
  protect: boolean;
}

const GROUP_ID = /^[a-z](?!.*--)[a-z0-9-]{0,38}[a-z0-9]$/;

/**
 * An ElastiCache Redis (or Valkey) replication group that only the app tier can reach and only over
 * TLS with an auth token: isolated subnets, ingress on 6379 only from the client security group, data
 * at rest under a key of its own, the token generated here and kept in Secrets Manager, daily
 * snapshots, and a final snapshot before any deletion.
 *
 * Cost: the node type per hour for every node, snapshot storage beyond one node's size, one KMS key
 * and one secret (about $1 and $0.40 a month), log ingestion.
 */
export class Redis extends pulumi.ComponentResource {
  readonly replicationGroup: aws.elasticache.ReplicationGroup;
  /** The replication group id: the `ReplicationGroupId` dimension of ElastiCache metrics. */
  readonly replicationGroupId: string;
  /** Ids of the member clusters (one per node): the `CacheClusterId` dimension of the per-node metrics. */
  readonly memberClusterIds: pulumi.Output<string[]>;
  /**
   * The same ids known before the group exists: ElastiCache names the nodes of a replication group
   * `<group id>-001`, `-002`, ..., so alarms can be declared per node in the same update.
   */
  readonly nodeIds: string[];
  readonly arn: pulumi.Output<string>;
  /** The primary endpoint: writes go there, and it follows a failover. */
  readonly primaryEndpoint: pulumi.Output<string>;
  /** The reader endpoint, spread over the replicas. */
  readonly readerEndpoint: pulumi.Output<string>;
  readonly port: number;
  readonly nodeType: string;
  readonly nodes: number;
  readonly key: EncryptionKey;
  readonly kmsKeyArn: pulumi.Output<string>;
  /** The secret whose whole value is the auth token. */
  readonly authTokenSecret: aws.secretsmanager.Secret;
  readonly authTokenSecretArn: pulumi.Output<string>;
  /** `rediss://:<token>@<primary>:6379`, the apps' REDIS_URL (R-app-variables). */
  readonly urlSecret: aws.secretsmanager.Secret;
  readonly securityGroup: aws.ec2.SecurityGroup;
  readonly subnetGroup: aws.elasticache.SubnetGroup;
  readonly logGroups: { slowLog: aws.cloudwatch.LogGroup; engineLog: aws.cloudwatch.LogGroup };
  /** What a service needs to connect: REDIS_* settings, and the auth token as an ECS secret. */
  readonly connection: ServiceConnection;

  constructor(name: string, args: RedisArgs, opts?: pulumi.ComponentResourceOptions) {
    super("opsbook:data:Redis", name, {}, opts);
    const groupId = args.replicationGroupId ?? `opsbook-${name}`;
    const { engine, engineVersion, multiAz } = args;

    // The settings schema checked every setting; the group id is derived from the component's name.
    if (!GROUP_ID.test(groupId)) {
      throw new pulumi.ResourceError(
        `replicationGroupId "${groupId}" is not an ElastiCache id: 1-40 lower-case letters, digits and single hyphens, starting with a letter, not ending with a hyphen`,
        this,
      );
    }
    const snapshotWindow = dailyHourUtc(args.snapshotWindowStart, args.timeZone);

    this.replicationGroupId = groupId;
    this.nodeIds = Array.from({ length: args.nodes }, (_, i) => `${groupId}-${String(i + 1).padStart(3, "0")}`);
    this.nodeType = args.nodeType;
    this.nodes = args.nodes;
    this.port = REDIS_PORT;
    const protect = args.protect;

    // ---- children ----
    this.key = new EncryptionKey(
      `${name}-redis`,
      {
        description: `opsbook ${name}: Redis data at rest and its auth token`,
        accountId: args.accountId,
        partition: args.partition,
        protect,
      },
      { parent: this },
    );
    this.kmsKeyArn = this.key.arn;

    // Unique per replication group's life, as the database's (components/data/postgres): a fixed
    // `<group>-final` makes the second deletion under the same id fail (SnapshotAlreadyExists).
    // In state, so it does not change between updates; not a replacing input.
    const finalSnapshotSuffix = new random.RandomId(
      `${name}-${groupId}-redis-final-snapshot`,
      { byteLength: 4 },
      { parent: this },
    );
    const password = new random.RandomPassword(
      `${name}-redis-auth-token`,
      { length: AUTH_TOKEN_LENGTH, special: false },
      { parent: this },
    );
    // The provider marks `result` secret through the engine; saying so here keeps it secret wherever it flows.
    const token = pulumi.secret(password.result);
    this.authTokenSecret = new aws.secretsmanager.Secret(
      `${name}-redis-auth-token`,
      {
        namePrefix: `opsbook/${groupId}/auth-token-`,
        description: `AUTH token of the ElastiCache replication group ${groupId}`,
        kmsKeyId: this.key.arn,
      },
      { parent: this, protect },
    );
    const tokenVersion = new aws.secretsmanager.SecretVersion(
      `${name}-redis-auth-token`,
      { secretId: this.authTokenSecret.id, secretString: token },
      { parent: this },
    );
    this.authTokenSecretArn = this.authTokenSecret.arn;

    this.securityGroup = this.createSecurityGroup(name, args);
    this.subnetGroup = new aws.elasticache.SubnetGroup(
      `${name}-redis`,
      { description: `opsbook ${name}: isolated subnets of the cache`, subnetIds: args.subnetIds },
      { parent: this },
    );
    this.logGroups = {
      slowLog: this.createLogGroup(name, groupId, "slow-log", args),
      engineLog: this.createLogGroup(name, groupId, "engine-log", args),
    };

    this.replicationGroup = new aws.elasticache.ReplicationGroup(
      `${name}-redis`,
      {
        replicationGroupId: groupId,
        description: `opsbook ${name}: cache and sessions`,
        engine,
        engineVersion,
        autoMinorVersionUpgrade: true,
        nodeType: args.nodeType,
        numCacheClusters: args.nodes,
        // A replica that nobody promotes protects nothing: with one, failover is always on.
        automaticFailoverEnabled: args.nodes >= 2,
        multiAzEnabled: multiAz,
        port: REDIS_PORT,
        subnetGroupName: this.subnetGroup.name,
        securityGroupIds: [this.securityGroup.id],
        atRestEncryptionEnabled: true,
        kmsKeyId: this.key.arn,
        transitEncryptionEnabled: true,
        transitEncryptionMode: "required",
        authToken: token,
        snapshotRetentionLimit: args.snapshotRetentionDays,
        snapshotWindow,
        maintenanceWindow: args.maintenanceWindow,
        finalSnapshotIdentifier: pulumi.interpolate`${groupId}-final-${finalSnapshotSuffix.hex}`,
        logDeliveryConfigurations: [
          {
            destinationType: "cloudwatch-logs",
            destination: this.logGroups.slowLog.name,
            logFormat: "json",
            logType: "slow-log",
          },
          {
            destinationType: "cloudwatch-logs",
            destination: this.logGroups.engineLog.name,
            logFormat: "json",
            logType: "engine-log",
          },
        ],
      },
      { parent: this, protect },
    );

    this.arn = this.replicationGroup.arn;
    this.memberClusterIds = this.replicationGroup.memberClusters;
    this.primaryEndpoint = this.replicationGroup.primaryEndpointAddress;
    this.readerEndpoint = this.replicationGroup.readerEndpointAddress;

    this.urlSecret = new aws.secretsmanager.Secret(
      `${name}-redis-url`,
      {
        namePrefix: `opsbook/${groupId}/url-`,
        description: `rediss:// URL with the AUTH token of the ElastiCache replication group ${groupId}`,
        kmsKeyId: this.key.arn,
      },
      { parent: this, protect },
    );
    const urlVersion = new aws.secretsmanager.SecretVersion(
      `${name}-redis-url`,
      {
        secretId: this.urlSecret.id,
        // TLS is required (transitEncryptionMode), hence rediss://; the token is letters and digits only.
        secretString: pulumi.secret(redisUrl({ token, host: this.primaryEndpoint, port: REDIS_PORT })),
      },
      { parent: this },
    );

    this.connection = {
      environment: { REDIS_HOST: this.primaryEndpoint, REDIS_PORT: String(REDIS_PORT), REDIS_TLS: "true" },
      secrets: { REDIS_AUTH_TOKEN: this.authTokenSecretArn, REDIS_URL: this.urlSecret.arn },
      secretArns: [this.authTokenSecretArn, this.urlSecret.arn],
      kmsKeyArns: [this.key.arn],
      secretVersions: [tokenVersion, urlVersion],
    };

    this.registerOutputs({
      replicationGroupId: groupId,
      primaryEndpoint: this.primaryEndpoint,
      port: REDIS_PORT,
      authTokenSecretArn: this.authTokenSecretArn,
    });
  }

  private createSecurityGroup(name: string, args: RedisArgs): aws.ec2.SecurityGroup {
    return clientOnlySecurityGroup(
      {
        vpcId: args.vpcId,
        clientSecurityGroupId: args.clientSecurityGroupId,
        port: REDIS_PORT,
        engine: "Redis",
        target: "the cache",
        names: { group: `${name}-redis`, ingress: `${name}-redis-from-app`, egress: `${name}-app-to-redis` },
      },
      this,
    );
  }

  private createLogGroup(
    name: string,
    groupId: string,
    log: "slow-log" | "engine-log",
    args: RedisArgs,
  ): aws.cloudwatch.LogGroup {
    return new aws.cloudwatch.LogGroup(
      `${name}-redis-${log}`,
      { name: `/aws/elasticache/${groupId}/${log}`, retentionInDays: args.logRetentionDays, kmsKeyId: args.logKeyArn },
      { parent: this },
    );
  }
}
