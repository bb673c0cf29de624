/**
 * AWS errors in the steps before the update (R-deploy-pre-checks, R-deploy-backup-first,
 * R-deploy-migrations): each ends in an error that names the AWS call, the permission it needs,
 * what has changed so far, and the fix; never the generic "a bug in opsbook". The clients are the
 * real v3 clients with aws-sdk-client-mock rejecting each call as AWS does.
 */
import { CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import {
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListServiceDeploymentsCommand,
  RunTaskCommand,
} from "@aws-sdk/client-ecs";
import { CreateDBSnapshotCommand, DescribeDBSnapshotsCommand, RDSClient } from "@aws-sdk/client-rds";
import { mockClient } from "aws-sdk-client-mock";
import { awsCallError } from "../../ops/aws";
import { alarmsFiring, latestTaskDefinition, runMigration, takeSnapshot } from "../../ops/deploy/steps";
import type { MigrationFacts, StackFacts } from "../../ops/deploy/facts";
import { verify } from "../../ops/deploy/verify";
import { OpsError } from "../../ops/errors";

/** An error as the SDK throws it: `name` is the service's error code. */
const awsError = (name: string, message: string) => Object.assign(new Error(message), { name, $fault: "client" });
const denied = (action: string) =>
  awsError(
    "AccessDeniedException",
    `User: arn:aws:sts::123456789012:assumed-role/deploy/ci is not authorized to perform: ${action}`,
  );
const throttled = () => awsError("ThrottlingException", "Rate exceeded");

const rds = mockClient(RDSClient);
const ecs = mockClient(ECSClient);
const cloudwatch = mockClient(CloudWatchClient);
beforeEach(() => {
  rds.reset();
  ecs.reset();
  cloudwatch.reset();
});

const migration: MigrationFacts = {
  taskDefinitionArn: "arn:aws:ecs:eu-west-1:123456789012:task-definition/opsbook-production-api-migrate:7",
  family: "opsbook-production-api-migrate",
  taskDefinitionUrn: "urn:pulumi:production::opsbook::x",
  cluster: "opsbook-production",
  subnets: ["subnet-a"],
  securityGroups: ["sg-app"],
  launchType: "FARGATE",
  containerName: "app",
  logGroup: "/opsbook/opsbook-production-api",
  logStreamPrefix: "task",
};
const quiet = { sleep: () => Promise.resolve(), log: () => undefined };

async function failure(p: Promise<unknown>): Promise<OpsError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(OpsError);
    return e as OpsError;
  }
  throw new Error("expected the step to fail");
}

describe("each AWS call before the update names itself, its permission, what changed and the fix", () => {
  test("CloudWatch DescribeAlarms denied: nothing has changed yet", async () => {
    cloudwatch.on(DescribeAlarmsCommand).rejects(denied("cloudwatch:DescribeAlarms"));
    const e = await failure(alarmsFiring(cloudwatch as unknown as CloudWatchClient, ["a-critical"]));
    expect(e.message).toMatch(/^CloudWatch DescribeAlarms failed: AccessDeniedException: User: .* not authorized/);
    expect(e.hint).toMatch(/grant cloudwatch:DescribeAlarms to the credentials the command runs with/);
    expect(e.hint).toMatch(/nothing has changed yet/);
  });

  test("CloudWatch DescribeAlarms throttled: wait and run again", async () => {
    cloudwatch.on(DescribeAlarmsCommand).rejects(throttled());
    const e = await failure(alarmsFiring(new CloudWatchClient({ region: "eu-west-1" }), ["a-critical"]));
    expect(e.message).toMatch(/CloudWatch DescribeAlarms failed: ThrottlingException: Rate exceeded/);
    expect(e.hint).toMatch(/AWS throttled the call: wait a minute and run the command again; nothing has changed yet/);
  });

  test("RDS CreateDBSnapshot denied", async () => {
    rds.on(CreateDBSnapshotCommand).rejects(denied("rds:CreateDBSnapshot"));
    const e = await failure(
      takeSnapshot(new RDSClient({ region: "eu-west-1" }), { instance: "db", identifier: "snap", tags: {}, ...quiet }),
    );
    expect(e.message).toMatch(/^RDS CreateDBSnapshot of db failed: AccessDeniedException/);
    expect(e.hint).toMatch(/grant rds:CreateDBSnapshot and rds:AddTagsToResource/);
    expect(e.hint).toMatch(/nothing has changed yet/);
  });

  test("RDS DescribeDBSnapshots throttled while waiting: the snapshot was requested, nothing else changed", async () => {
    rds.on(CreateDBSnapshotCommand).resolves({});
    rds.on(DescribeDBSnapshotsCommand).rejects(throttled());
    const e = await failure(
      takeSnapshot(new RDSClient({ region: "eu-west-1" }), { instance: "db", identifier: "snap", tags: {}, ...quiet }),
    );
    expect(e.message).toMatch(/^RDS DescribeDBSnapshots of snap failed: ThrottlingException/);
    expect(e.hint).toMatch(/the snapshot snap was requested and may still be creating; nothing else has changed/);
    expect(e.hint).toMatch(/wait a minute/);
  });

  test("ECS DescribeTaskDefinition denied: the migration task definition is registered, the services unchanged", async () => {
    ecs.on(DescribeTaskDefinitionCommand).rejects(denied("ecs:DescribeTaskDefinition"));
    const e = await failure(latestTaskDefinition(new ECSClient({ region: "eu-west-1" }), migration.family, "1.4.2"));
    expect(e.message).toMatch(/^ECS DescribeTaskDefinition of opsbook-production-api-migrate failed: AccessDenied/);
    expect(e.hint).toMatch(/grant ecs:DescribeTaskDefinition/);
    expect(e.hint).toMatch(
      /the snapshot was taken and the migration task definition updated; the services still run the old version/,
    );
  });

  test("ECS RunTask denied: needs ecs:RunTask and iam:PassRole on the migration task's roles", async () => {
    ecs.on(RunTaskCommand).rejects(denied("ecs:RunTask"));
    const e = await failure(
      runMigration(new ECSClient({ region: "eu-west-1" }), migration, migration.taskDefinitionArn, {
        ...quiet,
        region: "eu-west-1",
      }),
    );
    expect(e.message).toMatch(/^ECS RunTask of opsbook-production-api-migrate:7 failed: AccessDeniedException/);
    expect(e.hint).toMatch(/grant ecs:RunTask on the task definition and iam:PassRole on its task and execution roles/);
    expect(e.hint).toMatch(/no migration ran; the services still run the old version/);
  });

  test("ECS DescribeTasks throttled: the migration task may still be running, and how to watch it", async () => {
    ecs.on(RunTaskCommand).resolves({
      tasks: [{ taskArn: "arn:aws:ecs:eu-west-1:123456789012:task/opsbook-production/0a1b" }],
      failures: [],
    });
    ecs.on(DescribeTasksCommand).rejects(throttled());
    const e = await failure(
      runMigration(new ECSClient({ region: "eu-west-1" }), migration, migration.taskDefinitionArn, {
        ...quiet,
        region: "eu-west-1",
      }),
    );
    expect(e.message).toMatch(/^ECS DescribeTasks of migration task 0a1b failed: ThrottlingException/);
    expect(e.hint).toMatch(
      /the migration task 0a1b was started and may still be running; the services still run the old version/,
    );
    expect(e.hint).toMatch(/aws ecs describe-tasks --cluster opsbook-production --tasks 0a1b --region eu-west-1/);
  });

  test.each([
    ["ExpiredToken", "The security token included in the request is expired"],
    ["ExpiredTokenException", "The security token included in the request is expired"],
    ["InvalidClientTokenId", "The security token included in the request is invalid."],
    ["UnrecognizedClientException", "The security token included in the request is invalid."],
  ])("%s: refresh the credentials, not a permission to grant", async (name, message) => {
    cloudwatch.on(DescribeAlarmsCommand).rejects(awsError(name, message));
    const e = await failure(alarmsFiring(new CloudWatchClient({ region: "eu-west-1" }), ["a-critical"]));
    expect(e.message).toBe(`CloudWatch DescribeAlarms failed: ${name}: ${message}`);
    expect(e.hint).toBe(
      "the AWS credentials are expired or not valid: refresh them (aws sso login, or the CI's role) or set AWS_PROFILE to a profile whose credentials are, and run the command again; nothing has changed yet (a deploy's watch that cannot read the alarms rolls back)",
    );
  });

  test("ECS ListServiceDeployments denied in the verify: names the call and its permission", async () => {
    ecs.on(ListServiceDeploymentsCommand).rejects(denied("ecs:ListServiceDeployments"));
    const facts: StackFacts = {
      region: "eu-west-1",
      clusterName: "opsbook-production",
      services: {
        api: {
          serviceName: "opsbook-production-api",
          taskDefinitionArn: migration.taskDefinitionArn,
          taskDefinitionFamily: "opsbook-production-api",
        },
      },
      criticalAlarmNames: [],
      databaseIdentifier: "db",
      notifyTopicArn: "arn:aws:sns:eu-west-1:123456789012:t",
      smokeChecks: {},
    };
    const e = await failure(
      verify({
        ecs: new ECSClient({ region: "eu-west-1" }),
        fetch: () => Promise.resolve({ status: 200 }),
        ...quiet,
        facts,
        changed: ["api"],
        since: new Date("2026-11-10T11:00:00Z"),
      }),
    );
    expect(e.message).toMatch(
      /^ECS ListServiceDeployments of opsbook-production-api failed: AccessDeniedException: User: .* not authorized/,
    );
    expect(e.hint).toBe(
      'grant ecs:ListServiceDeployments to the credentials the command runs with (README "Permissions the commands need"), or run it with credentials that have it; the update is applied and its checks did not finish',
    );
  });

  test("any other AWS error names the call and its permission too", () => {
    const e = awsCallError(awsError("InvalidParameterException", "bad"), {
      call: "ECS RunTask",
      permission: "ecs:RunTask",
      changed: "nothing has changed yet",
    });
    expect(e.message).toBe("ECS RunTask failed: InvalidParameterException: bad");
    expect(e.hint).toMatch(/ecs:RunTask/);
    expect(e.hint).toMatch(/nothing has changed yet/);
  });
});
