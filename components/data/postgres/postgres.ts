import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  dailyOverlapsWeekly,
  formatDailyWindow,
  isHhmm,
  isTimeZone,
  isWeeklyWindow,
  localToUtcMinutes,
  parseWeeklyWindow,
} from "../../../lib/time";
import { EncryptionKey } from "../../security/encryptionKey";
import type { ServiceConnection } from "../../../lib/connection";
import { postgresFamily, postgresMajor } from "../../../lib/engines";
import {
  defaultMaxConnectionsForMemory,
  instanceClassMemoryBytes,
  unknownClassMessage,
} from "../../../lib/instanceClasses";

/** PostgreSQL's port; the security group rules and the connection use it. */
export const POSTGRES_PORT = 5432;

/** Create the database from a snapshot or from a point in time of another instance (only when it is created). */
export type PostgresRestore =
  { snapshotIdentifier: string } | { sourceDbInstanceIdentifier: string; restoreTime?: string };

export interface PostgresArgs {
  /** VPC of the database's security group. */
  vpcId: pulumi.Input<string>;
  /** Isolated subnets (no route out of the VPC) for the DB subnet group; at least two zones. */
  subnetIds: pulumi.Input<string>[];
  /** Security group of the clients (the app tasks): the only source admitted on 5432, and given an egress rule to it. */
  clientSecurityGroupId: pulumi.Input<string>;
  /**
   * RDS instance identifier. Log groups, the final snapshot and the Pulumi name of the instance
   * derive from it, so a new identifier declares a new instance (empty unless `restore` is set) and
   * removes the old one. @default `opsbook-<name>`
   */
  identifier?: string;
  /** PostgreSQL version, major ("16") or exact ("16.4"); the parameter group family follows the major. @default "16" */
  engineVersion?: string;
  /** RDS instance class, e.g. "db.t4g.medium". */
  instanceClass: string;
  /** Storage in GB at creation (gp3). */
  allocatedStorageGb: number;
  /** Storage autoscaling ceiling in GB; at least `allocatedStorageGb`. */
  maxAllocatedStorageGb: number;
  /** Database created with the instance; fixed at creation (a restore keeps its source's). @default "app" */
  databaseName?: string;
  /** Master user; its password lives in a Secrets Manager secret RDS manages. Fixed at creation. @default "app_admin" */
  masterUsername?: string;
  /** Standby in a second zone with automatic failover. @default true */
  multiAz?: boolean;
  /** RDS refuses to delete the instance while this is on. @default true */
  deletionProtection?: boolean;
  /** Days of automated backups, 1-35: the point-in-time recovery horizon. */
  backupRetentionDays: number;
  /** Start of the daily one-hour backup window, "HH:MM" local to `timeZone`. */
  backupWindowStart: string;
  /** IANA zone of `backupWindowStart`; converted to UTC at the zone's standard offset. */
  timeZone: string;
  /** Weekly maintenance window in UTC, "ddd:HH:MM-ddd:HH:MM"; must not overlap the backup window. */
  maintenanceWindow: string;
  /** Statements slower than this many milliseconds are logged (`log_min_duration_statement`). */
  slowQueryMs: number;
  /** `max_connections` in the parameter group. @default RDS's formula from the class's memory (see instanceClasses.ts) */
  maxConnections?: number;
  /** Application connection pool per task, handed to services as DB_POOL_MIN / DB_POOL_MAX. */
  pool: { min: number; max: number };
  /** Days Performance Insights keeps its data: 7, a multiple of 31, or 731. @default 7 */
  performanceInsightsRetentionDays?: number;
  /** Seconds between enhanced monitoring samples: 1, 5, 10, 15, 30 or 60. @default 60 */
  monitoringIntervalSeconds?: number;
  /** Create the instance from a snapshot or a point in time; ignored once the instance exists. @default none */
  restore?: PostgresRestore;
  /** Retention of the instance's CloudWatch log groups, in days. */
  logRetentionDays: number;
  /** KMS key of the log groups. */
  logKeyArn: pulumi.Input<string>;
  /** Account that owns the database key and whose RDS may assume the monitoring role. */
  accountId: pulumi.Input<string>;
  /** Region of the instance, for the monitoring role's source condition. */
  region: string;
  /** AWS partition. @default "aws" */
  partition?: pulumi.Input<string>;
  /** Pulumi `protect` on the instance and its key. @default true */
  protect?: boolean;
}

const IDENTIFIER = /^[a-z](?!.*--)[a-z0-9-]{0,61}[a-z0-9]$/;
const PI_RETENTION = [7, 731, ...Array.from({ length: 23 }, (_, i) => 31 * (i + 1))];
const MONITORING_INTERVALS = [1, 5, 10, 15, 30, 60];

/**
 * An RDS PostgreSQL instance that is never reachable from outside the app tier and never unencrypted:
 * isolated subnets, ingress on 5432 only from the client security group, TLS forced, storage,
 * Performance Insights and the master secret under a key of its own, daily backups kept for the
 * point-in-time horizon, and a final snapshot before any deletion.
 *
 * Cost: the instance class per hour (twice with Multi-AZ), gp3 storage and backup storage beyond the
 * instance's size, enhanced monitoring's CloudWatch Logs ingestion, one KMS key (about $1/month).
 */
export class Postgres extends pulumi.ComponentResource {
  readonly instance: aws.rds.Instance;
  /** The RDS identifier: the `DBInstanceIdentifier` dimension of the RDS metrics. */
  readonly identifier: string;
  readonly arn: pulumi.Output<string>;
  /** The instance's resource id (`db-...`): IAM database authentication policies and restores from retained backups use it. */
  readonly resourceId: pulumi.Output<string>;
  readonly address: pulumi.Output<string>;
  readonly port: number;
  /** "host:port". */
  readonly endpoint: pulumi.Output<string>;
  readonly databaseName: pulumi.Output<string>;
  /** The Secrets Manager secret RDS keeps the master user's name and password in, as JSON. */
  readonly masterSecretArn: pulumi.Output<string>;
  readonly key: EncryptionKey;
  readonly kmsKeyArn: pulumi.Output<string>;
  readonly securityGroup: aws.ec2.SecurityGroup;
  readonly subnetGroup: aws.rds.SubnetGroup;
  readonly parameterGroup: aws.rds.ParameterGroup;
  readonly monitoringRole: aws.iam.Role;
  private monitoringAttachment!: aws.iam.RolePolicyAttachment;
  readonly logGroups: { postgresql: aws.cloudwatch.LogGroup; upgrade: aws.cloudwatch.LogGroup };
  readonly instanceClass: string;
  /** `max_connections`: configured, or RDS's default for the class. Alarms express connections in percent of it. */
  readonly maxConnections: number;
  /** Nominal memory of the instance class in bytes, for freeable memory in percent; undefined for a class the table lacks. */
  readonly memoryBytes: number | undefined;
  readonly allocatedStorageGb: number;
  readonly maxAllocatedStorageGb: number;
  /** What a service needs to connect: DB_* settings, and the master credentials as ECS secrets. */
  readonly connection: ServiceConnection;

  constructor(name: string, args: PostgresArgs, opts?: pulumi.ComponentResourceOptions) {
    super("opsbook:data:Postgres", name, {}, opts);
    const identifier = args.identifier ?? `opsbook-${name}`;
    const engineVersion = args.engineVersion ?? "16";
    const fail = (message: string): never => {
      throw new pulumi.ResourceError(message, this);
    };

    // ---- validation: every problem here would otherwise surface half-way through a deployment ----
    if (!IDENTIFIER.test(identifier))
      fail(
        `identifier "${identifier}" is not an RDS identifier: 1-63 lower-case letters, digits and single hyphens, starting with a letter, not ending with a hyphen`,
      );
    const major = postgresMajor(engineVersion);
    if (major === undefined || major < 16)
      fail(`engineVersion must be PostgreSQL 16 or later, as "16" or "16.4"; got "${engineVersion}"`);
    if (args.subnetIds.length < 2)
      fail(
        `subnetIds must list subnets in at least two zones (an RDS subnet group needs them), got ${args.subnetIds.length}`,
      );
    if (!Number.isInteger(args.backupRetentionDays) || args.backupRetentionDays < 1 || args.backupRetentionDays > 35) {
      fail(
        `backupRetentionDays must be a whole number from 1 to 35 (RDS's limit; 0 would turn backups off), got ${args.backupRetentionDays}`,
      );
    }
    if (args.maxAllocatedStorageGb < args.allocatedStorageGb)
      fail(
        `maxAllocatedStorageGb (${args.maxAllocatedStorageGb}) must be at least allocatedStorageGb (${args.allocatedStorageGb})`,
      );
    if (args.pool.min > args.pool.max) fail(`pool.min (${args.pool.min}) must not exceed pool.max (${args.pool.max})`);
    if (!isTimeZone(args.timeZone))
      fail(`timeZone "${args.timeZone}" is not an IANA time zone, e.g. "UTC" or "Europe/Berlin"`);
    if (!isHhmm(args.backupWindowStart)) fail(`backupWindowStart must be "HH:MM", got "${args.backupWindowStart}"`);
    if (!isWeeklyWindow(args.maintenanceWindow))
      fail(`maintenanceWindow must be "ddd:HH:MM-ddd:HH:MM" in UTC, got "${args.maintenanceWindow}"`);
    const backupStart = localToUtcMinutes(args.backupWindowStart, args.timeZone);
    const backupWindow = formatDailyWindow(backupStart, 60);
    if (dailyOverlapsWeekly(backupStart, 60, parseWeeklyWindow(args.maintenanceWindow))) {
      fail(
        `maintenanceWindow ${args.maintenanceWindow} overlaps the daily backup window ${backupWindow} UTC (${args.backupWindowStart} ${args.timeZone}); move one of them`,
      );
    }
    const piRetention = args.performanceInsightsRetentionDays ?? 7;
    if (!PI_RETENTION.includes(piRetention))
      fail(`performanceInsightsRetentionDays must be 7, a multiple of 31 up to 713, or 731; got ${piRetention}`);
    const monitoringInterval = args.monitoringIntervalSeconds ?? 60;
    if (!MONITORING_INTERVALS.includes(monitoringInterval))
      fail(`monitoringIntervalSeconds must be one of ${MONITORING_INTERVALS.join(", ")}; got ${monitoringInterval}`);
    const memoryBytes = instanceClassMemoryBytes(args.instanceClass);
    if (args.maxConnections === undefined && memoryBytes === undefined) fail(unknownClassMessage(args.instanceClass));
    const restore = args.restore as
      Partial<{ snapshotIdentifier: string; sourceDbInstanceIdentifier: string; restoreTime: string }> | undefined;
    if (restore?.snapshotIdentifier !== undefined && restore.sourceDbInstanceIdentifier !== undefined) {
      fail("restore takes either { snapshotIdentifier } or { sourceDbInstanceIdentifier, restoreTime? }, not both");
    }
    if (restore?.sourceDbInstanceIdentifier === identifier) {
      fail(
        `a point-in-time restore creates a new instance: give it an identifier other than its source "${identifier}"`,
      );
    }

    this.identifier = identifier;
    this.instanceClass = args.instanceClass;
    this.memoryBytes = memoryBytes;
    this.maxConnections = args.maxConnections ?? defaultMaxConnectionsForMemory(memoryBytes!);
    this.allocatedStorageGb = args.allocatedStorageGb;
    this.maxAllocatedStorageGb = args.maxAllocatedStorageGb;
    this.port = POSTGRES_PORT;
    const partition = args.partition ?? "aws";
    const protect = args.protect ?? true;

    // ---- children ----
    this.key = new EncryptionKey(
      `${name}-db`,
      {
        description: `opsbook ${name}: PostgreSQL storage, Performance Insights and master secret`,
        accountId: args.accountId,
        partition,
        protect,
      },
      { parent: this },
    );
    this.kmsKeyArn = this.key.arn;

    this.securityGroup = this.createSecurityGroup(name, args);
    this.subnetGroup = new aws.rds.SubnetGroup(
      `${name}-db`,
      { description: `opsbook ${name}: isolated subnets of the PostgreSQL instance`, subnetIds: args.subnetIds },
      { parent: this },
    );
    this.parameterGroup = this.createParameterGroup(name, engineVersion, args);
    this.monitoringRole = this.createMonitoringRole(name, identifier, args, partition);
    this.logGroups = {
      postgresql: this.createLogGroup(name, identifier, "postgresql", args),
      upgrade: this.createLogGroup(name, identifier, "upgrade", args),
    };

    this.instance = new aws.rds.Instance(
      `${name}-${identifier}`,
      {
        identifier,
        engine: "postgres",
        engineVersion,
        autoMinorVersionUpgrade: true,
        // A new major in engineVersion (with its parameter group family) is an in-place upgrade.
        allowMajorVersionUpgrade: true,
        instanceClass: args.instanceClass,
        storageType: "gp3",
        allocatedStorage: args.allocatedStorageGb,
        maxAllocatedStorage: args.maxAllocatedStorageGb,
        storageEncrypted: true,
        kmsKeyId: this.key.arn,
        dbName: args.databaseName ?? "app",
        username: args.masterUsername ?? "app_admin",
        manageMasterUserPassword: true,
        masterUserSecretKmsKeyId: this.key.arn,
        iamDatabaseAuthenticationEnabled: true,
        port: POSTGRES_PORT,
        publiclyAccessible: false,
        dbSubnetGroupName: this.subnetGroup.name,
        vpcSecurityGroupIds: [this.securityGroup.id],
        parameterGroupName: this.parameterGroup.name,
        multiAz: args.multiAz ?? true,
        deletionProtection: args.deletionProtection ?? true,
        backupRetentionPeriod: args.backupRetentionDays,
        backupWindow,
        maintenanceWindow: args.maintenanceWindow,
        copyTagsToSnapshot: true,
        skipFinalSnapshot: false,
        finalSnapshotIdentifier: `${identifier}-final`,
        // Automated backups outlive a deleted instance until their retention ends: a restore can still use them.
        deleteAutomatedBackups: false,
        enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
        performanceInsightsEnabled: true,
        performanceInsightsKmsKeyId: this.key.arn,
        performanceInsightsRetentionPeriod: piRetention,
        monitoringInterval,
        monitoringRoleArn: this.monitoringRole.arn,
        ...restoreInputs(restore),
      },
      {
        parent: this,
        protect,
        // RDS creates missing log groups itself, unencrypted and kept forever: ours must exist first.
        // RDS checks the monitoring role's policy when the instance starts monitoring.
        dependsOn: [this.logGroups.postgresql, this.logGroups.upgrade, this.monitoringAttachment],
        // These only mean something when the instance is created. Once it exists, dropping or editing
        // the restore block must not replace it, and a restored instance keeps its source's database
        // and user names whatever the config says (both force a replacement otherwise). Pulumi resets
        // ignored inputs to the old state's values, even for a replacement: a restore therefore takes
        // a new identifier (a new instance), never a replacement of an existing one. No
        // deleteBeforeReplace either: a replacement that keeps the identifier fails on the name
        // before anything is deleted, which is the safe way to fail.
        ignoreChanges: ["snapshotIdentifier", "restoreToPointInTime", "dbName", "username"],
      },
    );

    this.arn = this.instance.arn;
    this.resourceId = this.instance.resourceId;
    this.address = this.instance.address;
    this.endpoint = this.instance.endpoint;
    this.databaseName = this.instance.dbName;
    this.masterSecretArn = this.instance.masterUserSecrets.apply((secrets) => {
      const arn = secrets[0]?.secretArn;
      if (!arn)
        throw new Error(`RDS reported no master user secret for ${identifier}; manageMasterUserPassword must be on`);
      return arn;
    });

    this.connection = {
      environment: {
        DB_HOST: this.address,
        DB_PORT: String(POSTGRES_PORT),
        DB_NAME: this.databaseName,
        DB_SSLMODE: "require",
        DB_POOL_MIN: String(args.pool.min),
        DB_POOL_MAX: String(args.pool.max),
      },
      // ECS reads one key of a JSON secret with "<arn>:<key>::" (empty version stage and id: the current version).
      secrets: {
        DB_USER: pulumi.interpolate`${this.masterSecretArn}:username::`,
        DB_PASSWORD: pulumi.interpolate`${this.masterSecretArn}:password::`,
      },
      secretArns: [this.masterSecretArn],
      kmsKeyArns: [this.key.arn],
    };

    this.registerOutputs({
      identifier,
      address: this.address,
      port: POSTGRES_PORT,
      masterSecretArn: this.masterSecretArn,
      kmsKeyArn: this.kmsKeyArn,
    });
  }

  private createSecurityGroup(name: string, args: PostgresArgs): aws.ec2.SecurityGroup {
    const sg = new aws.ec2.SecurityGroup(
      `${name}-db`,
      {
        vpcId: args.vpcId,
        description: `PostgreSQL: ${POSTGRES_PORT} from the app tier only`,
        tags: { Name: `${name}-db` },
      },
      { parent: this },
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-db-from-app`,
      {
        securityGroupId: sg.id,
        description: "PostgreSQL from the app tasks",
        ipProtocol: "tcp",
        fromPort: POSTGRES_PORT,
        toPort: POSTGRES_PORT,
        referencedSecurityGroupId: args.clientSecurityGroupId,
      },
      { parent: this },
    );
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-app-to-db`,
      {
        securityGroupId: args.clientSecurityGroupId,
        description: "PostgreSQL to the database",
        ipProtocol: "tcp",
        fromPort: POSTGRES_PORT,
        toPort: POSTGRES_PORT,
        referencedSecurityGroupId: sg.id,
      },
      { parent: this },
    );
    return sg;
  }

  private createParameterGroup(name: string, engineVersion: string, args: PostgresArgs): aws.rds.ParameterGroup {
    // "pending-reboot" is accepted for static and dynamic parameters alike ("immediate" only for
    // dynamic ones); a new instance starts with every value either way.
    const parameters: aws.types.input.rds.ParameterGroupParameter[] = [
      { name: "rds.force_ssl", value: "1", applyMethod: "pending-reboot" },
      { name: "log_min_duration_statement", value: String(args.slowQueryMs), applyMethod: "immediate" },
    ];
    if (args.maxConnections !== undefined)
      parameters.push({ name: "max_connections", value: String(args.maxConnections), applyMethod: "pending-reboot" });
    return new aws.rds.ParameterGroup(
      `${name}-db`,
      {
        family: postgresFamily(engineVersion),
        description: `opsbook ${name}: TLS required, slow statements logged`,
        parameters,
      },
      { parent: this },
    );
  }

  private createMonitoringRole(
    name: string,
    identifier: string,
    args: PostgresArgs,
    partition: pulumi.Input<string>,
  ): aws.iam.Role {
    const role = new aws.iam.Role(
      `${name}-db-monitoring`,
      {
        description: `Lets RDS enhanced monitoring of ${identifier} publish OS metrics`,
        assumeRolePolicy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "monitoring.rds.amazonaws.com" },
              Action: "sts:AssumeRole",
              Condition: {
                StringEquals: { "aws:SourceAccount": args.accountId },
                ArnLike: {
                  "aws:SourceArn": pulumi.interpolate`arn:${partition}:rds:${args.region}:${args.accountId}:db:${identifier}`,
                },
              },
            },
          ],
        }),
      },
      { parent: this },
    );
    this.monitoringAttachment = new aws.iam.RolePolicyAttachment(
      `${name}-db-monitoring`,
      {
        role: role.name,
        policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole`,
      },
      { parent: this },
    );
    return role;
  }

  private createLogGroup(
    name: string,
    identifier: string,
    log: "postgresql" | "upgrade",
    args: PostgresArgs,
  ): aws.cloudwatch.LogGroup {
    // The name RDS writes the export to; declared here so it is encrypted and expires.
    return new aws.cloudwatch.LogGroup(
      `${name}-${identifier}-${log}`,
      {
        name: `/aws/rds/instance/${identifier}/${log}`,
        retentionInDays: args.logRetentionDays,
        kmsKeyId: args.logKeyArn,
      },
      { parent: this },
    );
  }
}

function restoreInputs(
  restore: Partial<{ snapshotIdentifier: string; sourceDbInstanceIdentifier: string; restoreTime: string }> | undefined,
): Partial<aws.rds.InstanceArgs> {
  if (restore?.snapshotIdentifier !== undefined) return { snapshotIdentifier: restore.snapshotIdentifier };
  if (restore?.sourceDbInstanceIdentifier !== undefined) {
    return {
      restoreToPointInTime: restore.restoreTime
        ? { sourceDbInstanceIdentifier: restore.sourceDbInstanceIdentifier, restoreTime: restore.restoreTime }
        : { sourceDbInstanceIdentifier: restore.sourceDbInstanceIdentifier, useLatestRestorableTime: true },
    };
  }
  return {};
}
