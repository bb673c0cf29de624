import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { serviceTrustPolicy } from "../../../lib/iam";
import { clientOnlySecurityGroup } from "../../network/securityGroups";
import { dailyHourUtc } from "../../../lib/time";
import { EncryptionKey } from "../../security/encryptionKey";
import type { ServiceConnection } from "../../../lib/connection";
import { READ_HOST_VARIABLE } from "../../../lib/appVariables";
import { postgresFamily } from "../../../lib/engines";
import { defaultMaxConnectionsForMemory, instanceClassMemoryBytes } from "../../../lib/instanceClasses";
import { replicaIdentifier, type PostgresRestore, type PostgresSettings } from "./settings";
import type { DatabaseRolesArgs } from "./roles";

export type { PostgresRestore } from "./settings";

/** PostgreSQL's port; the security group rules and the connection use it. */
export const POSTGRES_PORT = 5432;

/**
 * The parsed `opsbook:postgres` settings (./settings.ts: defaults and rules) with the identifier the
 * stack resolved, plus what the stack wires in from other components.
 */
export interface PostgresArgs extends Omit<PostgresSettings, "identifier"> {
  /**
   * RDS instance identifier. Log groups, the final snapshot and the Pulumi name of the instance
   * derive from it, so a new identifier declares a new instance (empty unless `restore` is set).
   */
  identifier: string;
  /** VPC of the database's security group. */
  vpcId: pulumi.Input<string>;
  /** Isolated subnets (no route out of the VPC) for the DB subnet group; at least two zones. */
  subnetIds: pulumi.Input<string>[];
  /** Security group of the clients (the app tasks): the only source admitted on 5432, and given an egress rule to it. */
  clientSecurityGroupId: pulumi.Input<string>;
  /** IANA zone of `backupWindowStart`. */
  timeZone: string;
  /** Retention of the instance's CloudWatch log groups, in days. */
  logRetentionDays: number;
  /** KMS key of the log groups. */
  logKeyArn: pulumi.Input<string>;
  /** Account that owns the database key and whose RDS may assume the monitoring role. */
  accountId: pulumi.Input<string>;
  /** Region of the instance, for the monitoring role's source condition. */
  region: string;
  /** AWS partition. */
  partition: pulumi.Input<string>;
  /** Pulumi `protect` on the instance and its key. */
  protect: boolean;
  /** The network's zones: read replica n is placed in zone n of this list, each in its own (R-db-read-replicas). */
  availabilityZones?: string[];
}

/** One read replica (R-db-read-replicas). */
export interface PostgresReplica {
  /** `<identifier>-replica-<n>`: the `DBInstanceIdentifier` dimension of its metrics. */
  identifier: string;
  instance: aws.rds.Instance;
  address: pulumi.Output<string>;
  instanceClass: string;
  memoryBytes: number | undefined;
  /** Its `max_connections`: configured, or RDS's default for its class (the settings require at least the source's). */
  maxConnections: number;
}

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
  /** The metric counting statements slower than `slowQueryMs`, from the postgresql log group. */
  readonly slowQueries: { namespace: string; metricName: string };
  readonly instanceClass: string;
  /** `max_connections`: configured, or RDS's default for the class. Alarms express connections in percent of it. */
  readonly maxConnections: number;
  /** Nominal memory of the instance class in bytes, for freeable memory in percent; undefined for a class the table lacks. */
  readonly memoryBytes: number | undefined;
  readonly allocatedStorageGb: number;
  readonly maxAllocatedStorageGb: number;
  /** The read replicas, none by default (`postgres.readReplicas`). */
  readonly replicas: PostgresReplica[];
  /**
   * The master user's connection: DB_* settings and the RDS-managed master credentials. Only the
   * role bootstrap (./roles.ts) gets it; services, migrations and backups use their own roles (R-db-roles).
   */
  readonly masterConnection: ServiceConnection;
  /** What the database roles component needs: where the database is, and the master connection. */
  readonly roleDatabase: DatabaseRolesArgs["database"];

  constructor(name: string, args: PostgresArgs, opts?: pulumi.ComponentResourceOptions) {
    super("opsbook:data:Postgres", name, {}, opts);
    const identifier = args.identifier;
    const engineVersion = args.engineVersion;
    // The settings schema checked every value; what it cannot see is the wiring.
    if (args.subnetIds.length < 2) {
      throw new pulumi.ResourceError(
        `subnetIds must list subnets in at least two zones (an RDS subnet group needs them), got ${args.subnetIds.length}`,
        this,
      );
    }
    const backupWindow = dailyHourUtc(args.backupWindowStart, args.timeZone);
    const memoryBytes = instanceClassMemoryBytes(args.instanceClass);
    const restore = args.restore;

    this.identifier = identifier;
    this.instanceClass = args.instanceClass;
    this.memoryBytes = memoryBytes;
    this.maxConnections = args.maxConnections ?? defaultMaxConnectionsForMemory(memoryBytes!);
    this.allocatedStorageGb = args.allocatedStorageGb;
    this.maxAllocatedStorageGb = args.maxAllocatedStorageGb;
    this.port = POSTGRES_PORT;
    const partition = args.partition;
    const protect = args.protect;

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

    // R-rollback-database: snapshot names are unique per region and account, so a fixed
    // `<identifier>-final` lets only the first deletion under an identifier succeed (the next
    // fails with DBSnapshotAlreadyExists). The suffix is generated once and kept in state, beside
    // the instance and named like it: a new identifier or a stack built again gets a new one.
    // `finalSnapshotIdentifier` does not force a replacement (the provider's schema has no
    // ForceNew on it), so adopting the suffix is an in-place update.
    const finalSnapshotSuffix = new random.RandomId(
      `${name}-${identifier}-final-snapshot`,
      { byteLength: 4 },
      { parent: this },
    );
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
        dbName: args.databaseName,
        username: args.masterUsername,
        manageMasterUserPassword: true,
        masterUserSecretKmsKeyId: this.key.arn,
        iamDatabaseAuthenticationEnabled: true,
        port: POSTGRES_PORT,
        publiclyAccessible: false,
        dbSubnetGroupName: this.subnetGroup.name,
        vpcSecurityGroupIds: [this.securityGroup.id],
        parameterGroupName: this.parameterGroup.name,
        multiAz: args.multiAz,
        deletionProtection: args.deletionProtection,
        backupRetentionPeriod: args.backupRetentionDays,
        backupWindow,
        maintenanceWindow: args.maintenanceWindow,
        copyTagsToSnapshot: true,
        skipFinalSnapshot: false,
        finalSnapshotIdentifier: pulumi.interpolate`${identifier}-final-${finalSnapshotSuffix.hex}`,
        // Automated backups outlive a deleted instance until their retention ends: a restore can still use them.
        deleteAutomatedBackups: false,
        enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
        performanceInsightsEnabled: true,
        performanceInsightsKmsKeyId: this.key.arn,
        performanceInsightsRetentionPeriod: args.performanceInsightsRetentionDays,
        monitoringInterval: args.monitoringIntervalSeconds,
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

    this.slowQueries = this.createSlowQueryMetric(name);
    this.replicas = this.createReplicas(name, identifier, args);

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

    const environment: Record<string, pulumi.Input<string>> = {
      DB_HOST: this.address,
      DB_PORT: String(POSTGRES_PORT),
      DB_NAME: this.databaseName,
      DB_SSLMODE: "require",
      DB_POOL_MIN: String(args.pool.min),
      DB_POOL_MAX: String(args.pool.max),
      // R-db-read-replicas: the replicas' hosts, comma-separated when there are several (libpq 16+
      // spreads connections over them with load_balance_hosts=random; other drivers pick one at random).
      ...(this.replicas.length > 0
        ? { [READ_HOST_VARIABLE]: pulumi.all(this.replicas.map((r) => r.address)).apply((hosts) => hosts.join(",")) }
        : {}),
    };
    this.masterConnection = {
      environment,
      // ECS reads one key of a JSON secret with "<arn>:<key>::" (empty version stage and id: the current version).
      secrets: {
        DB_USER: pulumi.interpolate`${this.masterSecretArn}:username::`,
        DB_PASSWORD: pulumi.interpolate`${this.masterSecretArn}:password::`,
      },
      secretArns: [this.masterSecretArn],
      kmsKeyArns: [this.key.arn],
    };
    this.roleDatabase = {
      identifier,
      address: this.address,
      port: POSTGRES_PORT,
      name: this.databaseName,
      environment,
      master: this.masterConnection,
    };

    this.registerOutputs({
      identifier,
      address: this.address,
      port: POSTGRES_PORT,
      masterSecretArn: this.masterSecretArn,
      kmsKeyArn: this.kmsKeyArn,
    });
  }

  /** Counts the statements PostgreSQL logs as slower than `log_min_duration_statement`. */
  private createSlowQueryMetric(name: string): { namespace: string; metricName: string } {
    const metric = { namespace: `Opsbook/${name}`, metricName: "PostgresSlowQueries" };
    new aws.cloudwatch.LogMetricFilter(
      `${name}-slow-queries`,
      {
        logGroupName: this.logGroups.postgresql.name,
        // log_min_duration_statement writes "duration: 123.456 ms  statement: ..." for each slow statement.
        pattern: '"duration:"',
        metricTransformation: { namespace: metric.namespace, name: metric.metricName, value: "1", defaultValue: "0" },
      },
      { parent: this },
    );
    return metric;
  }

  /**
   * R-db-read-replicas: replicas of the instance, as durable and private as it is: the same key
   * (storage and Performance Insights), parameter group (TLS forced), subnet group and security
   * group, enhanced monitoring, log exports into encrypted log groups, Multi-AZ as the instance,
   * deletion protection and Pulumi protect, each in a zone of its own. PostgreSQL replicas keep no
   * automated backups (RDS does not support them); the source's cover the data.
   */
  private createReplicas(name: string, identifier: string, args: PostgresArgs): PostgresReplica[] {
    const zones = args.availabilityZones ?? [];
    const instanceClass = args.readReplicas.instanceClass ?? args.instanceClass;
    return replicaIds(identifier, args.readReplicas.count).map((id, i) => {
      const logs = [this.createLogGroup(name, id, "postgresql", args), this.createLogGroup(name, id, "upgrade", args)];
      const instance = new aws.rds.Instance(
        `${name}-${id}`,
        {
          identifier: id,
          replicateSourceDb: this.instance.identifier,
          instanceClass,
          ...(zones.length > 0 ? { availabilityZone: zones[i % zones.length] } : {}),
          storageType: "gp3",
          maxAllocatedStorage: args.maxAllocatedStorageGb,
          storageEncrypted: true,
          kmsKeyId: this.key.arn,
          iamDatabaseAuthenticationEnabled: true,
          port: POSTGRES_PORT,
          publiclyAccessible: false,
          dbSubnetGroupName: this.subnetGroup.name,
          vpcSecurityGroupIds: [this.securityGroup.id],
          parameterGroupName: this.parameterGroup.name,
          multiAz: args.multiAz,
          deletionProtection: args.deletionProtection,
          autoMinorVersionUpgrade: true,
          maintenanceWindow: args.maintenanceWindow,
          copyTagsToSnapshot: true,
          // RDS refuses a final snapshot of a read replica; its data is the source's.
          skipFinalSnapshot: true,
          enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
          performanceInsightsEnabled: true,
          performanceInsightsKmsKeyId: this.key.arn,
          performanceInsightsRetentionPeriod: args.performanceInsightsRetentionDays,
          monitoringInterval: args.monitoringIntervalSeconds,
          monitoringRoleArn: this.monitoringRole.arn,
        },
        { parent: this, protect: args.protect, dependsOn: [...logs, this.monitoringAttachment] },
      );
      const memoryBytes = instanceClassMemoryBytes(instanceClass);
      return {
        identifier: id,
        instance,
        address: instance.address,
        instanceClass,
        memoryBytes,
        maxConnections: args.maxConnections ?? defaultMaxConnectionsForMemory(memoryBytes!),
      };
    });
  }

  private createSecurityGroup(name: string, args: PostgresArgs): aws.ec2.SecurityGroup {
    return clientOnlySecurityGroup(
      {
        vpcId: args.vpcId,
        clientSecurityGroupId: args.clientSecurityGroupId,
        port: POSTGRES_PORT,
        engine: "PostgreSQL",
        target: "the database",
        names: { group: `${name}-db`, ingress: `${name}-db-from-app`, egress: `${name}-app-to-db` },
      },
      this,
    );
  }

  private createParameterGroup(name: string, engineVersion: string, args: PostgresArgs): aws.rds.ParameterGroup {
    // "pending-reboot" is accepted for static and dynamic parameters alike ("immediate" only for
    // dynamic ones); a new instance starts with every value either way.
    const parameters: aws.types.input.rds.ParameterGroupParameter[] = [
      { name: "rds.force_ssl", value: "1", applyMethod: "pending-reboot" },
      { name: "log_min_duration_statement", value: String(args.slowQueryMs), applyMethod: "immediate" },
      // R-db-maintenance: the maintenance job's slow-statement report reads pg_stat_statements,
      // which works only when preloaded (static: an existing instance needs a reboot for it).
      { name: "shared_preload_libraries", value: "pg_stat_statements", applyMethod: "pending-reboot" },
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
    const dbArn = (id: string) => pulumi.interpolate`arn:${partition}:rds:${args.region}:${args.accountId}:db:${id}`;
    const role = new aws.iam.Role(
      `${name}-db-monitoring`,
      {
        description: `Lets RDS enhanced monitoring of ${identifier} publish OS metrics`,
        assumeRolePolicy: serviceTrustPolicy(
          "monitoring.rds.amazonaws.com",
          args.accountId,
          args.readReplicas.count === 0
            ? dbArn(identifier)
            : [identifier, ...replicaIds(identifier, args.readReplicas.count)].map(dbArn),
        ),
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

/** Identifiers of `count` read replicas of `identifier`. */
function replicaIds(identifier: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => replicaIdentifier(identifier, i + 1));
}

function restoreInputs(restore: PostgresRestore): Partial<aws.rds.InstanceArgs> {
  if (restore === undefined) return {};
  if ("snapshotIdentifier" in restore) return { snapshotIdentifier: restore.snapshotIdentifier };
  if ("sourceDbInstanceAutomatedBackupsArn" in restore) {
    // R-backup-dr: the automated backups another region replicated here.
    const source = { sourceDbInstanceAutomatedBackupsArn: restore.sourceDbInstanceAutomatedBackupsArn };
    return {
      restoreToPointInTime: restore.restoreTime
        ? { ...source, restoreTime: restore.restoreTime }
        : { ...source, useLatestRestorableTime: true },
    };
  }
  {
    return {
      restoreToPointInTime: restore.restoreTime
        ? { sourceDbInstanceIdentifier: restore.sourceDbInstanceIdentifier, restoreTime: restore.restoreTime }
        : { sourceDbInstanceIdentifier: restore.sourceDbInstanceIdentifier, useLatestRestorableTime: true },
    };
  }
  return {};
}
