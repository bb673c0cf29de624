import * as aws from "@pulumi/aws";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { serviceTrustPolicy, webIdentityTrustPolicy } from "../../lib/iam";
import type { ServiceConnection } from "../../lib/connection";
import { containerSettings, ecsTaskRole, executionRole } from "../service/taskRoles";
import { SecureBucket } from "../storage/secureBucket";
import type { BackupSettings } from "./settings";
import { EncryptionKey } from "../security/encryptionKey";
import {
  BACKUP_SERVICE_ACCOUNT,
  BackupCronJobs,
  type BackupCronJobsArgs,
  cronSchedule,
} from "../kubernetes/backupJobs";
import { resources } from "../kubernetes/manifests";
import { parseHhmm } from "../../lib/time";
import { BACKUP_ENV, BACKUP_METRIC, DATABASE_DIMENSION, DUMP_PREFIX, metricsNamespace } from "../../lib/backupContract";

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
export interface BackupsCommonArgs extends Omit<BackupSettings, "rpoHours" | "maxRunMinutes" | "clientMajor"> {
  /**
   * Database to dump: its connection (PG* settings and credentials), its name, and the instance ARN
   * and automated backup retention for the copy of its automated backups in `drRegion`.
   */
  database: {
    connection: ServiceConnection;
    name: string;
    instanceArn?: pulumi.Input<string>;
    backupRetentionDays?: number;
  };
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
    /** The cluster's DNS pods and the database: the jobs' only destinations besides HTTPS. */
    egress: BackupCronJobsArgs["egress"];
  };
  cluster?: undefined;
  subnetIds?: undefined;
  securityGroupId?: undefined;
}

/** CPU units and MiB of one job run, on Fargate and (as limits) on Kubernetes. */
const JOB_CPU = 512;
const JOB_MEMORY = 1024;

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

  constructor(name: string, args: BackupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("opsbook:backup:Backups", name, {}, opts);

    this.logBucket = new SecureBucket(
      `${name}-access-logs`,
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
      { parent: this },
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
    // The job's own variables (lib/backupContract.ts); the database's come with its connection.
    const own = {
      [BACKUP_ENV.bucket]: this.bucket.name,
      [BACKUP_ENV.prefix]: BACKUP_PREFIX,
      [BACKUP_ENV.region]: args.region,
      [BACKUP_ENV.metricsNamespace]: metrics.namespace,
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
    const image = `${args.image}:${args.tag}`;
    const { role: execution } = executionRole(
      `${name}-execution`,
      {
        image: args.image,
        logGroupArn: logGroup.arn,
        connections: [args.database.connection],
        region: args.region,
        accountId: args.accountId,
      },
      this,
    );
    const task = ecsTaskRole(`${name}-task`, args.accountId, this);
    this.jobPolicy(name, task, args);

    const { environment, secrets } = containerSettings([args.database.connection], own);
    const taskDefinition = (job: "backup" | "restore-drill") =>
      new aws.ecs.TaskDefinition(
        `${name}-${job}`,
        {
          family: `opsbook-${name}-${job}`,
          cpu: String(JOB_CPU),
          memory: String(JOB_MEMORY),
          networkMode: "awsvpc",
          requiresCompatibilities: ["FARGATE"],
          runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
          executionRoleArn: execution.arn,
          taskRoleArn: task.arn,
          volumes: [{ name: "tmp" }],
          containerDefinitions: pulumi.jsonStringify([
            {
              name: job,
              image,
              essential: true,
              command: [job],
              environment,
              secrets,
              readonlyRootFilesystem: true,
              mountPoints: [{ sourceVolume: "tmp", containerPath: "/tmp", readOnly: false }],
              logConfiguration: {
                logDriver: "awslogs",
                options: {
                  "awslogs-group": logGroup.name,
                  "awslogs-region": args.region,
                  "awslogs-stream-prefix": job,
                },
              },
            },
          ]),
        },
        { parent: this },
      );
    const backupTask = taskDefinition("backup");
    const drillTask = taskDefinition("restore-drill");

    const schedulerRole = new aws.iam.Role(
      `${name}-scheduler`,
      {
        description: "Lets EventBridge Scheduler start the backup job and the restore drill",
        assumeRolePolicy: serviceTrustPolicy("scheduler.amazonaws.com", args.accountId),
      },
      { parent: this },
    );
    new aws.iam.RolePolicy(
      `${name}-scheduler`,
      {
        role: schedulerRole.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "RunJobs",
              Effect: "Allow",
              Action: "ecs:RunTask",
              Resource: [backupTask.arnWithoutRevision, drillTask.arnWithoutRevision].map(
                (arn) => pulumi.interpolate`${arn}:*`,
              ),
              Condition: { ArnEquals: { "ecs:cluster": args.cluster.arn } },
            },
            {
              Sid: "PassJobRoles",
              Effect: "Allow",
              Action: "iam:PassRole",
              Resource: [execution.arn, task.arn],
              Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
            },
          ],
        }),
      },
      { parent: this },
    );
    const schedule = (job: string, taskDefinitionArn: pulumi.Input<string>, expression: string, description: string) =>
      new aws.scheduler.Schedule(
        `${name}-${job}`,
        {
          description,
          scheduleExpression: expression,
          scheduleExpressionTimezone: args.timeZone,
          flexibleTimeWindow: { mode: "OFF" },
          target: {
            arn: args.cluster.arn,
            roleArn: schedulerRole.arn,
            ecsParameters: {
              taskDefinitionArn,
              launchType: "FARGATE",
              platformVersion: "LATEST",
              networkConfiguration: {
                subnets: args.subnetIds,
                securityGroups: [args.securityGroupId],
                assignPublicIp: false,
              },
            },
            retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 3600 },
          },
        },
        { parent: this },
      );
    const schedules = {
      backup: schedule(
        "backup",
        backupTask.arn,
        scheduleExpression(args.dailyAt),
        `Nightly pg_dump of ${args.database.name} at ${args.dailyAt} ${args.timeZone} (runbook: daily at 2 AM)`,
      ),
      drill: schedule(
        "restore-drill",
        drillTask.arn,
        scheduleExpression(args.restoreDrillAt, args.restoreDrillDay),
        `Weekly restore drill of the newest dump, ${args.restoreDrillDay} ${args.restoreDrillAt} ${args.timeZone}`,
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
        image: `${args.image}:${args.tag}`,
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
    const replica = new SecureBucket(
      `${name}-replica`,
      {
        purpose: `${name}-backups-dr`,
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
