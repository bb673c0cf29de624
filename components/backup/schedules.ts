/**
 * Scheduled Fargate tasks through EventBridge Scheduler, as the backup job, the restore drill and
 * the database maintenance run: the role the scheduler assumes (it may start only the given task
 * definitions, in the given cluster, and pass only their roles to ECS), and one schedule per task
 * in the stack's time zone, with the jobs' retry policy.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { JOB_RETRY } from "../../lib/backupContract";
import { serviceTrustPolicy } from "../../lib/iam";

export interface SchedulerRoleArgs {
  description: string;
  accountId: pulumi.Input<string>;
  clusterArn: pulumi.Input<string>;
  /** The task definitions' ARNs without revision: any revision of them may run. */
  taskFamilies: pulumi.Input<string>[];
  /** The execution and task roles of those task definitions. */
  passRoles: pulumi.Input<string>[];
  /** The statements' ids: running the tasks, passing their roles. */
  sids: { run: string; pass: string };
}

/** The role EventBridge Scheduler assumes to start the tasks, and its inline policy (both named `name`). */
export function schedulerRole(name: string, a: SchedulerRoleArgs, opts: pulumi.CustomResourceOptions): aws.iam.Role {
  const role = new aws.iam.Role(
    name,
    {
      description: a.description,
      assumeRolePolicy: serviceTrustPolicy("scheduler.amazonaws.com", a.accountId),
    },
    opts,
  );
  new aws.iam.RolePolicy(
    name,
    {
      role: role.id,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: a.sids.run,
            Effect: "Allow",
            Action: "ecs:RunTask",
            Resource: a.taskFamilies.map((arn) => pulumi.interpolate`${arn}:*`),
            Condition: { ArnEquals: { "ecs:cluster": a.clusterArn } },
          },
          {
            Sid: a.sids.pass,
            Effect: "Allow",
            Action: "iam:PassRole",
            Resource: a.passRoles,
            Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
          },
        ],
      }),
    },
    opts,
  );
  return role;
}

export interface FargateScheduleArgs {
  description: string;
  /** `cron(...)` or `rate(...)`, in `timeZone`. */
  expression: string;
  timeZone: string;
  clusterArn: pulumi.Input<string>;
  roleArn: pulumi.Input<string>;
  taskDefinitionArn: pulumi.Input<string>;
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  securityGroupId: pulumi.Input<string>;
}

/** A schedule that starts one Fargate task in private subnets, retried as every job is (JOB_RETRY). */
export function fargateSchedule(
  name: string,
  a: FargateScheduleArgs,
  opts: pulumi.CustomResourceOptions,
): aws.scheduler.Schedule {
  return new aws.scheduler.Schedule(
    name,
    {
      description: a.description,
      scheduleExpression: a.expression,
      scheduleExpressionTimezone: a.timeZone,
      flexibleTimeWindow: { mode: "OFF" },
      target: {
        arn: a.clusterArn,
        roleArn: a.roleArn,
        ecsParameters: {
          taskDefinitionArn: a.taskDefinitionArn,
          launchType: "FARGATE",
          platformVersion: "LATEST",
          networkConfiguration: {
            subnets: a.subnetIds,
            securityGroups: [a.securityGroupId],
            assignPublicIp: false,
          },
        },
        retryPolicy: {
          maximumRetryAttempts: JOB_RETRY.attempts,
          maximumEventAgeInSeconds: JOB_RETRY.maxAgeSeconds,
        },
      },
    },
    opts,
  );
}
