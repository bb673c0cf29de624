/**
 * The AWS steps of a deploy (runbooks 001, 002, 004): the alarm check, the snapshot before the
 * migrations, the migration task, and the notices. Each takes its clients, clock and sleep as
 * arguments, so the tests drive them through aws-sdk-client-mock with no waiting.
 */
import { DescribeAlarmsCommand, type CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import {
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  RunTaskCommand,
  type ECSClient,
} from "@aws-sdk/client-ecs";
import { CreateDBSnapshotCommand, DescribeDBSnapshotsCommand, type RDSClient } from "@aws-sdk/client-rds";
import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import { awsCall, awsCallError, awsMessage } from "../aws";
import { OpsError } from "../errors";
import type { MigrationFacts } from "./facts";

export type Sleep = (ms: number) => Promise<void>;

/**
 * How long a rollout may take to end after `pulumi up` returned (an ECS deployment still
 * IN_PROGRESS, a Deployment still progressing) before the verify calls it stuck.
 */
export const SETTLE_MINUTES = 10;

/** The tag ECS records on the migration task, so `aws ecs list-tasks --started-by opsbook-deploy` finds it. */
const STARTED_BY = "opsbook-deploy";

/** Names of the alarms among `names` in ALARM now (DescribeAlarms takes at most 100 names a call). */
export async function alarmsFiring(cloudwatch: CloudWatchClient, names: readonly string[]): Promise<string[]> {
  const firing: string[] = [];
  for (let i = 0; i < names.length; i += 100) {
    let token: string | undefined;
    do {
      // Before the deploy nothing has changed; during the watch a failed read rolls back.
      const page = await awsCall(
        () =>
          cloudwatch.send(
            new DescribeAlarmsCommand({
              AlarmNames: names.slice(i, i + 100),
              AlarmTypes: ["MetricAlarm", "CompositeAlarm"],
              StateValue: "ALARM",
              ...(token ? { NextToken: token } : {}),
            }),
          ),
        {
          call: "CloudWatch DescribeAlarms",
          permission: "cloudwatch:DescribeAlarms",
          changed: "nothing has changed yet (a deploy's watch that cannot read the alarms rolls back)",
        },
      );
      for (const a of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])])
        if (a.AlarmName) firing.push(a.AlarmName);
      token = page.NextToken;
    } while (token);
  }
  return firing;
}

/**
 * A DB snapshot identifier for a deploy (R-deploy-backup-first): RDS allows letters, digits and
 * hyphens, a letter first, at most 255 characters, no two hyphens in a row and none at the end.
 */
export function snapshotIdentifier(stack: string, at: Date, commit: string): string {
  const stamp = at
    .toISOString()
    .replace(/\.\d+Z$/, "")
    .replace(/[-:]/g, "")
    .replace("T", "-");
  const raw = `opsbook-${stack}-deploy-${stamp}-${commit.slice(0, 12)}`;
  const id = raw
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .replace(/-{2,}/g, "-")
    .slice(0, 255)
    .replace(/-+$/, "");
  return /^[a-z]/.test(id) ? id : `s${id}`.slice(0, 255);
}

/** RDS tag values allow letters, digits, spaces and `_.:/=+-@`; at most 256 characters. */
export const tagValue = (v: string): string => v.replace(/[^\p{L}\p{N}\s_.:/=+\-@]/gu, " ").slice(0, 256);

/** Takes a manual snapshot of the instance and waits until it is `available`. */
export async function takeSnapshot(
  rds: RDSClient,
  o: {
    instance: string;
    identifier: string;
    tags: Record<string, string>;
    sleep: Sleep;
    log: (s: string) => void;
    pollSeconds?: number;
    timeoutMinutes?: number;
  },
): Promise<{ identifier: string; arn?: string }> {
  try {
    await rds.send(
      new CreateDBSnapshotCommand({
        DBInstanceIdentifier: o.instance,
        DBSnapshotIdentifier: o.identifier,
        Tags: Object.entries(o.tags).map(([Key, Value]) => ({ Key, Value: tagValue(Value) })),
      }),
    );
  } catch (e) {
    throw awsCallError(e, {
      call: `RDS CreateDBSnapshot of ${o.instance}`,
      permission: "rds:CreateDBSnapshot and rds:AddTagsToResource",
      changed: "nothing has changed yet",
      otherwise: "check that the instance is available (no snapshot or backup running)",
    });
  }
  const poll = (o.pollSeconds ?? 15) * 1000;
  const deadline = ((o.timeoutMinutes ?? 60) * 60_000) / poll;
  for (let i = 0; i <= deadline; i++) {
    const page = await awsCall(() => rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: o.identifier })), {
      call: `RDS DescribeDBSnapshots of ${o.identifier}`,
      permission: "rds:DescribeDBSnapshots",
      changed: `the snapshot ${o.identifier} was requested and may still be creating; nothing else has changed`,
    });
    const snap = page.DBSnapshots?.[0];
    const status = snap?.Status ?? "unknown";
    if (status === "available")
      return { identifier: o.identifier, ...(snap?.DBSnapshotArn ? { arn: snap.DBSnapshotArn } : {}) };
    if (status === "failed" || status === "deleted" || status === "deleting") {
      throw new OpsError(
        `snapshot ${o.identifier} ended ${status}`,
        "see the RDS events of the instance; deploy again once a manual snapshot succeeds",
      );
    }
    o.log(
      `snapshot ${o.identifier}: ${status}${snap?.PercentProgress !== undefined ? ` (${snap.PercentProgress} %)` : ""}`,
    );
    await o.sleep(poll);
  }
  throw new OpsError(
    `snapshot ${o.identifier} was not available after ${o.timeoutMinutes ?? 60} min`,
    "wait for it in the RDS console, then deploy again; nothing else changed",
  );
}

/** The newest ACTIVE revision of the family: what the targeted `up` just registered. */
export async function latestTaskDefinition(ecs: ECSClient, family: string, tag?: string): Promise<string> {
  const out = await awsCall(() => ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: family })), {
    call: `ECS DescribeTaskDefinition of ${family}`,
    permission: "ecs:DescribeTaskDefinition",
    changed: "the snapshot was taken and the migration task definition updated; the services still run the old version",
  });
  const td = out.taskDefinition;
  if (!td?.taskDefinitionArn)
    throw new OpsError(`ECS has no task definition ${family}`, "run a plain `pulumi up` once");
  if (tag !== undefined && !td.containerDefinitions?.some((c) => c.image?.endsWith(`:${tag}`))) {
    throw new OpsError(
      `the newest ${family} (${td.taskDefinitionArn}) does not run tag ${tag}`,
      "the targeted update did not register the new migration task definition; read Pulumi's output above",
    );
  }
  return td.taskDefinitionArn;
}

export interface MigrationResult {
  taskArn: string;
  exitCode: number;
}

/**
 * Runs the migration task with the services' network settings and waits until it stops; anything
 * but exit code 0 from the migration container fails (R-deploy-migrations).
 */
export async function runMigration(
  ecs: ECSClient,
  m: MigrationFacts,
  taskDefinitionArn: string,
  o: { sleep: Sleep; log: (s: string) => void; pollSeconds?: number; timeoutMinutes?: number; region: string },
): Promise<MigrationResult> {
  const revision = taskDefinitionArn.split("/").pop()!;
  const started = await awsCall(
    () =>
      ecs.send(
        new RunTaskCommand({
          cluster: m.cluster,
          taskDefinition: taskDefinitionArn,
          launchType: m.launchType,
          count: 1,
          startedBy: STARTED_BY,
          networkConfiguration: {
            awsvpcConfiguration: { subnets: m.subnets, securityGroups: m.securityGroups, assignPublicIp: "DISABLED" },
          },
        }),
      ),
    {
      call: `ECS RunTask of ${revision}`,
      permission: "ecs:RunTask on the task definition and iam:PassRole on its task and execution roles",
      changed:
        "the snapshot was taken and the migration task definition updated; no migration ran; the services still run the old version",
    },
  );
  const taskArn = started.tasks?.[0]?.taskArn;
  if (!taskArn) {
    const why = (started.failures ?? []).map((f) => `${f.arn ?? ""} ${f.reason ?? ""} ${f.detail ?? ""}`.trim());
    throw new OpsError(
      `ECS did not start the migration task: ${why.join("; ") || "no task and no failure returned"}`,
      "the services still run the old version; fix the cause and deploy again",
    );
  }
  const taskId = taskArn.split("/").pop()!;
  const logs = `aws logs tail ${m.logGroup} --log-stream-names ${m.logStreamPrefix}/${m.containerName}/${taskId} --region ${o.region}`;
  const poll = (o.pollSeconds ?? 10) * 1000;
  const limit = ((o.timeoutMinutes ?? 60) * 60_000) / poll;
  for (let i = 0; i <= limit; i++) {
    const out = await awsCall(() => ecs.send(new DescribeTasksCommand({ cluster: m.cluster, tasks: [taskArn] })), {
      call: `ECS DescribeTasks of migration task ${taskId}`,
      permission: "ecs:DescribeTasks",
      changed: `the migration task ${taskId} was started and may still be running; the services still run the old version. Check it: aws ecs describe-tasks --cluster ${m.cluster} --tasks ${taskId} --region ${o.region}`,
    });
    const task = out.tasks?.[0];
    if (task?.lastStatus === "STOPPED") {
      const container = task.containers?.find((c) => c.name === m.containerName);
      const code = container?.exitCode;
      if (code === 0) return { taskArn, exitCode: 0 };
      throw new OpsError(
        `the migration task ${taskId} stopped ${code === undefined ? "without an exit code" : `with exit code ${code}`}: ${[task.stoppedReason, container?.reason].filter(Boolean).join("; ") || "no reason given"}`,
        `the services still run the old version; read the migration's output: ${logs}`,
      );
    }
    o.log(`migration task ${taskId}: ${task?.lastStatus ?? "unknown"}`);
    await o.sleep(poll);
  }
  throw new OpsError(
    `the migration task ${taskId} did not stop within ${o.timeoutMinutes ?? 60} min`,
    `it is still running; the services still run the old version. Watch it: ${logs}`,
  );
}

/** Posts a release notice (R-deploy-notify); a notice that fails is reported, never fatal. */
export async function notify(
  sns: SNSClient,
  topicArn: string,
  subject: string,
  lines: Record<string, string>,
  warn: (s: string) => void,
): Promise<boolean> {
  // SNS subjects: ASCII, no line breaks, at most 100 characters.
  const safeSubject = subject.replace(/[^\x20-\x7e]/g, " ").slice(0, 100);
  const message = Object.entries(lines)
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n");
  try {
    await sns.send(new PublishCommand({ TopicArn: topicArn, Subject: safeSubject, Message: message }));
    return true;
  } catch (e) {
    warn(`could not post the notice "${safeSubject}" to ${topicArn}: ${awsMessage(e)}`);
    return false;
  }
}
