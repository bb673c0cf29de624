/**
 * The database maintenance tasks (R-db-maintenance) in the shipped stacks: ECS on staging, CronJobs
 * on staging-k8s, each read by the job's own parser and watched by alarms on what the job's own
 * publisher sends.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CloudWatchClient, PutMetricDataCommandInput } from "@aws-sdk/client-cloudwatch";
import type * as k8s from "@pulumi/kubernetes";
import { loadMaintenanceConfig } from "../../jobs/backup/src/config";
import { maintenanceMetrics } from "../../jobs/backup/src/maintenance";
import { cloudWatchPublisher } from "../../jobs/backup/src/metrics";
import { parseConfig, type ConfigError } from "../../stacks/config";
import { containersOf, idOf, ofType, one, policyOf, type RecordedResource } from "../helpers/mocks";
import { type Plan, planStack, stackFileConfig } from "../helpers/stack";
import { buildPlan, REPO_ROOT } from "../../tools/plan/plan";
import { buildPlatform, stackOutputs } from "../../stacks/platform";
import { loadConfig } from "../../stacks/config";
import { containerEnv } from "../helpers/backupContract";

const TD = "aws:ecs/taskDefinition:TaskDefinition";
const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";

/** What the job publishes for `database` into `namespace`: a failed and a successful run of each task. */
async function published(namespace: string, database: string) {
  const sent: PutMetricDataCommandInput[] = [];
  const client = { send: (c: { input: PutMetricDataCommandInput }) => Promise.resolve(void sent.push(c.input)) };
  const publisher = cloudWatchPublisher(client as unknown as CloudWatchClient, namespace);
  for (const task of ["analyze", "vacuum"] as const) {
    await publisher.publish(database, maintenanceMetrics(task, undefined), new Date(0));
    await publisher.publish(database, maintenanceMetrics(task, new Date(0)), new Date(0));
  }
  return sent.flatMap((input) =>
    (input.MetricData ?? []).map((d) => ({
      namespace: input.Namespace,
      metricName: d.MetricName,
      dimensions: Object.fromEntries(
        (d.Dimensions ?? []).map((x): [string, string] => [String(x.Name), String(x.Value)]),
      ),
    })),
  );
}

describe("staging (ECS)", () => {
  let plan: Plan;
  beforeAll(async () => {
    plan = await planStack("staging");
  }, 120_000);

  const container = (command: string) => containersOf(one(plan.resources, TD, `staging-${command}`))[0]!;

  test("two Fargate tasks run the image's maintenance commands as the maintenance role, with a read-only root", () => {
    for (const command of ["maintenance-analyze", "maintenance-vacuum"]) {
      const c = container(command);
      expect(c).toMatchObject({
        name: command,
        image: containersOf(one(plan.resources, TD, "staging-backup"))[0]!.image,
        command: [command],
        readonlyRootFilesystem: true,
        logConfiguration: {
          logDriver: "awslogs",
          options: {
            "awslogs-group": "/opsbook/staging/db-maintenance",
            "awslogs-region": "eu-west-1",
            "awslogs-stream-prefix": command,
          },
        },
      });
      expect(c.environment).toEqual([
        { name: "PGHOST", value: "opsbook-staging.mock.eu-west-1.rds.amazonaws.com" },
        { name: "PGPORT", value: "5432" },
        { name: "PGDATABASE", value: "app" },
        { name: "PGSSLMODE", value: "verify-full" },
        { name: "AWS_REGION", value: "eu-west-1" },
        { name: "METRICS_NAMESPACE", value: "Opsbook/Backup/staging" },
        { name: "MAINTENANCE_SLOW_STATEMENTS", value: "10" },
      ]);
      expect(c.secrets.map((s) => [s.name, s.valueFrom.replace(/^.*:secret:/, "")])).toEqual([
        ["PGUSER", expect.stringMatching(/^staging-db-role-maintenance.*:username::$/)],
        ["PGPASSWORD", expect.stringMatching(/^staging-db-role-maintenance.*:password::$/)],
      ]);
      // The job's own parser accepts what the task definition sets.
      expect(loadMaintenanceConfig(containerEnv(c))).toMatchObject({
        postgres: { host: "opsbook-staging.mock.eu-west-1.rds.amazonaws.com", database: "app", sslMode: "verify-full" },
        metrics: { enabled: true, namespace: "Opsbook/Backup/staging" },
        slowStatements: 10,
      });
    }
  });

  test("EventBridge Scheduler starts ANALYZE weekly and VACUUM monthly in London time, outside the backup and RDS windows", () => {
    expect(one(plan.resources, "aws:scheduler/schedule:Schedule", "staging-maintenance-analyze").inputs).toMatchObject({
      scheduleExpression: "cron(30 6 ? * SUN *)",
      scheduleExpressionTimezone: "Europe/London",
      flexibleTimeWindow: { mode: "OFF" },
      target: { retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 3600 } },
    });
    expect(one(plan.resources, "aws:scheduler/schedule:Schedule", "staging-maintenance-vacuum").inputs).toMatchObject({
      scheduleExpression: "cron(30 7 1 * ? *)",
      scheduleExpressionTimezone: "Europe/London",
      flexibleTimeWindow: { mode: "OFF" },
      target: { retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 3600 } },
    });
    // Each schedule starts its own task, in the private subnets with the app group the database admits.
    const app = one(plan.resources, "aws:ec2/securityGroup:SecurityGroup", "staging-app");
    const privateSubnets = ofType(plan.resources, "aws:ec2/subnet:Subnet")
      .filter((s) => s.name.startsWith("staging-private-"))
      .map((s) => idOf(s));
    for (const task of ["analyze", "vacuum"]) {
      const target = one(plan.resources, "aws:scheduler/schedule:Schedule", `staging-maintenance-${task}`).inputs
        .target as { ecsParameters: Record<string, unknown>; roleArn: string };
      expect(target.ecsParameters).toEqual({
        launchType: "FARGATE",
        platformVersion: "LATEST",
        taskDefinitionArn: `arn:aws:ecs:eu-west-1:123456789012:taskdefinition/staging-maintenance-${task}`,
        networkConfiguration: { assignPublicIp: false, securityGroups: [idOf(app)], subnets: privateSubnets },
      });
      expect(target.roleArn).toBe("arn:aws:iam::123456789012:role/staging-db-maintenance-scheduler");
    }
  });

  test("its log group is KMS-encrypted with the logs key and kept as long as the backup job's, the stack's retention", () => {
    const logs = (name: string) => one(plan.resources, "aws:cloudwatch/logGroup:LogGroup", name).inputs;
    const expected = {
      retentionInDays: stackFileConfig("staging").logRetentionDays,
      kmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/logs-key",
    };
    expect(logs("staging-db-maintenance")).toEqual({ name: "/opsbook/staging/db-maintenance", ...expected });
    expect(logs("staging-jobs")).toEqual({ name: "/opsbook/staging/backup-jobs", ...expected });
  });

  test("its roles: the task may only publish in the backup namespace; the execution role reads only the maintenance secret", () => {
    expect(
      policyOf(one(plan.resources, "aws:iam/rolePolicy:RolePolicy", "staging-db-maintenance-task")).Statement,
    ).toEqual([
      {
        Sid: "PublishMaintenanceMetrics",
        Effect: "Allow",
        Action: "cloudwatch:PutMetricData",
        Resource: "*",
        Condition: { StringEquals: { "cloudwatch:namespace": "Opsbook/Backup/staging" } },
      },
    ]);
    const execution = policyOf(
      one(plan.resources, "aws:iam/rolePolicy:RolePolicy", "staging-db-maintenance-execution"),
    );
    const secrets = execution.Statement.filter((s) => String(s.Action).includes("secretsmanager"));
    expect(secrets.flatMap((s) => [s.Resource].flat().map((r) => String(r).replace(/^.*:secret:/, "")))).toEqual([
      expect.stringMatching(/^staging-db-role-maintenance/),
    ]);
    const scheduler = policyOf(
      one(plan.resources, "aws:iam/rolePolicy:RolePolicy", "staging-db-maintenance-scheduler"),
    );
    expect(scheduler.Statement.map((s) => s.Action)).toEqual(["ecs:RunTask", "iam:PassRole"]);
  });

  test("three warning alarms watch what the job publishes", async () => {
    const alarms = ofType(plan.resources, ALARM).filter(
      (a) => (a.inputs.tags as Record<string, string>).subject === "database-maintenance",
    );
    expect(alarms.map((a) => a.name).sort()).toEqual([
      "staging-database-maintenance-analyze-failed-warning",
      "staging-database-maintenance-analyze-overdue-warning",
      "staging-database-maintenance-vacuum-failed-warning",
    ]);
    const warning = "arn:aws:sns:eu-west-1:123456789012:staging-warning";
    expect(one(plan.resources, ALARM, "staging-database-maintenance-analyze-overdue-warning").inputs).toMatchObject({
      namespace: "Opsbook/Backup/staging",
      metricName: "LastSuccessfulAnalyzeTimestamp",
      dimensions: { Database: "app" },
      statistic: "SampleCount",
      comparisonOperator: "LessThanThreshold",
      threshold: 1,
      period: 3600,
      evaluationPeriods: 168,
      datapointsToAlarm: 168,
      treatMissingData: "breaching",
      alarmActions: [warning],
    });
    expect(one(plan.resources, ALARM, "staging-database-maintenance-vacuum-failed-warning").inputs).toMatchObject({
      metricName: "DatabaseVacuumSuccess",
      statistic: "Minimum",
      threshold: 1,
      period: 3600,
      evaluationPeriods: 1,
      treatMissingData: "ignore",
      alarmActions: [warning],
    });
    const sent = await published("Opsbook/Backup/staging", "app");
    for (const alarm of alarms)
      expect(sent).toContainEqual({
        namespace: alarm.inputs.namespace,
        metricName: alarm.inputs.metricName,
        dimensions: alarm.inputs.dimensions,
      });
  });

  test("the parameter group preloads pg_stat_statements, for the report", () => {
    expect(one(plan.resources, "aws:rds/parameterGroup:ParameterGroup", "staging-db").inputs.parameters).toContainEqual(
      {
        name: "shared_preload_libraries",
        value: "pg_stat_statements",
        applyMethod: "pending-reboot",
      },
    );
  });
});

describe("staging-k8s (CronJobs)", () => {
  let plan: Plan;
  beforeAll(async () => {
    plan = await planStack("staging-k8s");
  }, 120_000);

  const cronJob = (name: string) =>
    one(plan.resources, "kubernetes:batch/v1:CronJob", name).inputs as unknown as {
      metadata: { name: string };
      spec: k8s.types.input.batch.v1.CronJobSpec & {
        jobTemplate: {
          spec: { template: { spec: { serviceAccountName: string; containers: Array<Record<string, unknown>> } } };
        };
      };
    };

  test("two CronJobs on the backup's pattern, in London time, as their own service account", () => {
    const analyze = cronJob("staging-k8s-maintenance-analyze");
    const vacuum = cronJob("staging-k8s-maintenance-vacuum");
    expect(analyze.metadata.name).toBe("opsbook-maintenance-analyze");
    expect(analyze.spec).toMatchObject({
      schedule: "30 6 * * 0",
      timeZone: "Europe/London",
      concurrencyPolicy: "Forbid",
    });
    expect(vacuum.spec).toMatchObject({ schedule: "30 7 1 * *", timeZone: "Europe/London" });
    const pod = analyze.spec.jobTemplate.spec.template.spec;
    expect(pod.serviceAccountName).toBe("opsbook-db-maintenance");
    expect(pod.containers[0]).toMatchObject({ name: "maintenance-analyze", args: ["maintenance-analyze"] });
    const env = pod.containers[0]!.env as Array<{ name: string; value?: string; valueFrom?: unknown }>;
    expect(env.filter((e) => e.valueFrom !== undefined).map((e) => e.name)).toEqual(["PGUSER", "PGPASSWORD"]);
    expect(env.find((e) => e.name === "METRICS_NAMESPACE")?.value).toBe("Opsbook/Backup/staging-k8s");
  });

  test("the service account's IAM role trusts only its own tokens and may only publish the metrics", () => {
    const issuer = "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";
    const role = one(plan.resources, "aws:iam/role:Role", "staging-k8s-db-maintenance-task");
    expect(policyOf(role, "assumeRolePolicy").Statement[0]).toMatchObject({
      Condition: {
        StringEquals: { [`${issuer}:sub`]: "system:serviceaccount:opsbook-staging:opsbook-db-maintenance" },
      },
    });
    expect(
      policyOf(one(plan.resources, "aws:iam/rolePolicy:RolePolicy", "staging-k8s-db-maintenance-task")).Statement.map(
        (s) => s.Action,
      ),
    ).toEqual(["cloudwatch:PutMetricData"]);
    // No ECS task definitions, schedules or log group on Kubernetes.
    const ecsSide = plan.resources.filter(
      (r: RecordedResource) => r.name.includes("maintenance") && /ecs|scheduler|logGroup/.test(r.type),
    );
    expect(ecsSide).toEqual([]);
  });
});

describe("databaseMaintenance settings", () => {
  const base = {
    "aws:region": "eu-west-1",
    "opsbook:environment": "test",
    "opsbook:timeZone": "Europe/London",
    "opsbook:services": JSON.stringify([{ name: "api", image: "registry.example.com/api", tag: "1.2.3", port: 8080 }]),
    "opsbook:domain": JSON.stringify({ certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/abc" }),
    "opsbook:backup": JSON.stringify({
      image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/opsbook/backup-job",
      tag: "1",
    }),
  };
  const problems = (maintenance: Record<string, unknown>): string[] => {
    try {
      parseConfig("test", { ...base, "opsbook:databaseMaintenance": JSON.stringify(maintenance) });
      return [];
    } catch (error) {
      return (error as ConfigError).problems.map((p) => `${p.key}: ${p.allowed}`);
    }
  };

  test("the defaults pass and miss the backup windows and the maintenance window", () => {
    expect(problems({})).toEqual([]);
  });

  test("an hour meeting the nightly dump, the RDS backup window or the RDS maintenance window is refused, naming each", () => {
    expect(problems({ analyzeAt: "02:30" })).toEqual([
      expect.stringMatching(
        /^opsbook:databaseMaintenance\.analyzeAt: .*misses the RDS backup window \(postgres\.backupWindowStart 02:00, one hour\) and the nightly dump \(backup\.dailyAt 02:00, up to backup\.maxRunMinutes 120\)/,
      ),
    ]);
    expect(problems({ vacuumAt: "03:30" })).toEqual([expect.stringContaining("the nightly dump")]);
    expect(problems({ vacuumAt: "04:15" })).toEqual([
      expect.stringContaining("postgres.maintenanceWindow (sun:04:00-sun:05:00 UTC)"),
    ]);
  });

  test("VACUUM and ANALYZE may not share an hour", () => {
    expect(problems({ analyzeAt: "06:30", vacuumAt: "07:00" })).toEqual([
      expect.stringMatching(/^opsbook:databaseMaintenance\.vacuumAt: a time whose hour misses analyzeAt's \(06:30\)/),
    ]);
    expect(problems({ analyzeAt: "23:30", vacuumAt: "00:00" })).toHaveLength(1);
    expect(problems({ analyzeAt: "06:30", vacuumAt: "07:30" })).toEqual([]);
  });

  test("the day of the month is 1 to 28, and the report 1 to 100 statements", () => {
    expect(problems({ vacuumDayOfMonth: 29 })).toEqual([expect.stringMatching(/vacuumDayOfMonth/)]);
    expect(problems({ slowStatements: 0 })).toEqual([expect.stringMatching(/slowStatements/)]);
  });

  test("switched off, the stack declares no maintenance task, CronJob or alarm", async () => {
    const dir = mkdtempSync(join(tmpdir(), "opsbook-maintenance-off-"));
    copyFileSync(join(REPO_ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
    const staging = readFileSync(join(REPO_ROOT, "Pulumi.staging.yaml"), "utf8");
    writeFileSync(
      join(dir, "Pulumi.off.yaml"),
      `${staging.trimEnd()}\n  opsbook:databaseMaintenance:\n    enabled: false\n`,
    );
    const off = await buildPlan("off", { root: dir, load: () => stackOutputs(buildPlatform(loadConfig())) });
    rmSync(dir, { recursive: true, force: true });
    expect(
      off.resources.filter(
        (r) => /db-maintenance|maintenance-(analyze|vacuum)/.test(r.name) || r.type.includes("DatabaseMaintenance"),
      ),
    ).toEqual([]);
    // The role and its logins' secrets stay: the bootstrap keeps every role in place.
    expect(one(off.resources, "aws:secretsmanager/secret:Secret", "staging-db-role-maintenance-a")).toBeDefined();
  }, 120_000);
});
