import * as aws from "@pulumi/aws";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { serviceTrustPolicy, webIdentityTrustPolicy } from "../../lib/iam";
import type { ServiceConnection } from "../../lib/connection";
import {
  containerSettings,
  ecsTaskRole,
  executionRole,
  jobTaskDefinitionArgs,
  type PullRepository,
} from "../service/taskRoles";
import { SecureBucket } from "../storage/secureBucket";
import type { BackupSettings } from "./settings";
import { fargateSchedule, schedulerRole } from "./schedules";
import { EncryptionKey } from "../security/encryptionKey";
import {
  BACKUP_SERVICE_ACCOUNT,
  BackupCronJobs,
  type BackupCronJobsArgs,
  cronSchedule,
} from "../kubernetes/backupJobs";
import { resources } from "../kubernetes/manifests";
import { parseHhmm } from "../../lib/time";
import {
  BACKUP_ENV,
  BACKUP_METRIC,
  DATABASE_DIMENSION,
  DRILL_TAG,
  DUMP_PREFIX,
  metricsNamespace,
} from "../../lib/backupContract";
import { POSTGRES_PORT } from "../data/postgres/postgres";

/** Key prefix of the dumps in the bucket. */
const BACKUP_PREFIX = DUMP_PREFIX;

/**
 * Metrics the backup job publishes (jobs/backup/src/metrics.ts), with dimension `Database`. The
 * namespace names the stack: stacks in one account must not count each other's backups.
 */
export function backupMetrics(stack: string) {
  return {
    namespace: metricsNamespace(stack),
    lastSuccessfulBackup: BACKUP_METRIC.lastSuccessfulBackupTimestamp,
    restoreDrillSuccess: BACKUP_METRIC.restoreDrillSuccess,
    dimension: DATABASE_DIMENSION,
  };
}

/**
 * The parsed `opsbook:backup` settings (./settings.ts; `rpoHours` feeds the alarm catalogue, not
 * this component) plus the database to dump and the stack's wiring: the ECS cluster the jobs run
 * in, or (`kubernetes`) the Kubernetes cluster the services run on.
 */
export type BackupsArgs = BackupsCommonArgs & (BackupsOnEcs | BackupsOnKubernetes);

/** What the jobs need wherever they run. */
export interface BackupsCommonArgs extends Omit<
  BackupSettings,
  "rpoHours" | "maxRunMinutes" | "clientMajor" | "image"
> {
  /** The job's image without its tag: `backup.image`, or the stack's backup-job repository URL. */
  image: pulumi.Input<string>;
  /** The stack's ECR repository of the image, when it is one: the execution roles pull only from it. */
  repository?: PullRepository;
  /**
   * Database to dump: its connection (PG* settings and credentials), its name, and the instance ARN
   * and automated backup retention for the copy of its automated backups in `drRegion`.
   */
  database: {
    /** The backup role's (R-db-roles). */
    connection: ServiceConnection;
    name: string;
    instanceArn?: pulumi.Input<string>;
    backupRetentionDays?: number;
    /**
     * What the drill's temporary instance copies (R-backup-restore-test): the instance it
     * describes, and the parameter group, subnet group and KMS key it creates its instance with.
     */
    drillSource: {
      identifier: string;
      parameterGroupName: pulumi.Input<string>;
      subnetGroupName: pulumi.Input<string>;
      kmsKeyArn: pulumi.Input<string>;
    };
  };
  /** VPC of the drill's security groups (the database's). */
  vpcId: pulumi.Input<string>;
  /** IANA zone of `dailyAt` and the drill (EventBridge Scheduler or the CronJobs apply it). */
  timeZone: string;
  /** KMS key that encrypts the dumps. */
  kmsKeyArn: pulumi.Input<string>;
  logRetentionDays: number;
  logKmsKeyArn: pulumi.Input<string>;
  protect: boolean;
  region: string;
  accountId: pulumi.Input<string>;
  /** The stack's partition (`aws`, `aws-us-gov`, `aws-cn`), for the disaster-recovery key's policy. */
  partition: pulumi.Input<string>;
}

/** The jobs as Fargate tasks in the ECS cluster, started by EventBridge Scheduler. */
export interface BackupsOnEcs {
  cluster: { arn: pulumi.Input<string> };
  /** Private subnets and the app security group (which the database admits). */
  subnetIds: pulumi.Input<string>[];
  securityGroupId: pulumi.Input<string>;
  kubernetes?: undefined;
}

/** The jobs as CronJobs on the services' Kubernetes cluster (R-backup-job-k8s). */
export interface BackupsOnKubernetes {
  kubernetes: {
    provider: k8s.Provider;
    /** The services' namespace (its name, once created). */
    namespace: pulumi.Input<string>;
    commonLabels: Record<string, string>;
    /** `kubernetes.oidcProviderArn`: the job's role trusts the service account's tokens from it. */
    oidcProviderArn: string;
    /** `backup.maxRunMinutes`: a Job running longer is stopped. */
    maxRunMinutes: number;
    /** `kubernetes.requestPercentOfLimits`, applied to the task's CPU and memory. */
    requestPercentOfLimits: number;
    /** `kubernetes.clientSecurityGroupId`: the pods' group, which the drill's instance admits. */
    clientSecurityGroupId: pulumi.Input<string>;
    /** The cluster's DNS pods and the database: the jobs' only destinations besides HTTPS. */
    egress: BackupCronJobsArgs["egress"];
  };
  cluster?: undefined;
  subnetIds?: undefined;
  securityGroupId?: undefined;
}

/** Identifier prefix of the drill's temporary instances: the job policy creates and deletes only these. */
function drillInstancePrefix(name: string): string {
  return `opsbook-${name}-drill`;
}

/** CPU units and MiB of one job run, on Fargate and (as limits) on Kubernetes, the in-cluster data tier's too. */
export const JOB_CPU = 512;
export const JOB_MEMORY = 1024;

/** `DRILL_RTO_SECONDS` of the restore drill: `backup.rtoHours` in the seconds the job reads. */
export function drillRtoSeconds(rtoHours: number): string {
  return String(rtoHours * 3600);
}

/** "02:30" on `day` -> an EventBridge Scheduler cron expression. */
export function scheduleExpression(at: string, day?: string): string {
  const minutes = parseHhmm(at);
  return `cron(${minutes % 60} ${Math.floor(minutes / 60)} ${day ? "?" : "*"} * ${day ?? "?"} *)`;
}

/**
 * Backups that can be restored: a versioned, KMS-encrypted, TLS-only S3 bucket (with its own access
 * log bucket), the nightly pg_dump job and the weekly restore drill as Fargate tasks started by
 * EventBridge Scheduler in the stack's time zone, or as CronJobs on the Kubernetes cluster. Cost:
 * storage for the dumps and their versions, and a few minutes of Fargate (or the cluster) a day.
 */
export class Backups extends pulumi.ComponentResource {
  readonly bucket: SecureBucket;
  readonly logBucket: SecureBucket;
  /** The ECS task definitions and their schedules; none on Kubernetes. */
  readonly backupTask?: aws.ecs.TaskDefinition;
  readonly drillTask?: aws.ecs.TaskDefinition;
  readonly schedules?: { backup: aws.scheduler.Schedule; drill: aws.scheduler.Schedule };
  /** The CronJobs when the jobs run on Kubernetes. */
  readonly cronJobs?: BackupCronJobs;
  readonly replica?: SecureBucket;
  /** The drill task's security group, and its temporary instance's, which admits only the first. */
  readonly drillSecurityGroups: { task: aws.ec2.SecurityGroup; instance: aws.ec2.SecurityGroup };

  constructor(name: string, args: BackupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("opsbook:backup:Backups", name, {}, opts);

    this.logBucket = new SecureBucket(
      `${name}-backup-access-logs`,
      {
        purpose: `${name}-backup-logs`,
        // S3 server access logs can only be delivered to SSE-S3 buckets.
        encryption: "s3-managed",
        expireAfterDays: 365,
        noncurrentExpireAfterDays: 1,
        protect: args.protect,
        policyStatements: (arn) => [
          {
            Sid: "S3ServerAccessLogs",
            Effect: "Allow",
            Principal: { Service: "logging.s3.amazonaws.com" },
            Action: "s3:PutObject",
            Resource: pulumi.interpolate`${arn}/*`,
            Condition: { StringEquals: { "aws:SourceAccount": args.accountId } },
          },
        ],
      },
      // Once `<env>-access-logs`, as was the load balancer's log bucket: renamed, not replaced.
      { parent: this, aliases: [{ name: `${name}-access-logs` }] },
    );
    this.bucket = new SecureBucket(
      `${name}`,
      {
        purpose: `${name}-backups`,
        encryption: { kmsKeyArn: args.kmsKeyArn },
        expireAfterDays: args.retentionDays,
        noncurrentExpireAfterDays: 7,
        accessLogs: { bucket: this.logBucket.name, prefix: "backups/" },
        objectLockDays: args.objectLock ? args.retentionDays : undefined,
        protect: args.protect,
      },
      { parent: this },
    );

    const metrics = backupMetrics(name);
    this.drillSecurityGroups = this.drillNetwork(name, args.vpcId, args.kubernetes?.clientSecurityGroupId);
    // The job's own variables (lib/backupContract.ts); the database's come with its connection.
    const own = {
      [BACKUP_ENV.bucket]: this.bucket.name,
      [BACKUP_ENV.prefix]: BACKUP_PREFIX,
      [BACKUP_ENV.region]: args.region,
      [BACKUP_ENV.metricsNamespace]: metrics.namespace,
      // The drill's own instance (R-backup-restore-test).
      [BACKUP_ENV.drillSourceInstance]: args.database.drillSource.identifier,
      [BACKUP_ENV.drillInstancePrefix]: drillInstancePrefix(name),
      [BACKUP_ENV.drillInstanceClass]: args.drillInstanceClass,
      [BACKUP_ENV.drillSecurityGroup]: this.drillSecurityGroups.instance.id,
      [BACKUP_ENV.drillRtoSeconds]: drillRtoSeconds(args.rtoHours),
    };
    if (args.kubernetes) this.cronJobs = this.onKubernetes(name, args, own);
    else
      ({
        backupTask: this.backupTask,
        drillTask: this.drillTask,
        schedules: this.schedules,
      } = this.onEcs(name, args, own));
    if (args.drRegion) this.replica = this.replicate(name, args, args.drRegion);
    this.registerOutputs({ bucketName: this.bucket.name, replicaBucketName: this.replica?.name });
  }

  /**
   * The jobs as Fargate tasks (task role for the job, execution role to start it, a log group) that
   * EventBridge Scheduler starts in the stack's time zone.
   */
  private onEcs(name: string, args: BackupsCommonArgs & BackupsOnEcs, own: Record<string, pulumi.Input<string>>) {
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-jobs`,
      { name: `/opsbook/${name}/backup-jobs`, retentionInDays: args.logRetentionDays, kmsKeyId: args.logKmsKeyArn },
      { parent: this },
    );
    const image = pulumi.interpolate`${args.image}:${args.tag}`;
    const jobExecutionRole = (suffix: string, connection: ServiceConnection) =>
      executionRole(
        `${name}${suffix}`,
        {
          image: args.image,
          repository: args.repository,
          logGroupArn: logGroup.arn,
          connections: [connection],
          region: args.region,
          accountId: args.accountId,
        },
        this,
      ).role;
    // The drill restores into an instance of its own as that instance's master user; it gets the
    // backup role's read-only connection only because the job's settings require one (R-db-roles).
    const execution = jobExecutionRole("-execution", args.database.connection);
    const task = ecsTaskRole(`${name}-task`, args.accountId, this);
    this.jobPolicy(name, task, args);
    const settings = {
      backup: containerSettings([args.database.connection], own),
      "restore-drill": containerSettings([args.database.connection], own),
    };
    const taskDefinition = (job: "backup" | "restore-drill") =>
      new aws.ecs.TaskDefinition(
        `${name}-${job}`,
        jobTaskDefinitionArgs({
          family: `opsbook-${name}-${job}`,
          command: job,
          image,
          cpu: JOB_CPU,
          memory: JOB_MEMORY,
          executionRoleArn: execution.arn,
          taskRoleArn: task.arn,
          settings: settings[job],
          logGroupName: logGroup.name,
          region: args.region,
        }),
        { parent: this },
      );
    const backupTask = taskDefinition("backup");
    const drillTask = taskDefinition("restore-drill");

    const role = schedulerRole(
      `${name}-scheduler`,
      {
        description: "Lets EventBridge Scheduler start the backup job and the restore drill",
        accountId: args.accountId,
        clusterArn: args.cluster.arn,
        taskFamilies: [backupTask.arnWithoutRevision, drillTask.arnWithoutRevision],
        passRoles: [execution.arn, task.arn],
        sids: { run: "RunJobs", pass: "PassJobRoles" },
      },
      { parent: this },
    );
    const schedule = (
      job: string,
      taskDefinitionArn: pulumi.Input<string>,
      expression: string,
      description: string,
      securityGroupId: pulumi.Input<string>,
    ) =>
      fargateSchedule(
        `${name}-${job}`,
        {
          description,
          expression,
          timeZone: args.timeZone,
          clusterArn: args.cluster.arn,
          roleArn: role.arn,
          taskDefinitionArn,
          subnetIds: args.subnetIds,
          securityGroupId,
        },
        { parent: this },
      );
    const schedules = {
      backup: schedule(
        "backup",
        backupTask.arn,
        scheduleExpression(args.dailyAt),
        `Nightly pg_dump of ${args.database.name} at ${args.dailyAt} ${args.timeZone} (runbook: daily at 2 AM)`,
        args.securityGroupId,
      ),
      drill: schedule(
        "restore-drill",
        drillTask.arn,
        scheduleExpression(args.restoreDrillAt, args.restoreDrillDay),
        `Weekly restore drill of the newest dump into an instance of its own, ${args.restoreDrillDay} ${args.restoreDrillAt} ${args.timeZone}`,
        // Not the app's group: the drill never reaches the database it backs up, only its own instance.
        this.drillSecurityGroups.task.id,
      ),
    };
    return { backupTask, drillTask, schedules };
  }

  /**
   * The jobs as CronJobs on the services' cluster (R-backup-job-k8s), their AWS access through the
   * service account's IAM role (EKS IAM roles for service accounts) with the ECS task role's policy.
   */
  private onKubernetes(
    name: string,
    args: BackupsCommonArgs & BackupsOnKubernetes,
    own: Record<string, pulumi.Input<string>>,
  ): BackupCronJobs {
    const k = args.kubernetes;
    const role = new aws.iam.Role(
      `${name}-task`,
      {
        description: "The backup job's pods on the Kubernetes cluster, through its service account",
        assumeRolePolicy: webIdentityTrustPolicy(k.oidcProviderArn, k.namespace, BACKUP_SERVICE_ACCOUNT),
      },
      { parent: this },
    );
    this.jobPolicy(name, role, args);
    return new BackupCronJobs(
      name,
      {
        namespace: k.namespace,
        commonLabels: k.commonLabels,
        image: pulumi.interpolate`${args.image}:${args.tag}`,
        roleArn: role.arn,
        connection: args.database.connection,
        environment: own,
        timeZone: args.timeZone,
        schedules: {
          backup: cronSchedule(args.dailyAt),
          "restore-drill": cronSchedule(args.restoreDrillAt, args.restoreDrillDay),
        },
        maxRunMinutes: k.maxRunMinutes,
        resources: resources(JOB_CPU, JOB_MEMORY, k.requestPercentOfLimits),
        egress: k.egress,
      },
      { parent: this, provider: k.provider },
    );
  }

  /**
   * What the job may do, wherever it runs (R-security-least-privilege): list and write dumps under
   * its prefix, use the backups key, publish in its own metric namespace.
   */
  private jobPolicy(name: string, role: aws.iam.Role, args: BackupsCommonArgs): aws.iam.RolePolicy {
    const metrics = backupMetrics(name);
    const drillPrefix = drillInstancePrefix(name);
    const rdsArn = (kind: string, id: pulumi.Input<string>) =>
      pulumi.interpolate`arn:${args.partition}:rds:${args.region}:${args.accountId}:${kind}:${id}`;
    const source = args.database.drillSource;
    return new aws.iam.RolePolicy(
      `${name}-task`,
      {
        role: role.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            { Sid: "ListDumps", Effect: "Allow", Action: "s3:ListBucket", Resource: this.bucket.arn },
            {
              Sid: "ReadWriteDumps",
              Effect: "Allow",
              Action: ["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
              // The job writes under BACKUP_PREFIX only. No s3:DeleteObjectVersion: a deleted dump
              // stays as a noncurrent version until the lifecycle rule expires it.
              Resource: pulumi.interpolate`${this.bucket.arn}/${BACKUP_PREFIX}/*`,
            },
            {
              Sid: "EncryptDumps",
              Effect: "Allow",
              Action: ["kms:GenerateDataKey", "kms:Decrypt"],
              Resource: args.kmsKeyArn,
            },
            // R-backup-restore-test: the drill's own instance. Creating one needs the instance
            // (named with the drill prefix and tagged with the source) and what it is created
            // from; deleting is limited to the prefix and the tag. The source is only described.
            {
              Sid: "CreateDrillInstance",
              Effect: "Allow",
              Action: ["rds:CreateDBInstance", "rds:AddTagsToResource"],
              Resource: rdsArn("db", `${drillPrefix}-*`),
              Condition: {
                StringEquals: { [`aws:RequestTag/${DRILL_TAG}`]: source.identifier },
                "ForAllValues:StringEquals": { "aws:TagKeys": [DRILL_TAG] },
              },
            },
            {
              Sid: "CreateDrillInstanceFrom",
              Effect: "Allow",
              Action: "rds:CreateDBInstance",
              Resource: [
                rdsArn("pg", source.parameterGroupName),
                rdsArn("subgrp", source.subnetGroupName),
                rdsArn("og", "default:postgres-*"),
              ],
            },
            {
              Sid: "DeleteDrillInstance",
              Effect: "Allow",
              Action: "rds:DeleteDBInstance",
              Resource: rdsArn("db", `${drillPrefix}-*`),
              Condition: { StringEquals: { [`aws:ResourceTag/${DRILL_TAG}`]: source.identifier } },
            },
            {
              Sid: "DescribeDatabases",
              Effect: "Allow",
              Action: ["rds:DescribeDBInstances", "rds:DescribeDBSnapshots"],
              Resource: "*",
            },
            {
              // RDS encrypts the drill's storage with the database's key on the caller's behalf.
              Sid: "EncryptDrillInstance",
              Effect: "Allow",
              Action: ["kms:CreateGrant", "kms:DescribeKey"],
              Resource: source.kmsKeyArn,
              Condition: { StringEquals: { "kms:ViaService": `rds.${args.region}.amazonaws.com` } },
            },
            {
              Sid: "PublishBackupMetrics",
              Effect: "Allow",
              Action: "cloudwatch:PutMetricData",
              Resource: "*",
              Condition: { StringEquals: { "cloudwatch:namespace": metrics.namespace } },
            },
          ],
        }),
      },
      { parent: this },
    );
  }

  /**
   * The drill task's group (HTTPS out to AWS APIs and S3, PostgreSQL to the drill instance's group
   * only) and the drill instance's group (PostgreSQL from the drill task's group only).
   */
  private drillNetwork(name: string, vpcId: pulumi.Input<string>, podSecurityGroupId?: pulumi.Input<string>) {
    const group = (suffix: string, description: string) =>
      new aws.ec2.SecurityGroup(
        `${name}-${suffix}`,
        { vpcId, description, tags: { Name: `${name}-${suffix}` } },
        { parent: this },
      );
    const task = group("restore-drill-task", "Restore drill task: HTTPS to AWS APIs, PostgreSQL to its drill instance");
    const instance = group("restore-drill-db", "Restore drill instance: PostgreSQL from the drill task only");
    const postgres = { ipProtocol: "tcp", fromPort: POSTGRES_PORT, toPort: POSTGRES_PORT };
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-restore-drill-https-out`,
      {
        securityGroupId: task.id,
        description: "HTTPS to AWS APIs and S3, through NAT",
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrIpv4: "0.0.0.0/0",
      },
      { parent: this },
    );
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-restore-drill-to-db`,
      {
        securityGroupId: task.id,
        description: "PostgreSQL to the drill instance",
        ...postgres,
        referencedSecurityGroupId: instance.id,
      },
      { parent: this },
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-restore-drill-db-from-task`,
      {
        securityGroupId: instance.id,
        description: "PostgreSQL from the drill task",
        ...postgres,
        referencedSecurityGroupId: task.id,
      },
      { parent: this },
    );
    if (podSecurityGroupId !== undefined) {
      // On Kubernetes the drill's pods carry the cluster's security group, not the task's.
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-restore-drill-db-from-pods`,
        {
          securityGroupId: instance.id,
          description: "PostgreSQL from the cluster's pods (the restore drill's CronJob)",
          ...postgres,
          referencedSecurityGroupId: podSecurityGroupId,
        },
        { parent: this },
      );
    }
    return { task, instance };
  }

  /** Copies every new dump to a bucket in `region`, and the database's automated backups too. */
  private replicate(name: string, args: BackupsArgs, region: string): SecureBucket {
    const key = new EncryptionKey(
      `${name}-dr`,
      {
        description: `opsbook ${name}: backups in ${region}`,
        accountId: args.accountId,
        partition: args.partition,
        protect: args.protect,
        region,
      },
      { parent: this },
    );
    // S3 delivers server access logs only to a bucket in the same region.
    const replicaLogs = new SecureBucket(
      `${name}-replica-access-logs`,
      {
        purpose: `${name}-backup-logs-dr`,
        encryption: "s3-managed",
        expireAfterDays: 365,
        noncurrentExpireAfterDays: 1,
        protect: args.protect,
        region,
        policyStatements: (arn) => [
          {
            Sid: "S3ServerAccessLogs",
            Effect: "Allow",
            Principal: { Service: "logging.s3.amazonaws.com" },
            Action: "s3:PutObject",
            Resource: pulumi.interpolate`${arn}/*`,
            Condition: { StringEquals: { "aws:SourceAccount": args.accountId } },
          },
        ],
      },
      { parent: this },
    );
    const replica = new SecureBucket(
      `${name}-replica`,
      {
        purpose: `${name}-backups-dr`,
        accessLogs: { bucket: replicaLogs.name, prefix: "backups/" },
        encryption: { kmsKeyArn: key.arn },
        expireAfterDays: args.retentionDays,
        noncurrentExpireAfterDays: 7,
        objectLockDays: args.objectLock ? args.retentionDays : undefined,
        protect: args.protect,
        region,
      },
      { parent: this },
    );
    const role = new aws.iam.Role(
      `${name}-replication`,
      {
        description: `Lets S3 copy backups to ${region}`,
        assumeRolePolicy: serviceTrustPolicy("s3.amazonaws.com", args.accountId),
      },
      { parent: this },
    );
    new aws.iam.RolePolicy(
      `${name}-replication`,
      {
        role: role.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "ReadSourceConfiguration",
              Effect: "Allow",
              Action: ["s3:GetReplicationConfiguration", "s3:ListBucket"],
              Resource: this.bucket.arn,
            },
            {
              Sid: "ReadSourceVersions",
              Effect: "Allow",
              Action: [
                "s3:GetObjectVersionForReplication",
                "s3:GetObjectVersionAcl",
                "s3:GetObjectVersionTagging",
                "s3:GetObjectRetention",
                "s3:GetObjectLegalHold",
              ],
              Resource: pulumi.interpolate`${this.bucket.arn}/*`,
            },
            {
              Sid: "WriteReplicas",
              Effect: "Allow",
              Action: ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
              Resource: pulumi.interpolate`${replica.arn}/*`,
            },
            {
              Sid: "DecryptSource",
              Effect: "Allow",
              Action: "kms:Decrypt",
              Resource: args.kmsKeyArn,
              Condition: { StringLike: { "kms:ViaService": `s3.${args.region}.amazonaws.com` } },
            },
            {
              Sid: "EncryptReplica",
              Effect: "Allow",
              Action: ["kms:Encrypt", "kms:GenerateDataKey"],
              Resource: key.arn,
              Condition: { StringLike: { "kms:ViaService": `s3.${region}.amazonaws.com` } },
            },
          ],
        }),
      },
      { parent: this },
    );
    new aws.s3.BucketReplicationConfig(
      `${name}`,
      {
        bucket: this.bucket.bucket.id,
        role: role.arn,
        rules: [
          {
            id: "dumps-to-dr",
            status: "Enabled",
            filter: {},
            // A dump deleted here by mistake stays in the other region.
            deleteMarkerReplication: { status: "Disabled" },
            sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" } },
            destination: {
              bucket: replica.arn,
              storageClass: "STANDARD",
              encryptionConfiguration: { replicaKmsKeyId: key.arn },
            },
          },
        ],
      },
      { parent: this, dependsOn: [this.bucket.versioning, replica.versioning] },
    );
    if (args.database.instanceArn) {
      new aws.rds.InstanceAutomatedBackupsReplication(
        `${name}-rds`,
        {
          sourceDbInstanceArn: args.database.instanceArn,
          kmsKeyId: key.arn,
          retentionPeriod: args.database.backupRetentionDays ?? args.retentionDays,
          region,
        },
        { parent: this },
      );
    }
    return replica;
  }
}
