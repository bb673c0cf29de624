import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { webIdentityTrustPolicy } from "../../lib/iam";
import { parseHhmm } from "../../lib/time";
import type { ServiceConnection } from "../../lib/connection";
import { BACKUP_ENV, MAINTENANCE_COMMANDS, type MaintenanceTask } from "../../lib/backupContract";
import {
  containerSettings,
  ecsTaskRole,
  executionRole,
  jobTaskDefinitionArgs,
  type PullRepository,
} from "../service/taskRoles";
import { backupCronJobSpec, cronSchedule, IRSA_ROLE_ANNOTATION } from "../kubernetes/backupJobs";
import { connectionSecret } from "../kubernetes/secrets";
import { resources } from "../kubernetes/manifests";
import { scheduleExpression } from "./backups";
import { fargateSchedule, schedulerRole } from "./schedules";
import type { DatabaseMaintenanceSettings } from "./settings";

/** Name of the maintenance jobs' service account on Kubernetes, which its IAM role trusts. */
const MAINTENANCE_SERVICE_ACCOUNT = "opsbook-db-maintenance";

/** CPU units and MiB of one run: psql waits on the server, which does the work. */
const JOB_CPU = 256;
const JOB_MEMORY = 512;

/** Longest a run may take on Kubernetes (the Job's deadline); VACUUM of a large database takes hours. */
const MAX_RUN_MINUTES = 360;

/**
 * The maintenance job's settings (`opsbook:databaseMaintenance`, ./settings.ts) and its wiring:
 * the maintenance role's connection, the backup metrics' namespace, where it runs.
 */
export interface DatabaseMaintenanceArgs extends Omit<DatabaseMaintenanceSettings, "enabled"> {
  /** The maintenance role's connection as PG* settings and ECS secrets (R-db-roles). */
  connection: ServiceConnection;
  /** `postgres.databaseName`: the metrics' `Database` dimension. */
  databaseName: string;
  /** The backup metrics' namespace (`backupMetrics(stack).namespace`): one sink for both jobs. */
  metricsNamespace: string;
  /** The backup job's image (repository without its tag, tag, and the stack repository it is pulled from), which has the maintenance commands. */
  image: { repository: pulumi.Input<string>; tag: string; pullFrom?: PullRepository };
  /** IANA zone of the schedules. */
  timeZone: string;
  logRetentionDays: number;
  logKmsKeyArn: pulumi.Input<string>;
  region: string;
  accountId: pulumi.Input<string>;
  /** ECS: the cluster, private subnets and the app security group (which the database admits). */
  ecs?: { clusterArn: pulumi.Input<string>; subnetIds: pulumi.Input<string>[]; securityGroupId: pulumi.Input<string> };
  /** Kubernetes: CronJobs in the services' namespace, carrying the backup job's label for its egress policy. */
  kubernetes?: {
    provider: k8s.Provider;
    namespace: pulumi.Input<string>;
    commonLabels: Record<string, string>;
    oidcProviderArn: string;
    requestPercentOfLimits: number;
  };
}

/** "06:30" on the `day`th of every month -> an EventBridge Scheduler cron expression. */
function monthlyScheduleExpression(at: string, day: number): string {
  const minutes = parseHhmm(at);
  return `cron(${minutes % 60} ${Math.floor(minutes / 60)} ${day} * ? *)`;
}

/** "06:30" on the `day`th of every month -> a CronJob schedule, "30 6 1 * *". */
function monthlyCronSchedule(at: string, day: number): string {
  const minutes = parseHhmm(at);
  return `${minutes % 60} ${Math.floor(minutes / 60)} ${day} * *`;
}

/**
 * Database maintenance on a schedule (R-db-maintenance): the weekly ANALYZE and the monthly VACUUM
 * (ANALYZE) of runbook 001, each followed by the slow-statement report, as Fargate tasks that
 * EventBridge Scheduler starts in the stack's time zone, or as CronJobs on Kubernetes. Same
 * pattern as the backup: its own database role, task role (publish in the backup metrics'
 * namespace only), execution role (the maintenance role's secret only) and KMS-encrypted log
 * group. Cost: two Fargate runs of minutes a month and one log group; no NAT traffic beyond
 * CloudWatch.
 */
export class DatabaseMaintenance extends pulumi.ComponentResource {
  readonly taskDefinitions?: Record<MaintenanceTask, aws.ecs.TaskDefinition>;
  readonly schedules?: Record<MaintenanceTask, aws.scheduler.Schedule>;
  readonly cronJobs?: Record<MaintenanceTask, k8s.batch.v1.CronJob>;
  readonly logGroup?: aws.cloudwatch.LogGroup;
  /** The role the job's AWS calls run as: the ECS task role, or the service account's. */
  readonly role: aws.iam.Role;

  constructor(name: string, args: DatabaseMaintenanceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("opsbook:backup:DatabaseMaintenance", name, {}, opts);
    const own: Record<string, pulumi.Input<string>> = {
      [BACKUP_ENV.region]: args.region,
      [BACKUP_ENV.metricsNamespace]: args.metricsNamespace,
      [BACKUP_ENV.maintenanceSlowStatements]: String(args.slowStatements),
    };
    if (args.kubernetes) {
      const k = args.kubernetes;
      this.role = new aws.iam.Role(
        `${name}-db-maintenance-task`,
        {
          description: "The database maintenance job's pods, through its service account",
          assumeRolePolicy: webIdentityTrustPolicy(k.oidcProviderArn, k.namespace, MAINTENANCE_SERVICE_ACCOUNT),
        },
        { parent: this },
      );
      this.publishPolicy(name, args);
      this.cronJobs = this.onKubernetes(name, args, k, own);
    } else if (args.ecs) {
      this.role = ecsTaskRole(`${name}-db-maintenance-task`, args.accountId, this);
      this.publishPolicy(name, args);
      ({
        logGroup: this.logGroup,
        taskDefinitions: this.taskDefinitions,
        schedules: this.schedules,
      } = this.onEcs(name, args, args.ecs, own));
    } else {
      throw new pulumi.ResourceError("DatabaseMaintenance needs `ecs` or `kubernetes`", this);
    }
    this.registerOutputs({});
  }

  /** The job calls one AWS API: PutMetricData, in the backup metrics' namespace (R-security-least-privilege). */
  private publishPolicy(name: string, args: DatabaseMaintenanceArgs): void {
    new aws.iam.RolePolicy(
      `${name}-db-maintenance-task`,
      {
        role: this.role.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "PublishMaintenanceMetrics",
              Effect: "Allow",
              Action: "cloudwatch:PutMetricData",
              Resource: "*",
              Condition: { StringEquals: { "cloudwatch:namespace": args.metricsNamespace } },
            },
          ],
        }),
      },
      { parent: this },
    );
  }

  private schedules_(args: DatabaseMaintenanceArgs) {
    return {
      analyze: {
        ecs: scheduleExpression(args.analyzeAt, args.analyzeDay),
        k8s: cronSchedule(args.analyzeAt, args.analyzeDay),
        description: `Weekly ANALYZE of ${args.databaseName} and its slowest statements, ${args.analyzeDay} ${args.analyzeAt} ${args.timeZone} (runbook: ANALYZE weekly, review slow queries)`,
      },
      vacuum: {
        ecs: monthlyScheduleExpression(args.vacuumAt, args.vacuumDayOfMonth),
        k8s: monthlyCronSchedule(args.vacuumAt, args.vacuumDayOfMonth),
        description: `Monthly VACUUM (ANALYZE) of ${args.databaseName}, day ${args.vacuumDayOfMonth} ${args.vacuumAt} ${args.timeZone} (runbook: VACUUM monthly)`,
      },
    } satisfies Record<MaintenanceTask, { ecs: string; k8s: string; description: string }>;
  }

  private onEcs(
    name: string,
    args: DatabaseMaintenanceArgs,
    ecs: NonNullable<DatabaseMaintenanceArgs["ecs"]>,
    own: Record<string, pulumi.Input<string>>,
  ) {
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-db-maintenance`,
      {
        name: `/opsbook/${name}/db-maintenance`,
        retentionInDays: args.logRetentionDays,
        kmsKeyId: args.logKmsKeyArn,
      },
      { parent: this },
    );
    // Reads the maintenance role's secret only.
    const execution = executionRole(
      `${name}-db-maintenance-execution`,
      {
        image: args.image.repository,
        repository: args.image.pullFrom,
        logGroupArn: logGroup.arn,
        connections: [args.connection],
        region: args.region,
        accountId: args.accountId,
      },
      this,
    );
    const settings = containerSettings([args.connection], own);
    const taskDefinition = (task: MaintenanceTask) => {
      const command = MAINTENANCE_COMMANDS[task];
      return new aws.ecs.TaskDefinition(
        `${name}-${command}`,
        jobTaskDefinitionArgs({
          family: `opsbook-${name}-${command}`,
          command,
          image: pulumi.interpolate`${args.image.repository}:${args.image.tag}`,
          cpu: JOB_CPU,
          memory: JOB_MEMORY,
          executionRoleArn: execution.role.arn,
          taskRoleArn: this.role.arn,
          settings,
          logGroupName: logGroup.name,
          region: args.region,
        }),
        { parent: this, dependsOn: [execution.policy] },
      );
    };
    const taskDefinitions = { analyze: taskDefinition("analyze"), vacuum: taskDefinition("vacuum") };

    const role = schedulerRole(
      `${name}-db-maintenance-scheduler`,
      {
        description: "Lets EventBridge Scheduler start the database maintenance tasks",
        accountId: args.accountId,
        clusterArn: ecs.clusterArn,
        taskFamilies: Object.values(taskDefinitions).map((td) => td.arnWithoutRevision),
        passRoles: [execution.role.arn, this.role.arn],
        sids: { run: "RunMaintenance", pass: "PassMaintenanceRoles" },
      },
      { parent: this },
    );
    const when = this.schedules_(args);
    const schedule = (task: MaintenanceTask) =>
      fargateSchedule(
        `${name}-${MAINTENANCE_COMMANDS[task]}`,
        {
          description: when[task].description,
          expression: when[task].ecs,
          timeZone: args.timeZone,
          clusterArn: ecs.clusterArn,
          roleArn: role.arn,
          taskDefinitionArn: taskDefinitions[task].arn,
          subnetIds: ecs.subnetIds,
          securityGroupId: ecs.securityGroupId,
        },
        { parent: this },
      );
    return { logGroup, taskDefinitions, schedules: { analyze: schedule("analyze"), vacuum: schedule("vacuum") } };
  }

  /**
   * The tasks as CronJobs like the backup's: a service account annotated with the job's role, a
   * Secret with the maintenance role's credentials, and the backup job's name label, so its
   * egress policy (DNS, PostgreSQL, HTTPS) applies to these pods too.
   */
  private onKubernetes(
    name: string,
    args: DatabaseMaintenanceArgs,
    k: NonNullable<DatabaseMaintenanceArgs["kubernetes"]>,
    own: Record<string, pulumi.Input<string>>,
  ): Record<MaintenanceTask, k8s.batch.v1.CronJob> {
    const child = { parent: this, provider: k.provider };
    const labels = { ...k.commonLabels, "app.kubernetes.io/name": "opsbook-backup" };
    const metadata = (objectName: string) => ({ name: objectName, namespace: k.namespace, labels });
    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-db-maintenance`,
      {
        metadata: {
          ...metadata(MAINTENANCE_SERVICE_ACCOUNT),
          annotations: { [IRSA_ROLE_ANNOTATION]: this.role.arn },
        },
        automountServiceAccountToken: false,
      },
      child,
    );
    const { secret, keys } = connectionSecret(
      `${name}-db-maintenance-env`,
      metadata(`${MAINTENANCE_SERVICE_ACCOUNT}-env`),
      [args.connection],
      child,
    );
    const environment = { ...args.connection.environment, ...own };
    const when = this.schedules_(args);
    const cronJob = (task: MaintenanceTask) => {
      const command = MAINTENANCE_COMMANDS[task];
      return new k8s.batch.v1.CronJob(
        `${name}-${command}`,
        {
          metadata: metadata(`opsbook-${command}`),
          spec: backupCronJobSpec({
            job: command,
            schedule: when[task].k8s,
            timeZone: args.timeZone,
            image: pulumi.interpolate`${args.image.repository}:${args.image.tag}`,
            labels: { ...labels, "app.kubernetes.io/component": command },
            serviceAccountName: serviceAccount.metadata.name,
            environment,
            secrets: [{ name: secret.metadata.name, keys }],
            maxRunMinutes: MAX_RUN_MINUTES,
            resources: resources(JOB_CPU, JOB_MEMORY, k.requestPercentOfLimits),
          }),
        },
        child,
      );
    };
    return { analyze: cronJob("analyze"), vacuum: cronJob("vacuum") };
  }
}
