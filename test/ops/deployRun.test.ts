/**
 * `opsbook deploy` for real (R-deploy-order): Pulumi through the fake `pulumi` (test/ops/fake-pulumi),
 * AWS through aws-sdk-client-mock on the real v3 clients, HTTP through an injected fetch, and a clock
 * that the injected sleep advances, so the 5-minute watch runs at once. Every call (Pulumi, AWS, HTTP)
 * goes to one log, so the tests read the order of the steps from it.
 */
import { CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import {
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListServiceDeploymentsCommand,
  RunTaskCommand,
} from "@aws-sdk/client-ecs";
import { CreateDBSnapshotCommand, DescribeDBSnapshotsCommand, RDSClient } from "@aws-sdk/client-rds";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { execFileSync } from "child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { awsClients } from "../../ops/aws";
import { run } from "../../ops/cli";

const root = join(__dirname, "../..");
const HEAD = execFileSync("git", ["rev-parse", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
// Every recorded commit is this repository's HEAD, so a rollback can check it out (CI clones one deep).
const recordedHistory = (): Array<Record<string, unknown>> =>
  JSON.parse(
    readFileSync(join(root, "test/fixtures/ops/history-production.json"), "utf8").replace(/COMMIT_[A-E]/g, HEAD),
  ) as Array<Record<string, unknown>>;

const ACCOUNT = "123456789012";
const td = (family: string, revision: number) =>
  `arn:aws:ecs:eu-west-1:${ACCOUNT}:task-definition/${family}:${revision}`;
/** The stack outputs as `stackOutputs` publishes them, with the task definitions at `revision`. */
const outputs = (revision: number) => ({
  clusterName: "opsbook-production",
  databaseIdentifier: "opsbook-production",
  url: "https://app.example.com",
  criticalAlarmNames: ["opsbook-production-api-http-error-rate-critical", "opsbook-production-database-cpu-critical"],
  services: {
    api: {
      serviceName: "opsbook-production-api",
      taskDefinitionArn: td("opsbook-production-api", revision),
      taskDefinitionFamily: "opsbook-production-api",
      routing: { paths: ["/api/*"], hosts: [], priority: 100, healthCheckPath: "/health" },
    },
    web: {
      serviceName: "opsbook-production-web",
      taskDefinitionArn: td("opsbook-production-web", revision),
      taskDefinitionFamily: "opsbook-production-web",
      routing: { paths: [], hosts: [], priority: 50000, healthCheckPath: "/health" },
    },
  },
  migration: {
    taskDefinitionArn: td("opsbook-production-api-migrate", revision),
    family: "opsbook-production-api-migrate",
    taskDefinitionUrn:
      "urn:pulumi:production::opsbook::opsbook:service:Service$aws:ecs/taskDefinition:TaskDefinition::api-migrate",
    cluster: "opsbook-production",
    subnets: ["subnet-a", "subnet-b"],
    securityGroups: ["sg-app"],
    launchType: "FARGATE",
    containerName: "app",
    logGroup: "/opsbook/opsbook-production-api",
    logStreamPrefix: "task",
  },
  deploy: {
    anyTime: false,
    windows: [{ days: ["tue", "wed"], from: "10:00", to: "14:00" }],
    holidays: [],
    monthEndDays: 1,
    timeZone: "Europe/London",
    notifyTopicArn: `arn:aws:sns:eu-west-1:${ACCOUNT}:production-warning`,
    smokeChecks: { api: [{ path: "/api/status", status: 200 }], web: [{ path: "/", status: 200 }] },
  },
});

/** An update as `pulumi stack history --json` records it. */
const update = (version: number, message: string, result = "succeeded") => ({
  version,
  kind: "update",
  startTime: "2026-11-10T11:00:30Z",
  message,
  environment: { "exec.kind": "auto.local", "git.head": HEAD, "git.dirty": "false", "ci.system": "opsbook (dana)" },
  config: {
    "opsbook:services": { value: '[{"name":"api","tag":"1.4.2"},{"name":"web","tag":"1.3.0"}]', secret: false },
  },
  result,
  endTime: "2026-11-10T11:03:00Z",
  resourceChanges: { update: 3 },
});
const UP_STDOUT =
  "Updating (production):\n ~  aws:ecs:TaskDefinition api updating (0s)\n\nResources:\n    ~ 3 updated\n    204 unchanged\n\nDuration: 2m31s\n";
const MIGRATE_UP = {
  stdout: UP_STDOUT,
  update: update(8, `opsbook deploy migrations tags api=1.4.2 at ${HEAD.slice(0, 12)} (migrations only)`),
};
const FULL_UP = {
  stdout: UP_STDOUT,
  update: update(9, `opsbook deploy tags api=1.4.2 at ${HEAD.slice(0, 12)}`),
  outputs: outputs(7),
};
const ROLLBACK_UP = { stdout: UP_STDOUT, update: update(10, "opsbook rollback from v9 to v6"), outputs: outputs(8) };

let dir: string;
let logFile: string;
function scenario(extra: Record<string, unknown> = {}): void {
  writeFileSync(
    join(dir, "scenario.json"),
    JSON.stringify({
      stacks: ["production"],
      history: recordedHistory(),
      outputs: outputs(6),
      ups: [MIGRATE_UP, FULL_UP, ROLLBACK_UP],
      config: {
        "opsbook:services": { value: '[{"name":"api","tag":"1.4.2"},{"name":"web","tag":"1.3.0"}]', secret: false },
      },
      ...extra,
    }),
  );
}
type Entry = {
  args?: string[];
  cwd?: string;
  aws?: string;
  input?: Record<string, unknown>;
  http?: string;
  signal?: string;
  waiting?: boolean;
  ci?: Record<string, string>;
};
const entries = (): Entry[] =>
  existsSync(logFile)
    ? readFileSync(logFile, "utf8")
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Entry)
    : [];
/** The log as one line per call: `pulumi up --target`, `aws RunTask`, `http GET <url>`. */
const steps = (): string[] =>
  entries().flatMap((e) => {
    if (e.aws) return [`aws ${e.aws}`];
    if (e.http) return [`http ${e.http}`];
    // Reading the stack file's config (`config --json`) changes nothing: only writes are steps.
    if (e.args && ["up", "config"].includes(e.args[0]!) && !e.args.includes("--json"))
      return [
        `pulumi ${e.args[0]}${e.args.includes("--target") ? " --target" : ""}${e.args[1] === "set-all" ? " set-all" : ""}`,
      ];
    return [];
  });
const ups = () => entries().filter((e) => e.args?.[0] === "up");

const ecs = mockClient(ECSClient);
const rds = mockClient(RDSClient);
const cloudwatch = mockClient(CloudWatchClient);
const sns = mockClient(SNSClient);
/** Records an AWS call in the shared log. */
const logged = (name: string, input: object) => appendFileSync(logFile, JSON.stringify({ aws: name, input }) + "\n");

/** What ECS reports: the deployment of each update, and the task definitions it runs. */
let deploymentStatus: (service: string, upsSoFar: number) => string;
let firingAt: (poll: number) => string[];
let migrationExit: number | undefined;
let httpStatus: (url: string) => number;
/** The task definition revision ECS runs after `ups` updates. */
let runningRevision: (ups: number) => number;

function mockAws(): void {
  for (const m of [ecs, rds, cloudwatch, sns]) m.reset();
  let alarmPolls = 0;
  cloudwatch.on(DescribeAlarmsCommand).callsFake((input: { AlarmNames: string[]; StateValue: string }) => {
    logged("DescribeAlarms", input);
    const firing = firingAt(alarmPolls++).filter((n) => input.AlarmNames.includes(n));
    return { MetricAlarms: firing.map((AlarmName) => ({ AlarmName, StateValue: "ALARM" })) };
  });
  sns.on(PublishCommand).callsFake((input: object) => {
    logged("Publish", input);
    return { MessageId: "m-1" };
  });
  rds.on(CreateDBSnapshotCommand).callsFake((input: { DBSnapshotIdentifier: string }) => {
    logged("CreateDBSnapshot", input);
    return { DBSnapshot: { DBSnapshotIdentifier: input.DBSnapshotIdentifier, Status: "creating" } };
  });
  let snapshotPolls = 0;
  rds.on(DescribeDBSnapshotsCommand).callsFake((input: { DBSnapshotIdentifier: string }) => {
    logged("DescribeDBSnapshots", input);
    const available = snapshotPolls++ >= 2;
    return {
      DBSnapshots: [
        {
          DBSnapshotIdentifier: input.DBSnapshotIdentifier,
          DBSnapshotArn: `arn:aws:rds:eu-west-1:${ACCOUNT}:snapshot:${input.DBSnapshotIdentifier}`,
          Status: available ? "available" : "creating",
          PercentProgress: available ? 100 : 40,
        },
      ],
    };
  });
  ecs.on(DescribeTaskDefinitionCommand).callsFake((input: { taskDefinition: string }) => {
    logged("DescribeTaskDefinition", input);
    return {
      taskDefinition: {
        taskDefinitionArn: td(input.taskDefinition, 7),
        containerDefinitions: [{ name: "app", image: `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/opsbook/api:1.4.2` }],
      },
    };
  });
  const TASK = `arn:aws:ecs:eu-west-1:${ACCOUNT}:task/opsbook-production/0a1b2c3d4e5f`;
  ecs.on(RunTaskCommand).callsFake((input: object) => {
    logged("RunTask", input);
    return { tasks: [{ taskArn: TASK, lastStatus: "PROVISIONING" }], failures: [] };
  });
  let taskPolls = 0;
  ecs.on(DescribeTasksCommand).callsFake((input: object) => {
    logged("DescribeTasks", input);
    const stopped = taskPolls++ >= 1;
    return {
      tasks: [
        {
          taskArn: TASK,
          lastStatus: stopped ? "STOPPED" : "RUNNING",
          ...(stopped
            ? {
                stopReason: undefined,
                stoppedReason:
                  migrationExit === 0 ? "Essential container in task exited" : "Essential container in task exited",
                containers: [
                  {
                    name: "app",
                    lastStatus: "STOPPED",
                    ...(migrationExit === undefined ? {} : { exitCode: migrationExit }),
                  },
                ],
              }
            : { containers: [{ name: "app", lastStatus: "RUNNING" }] }),
        },
      ],
    };
  });
  ecs.on(ListServiceDeploymentsCommand).callsFake((input: { service: string; createdAt: { after: Date } }) => {
    logged("ListServiceDeployments", input);
    const n = ups().length;
    return {
      serviceDeployments: [
        {
          serviceDeploymentArn: `arn:aws:ecs:eu-west-1:${ACCOUNT}:service-deployment/opsbook-production/${input.service}/up${n}`,
          createdAt: new Date(input.createdAt.after.getTime() + 1000),
          status: "IN_PROGRESS",
        },
      ],
    };
  });
  ecs.on(DescribeServiceDeploymentsCommand).callsFake((input: { serviceDeploymentArns: string[] }) => {
    logged("DescribeServiceDeployments", input);
    const arn = input.serviceDeploymentArns[0]!;
    const service = arn.split("/")[2]!;
    const status = deploymentStatus(service, Number(arn.split("/up")[1]));
    return {
      serviceDeployments: [
        {
          serviceDeploymentArn: arn,
          status,
          ...(status.startsWith("ROLLBACK")
            ? { statusReason: "ECS deployment circuit breaker: tasks failed to start." }
            : {}),
        },
      ],
    };
  });
  ecs.on(DescribeServicesCommand).callsFake((input: { services: string[] }) => {
    logged("DescribeServices", input);
    const revision = runningRevision(ups().length);
    return {
      services: input.services.map((name) => ({ serviceName: name, taskDefinition: td(name, revision) })),
    };
  });
}

/** From the `ups`-th update on, ECS refuses DescribeServices as IAM does. */
function denyDescribeServicesAfter(upsSoFar: number): void {
  ecs.on(DescribeServicesCommand).callsFake((input: { services: string[] }) => {
    logged("DescribeServices", input);
    if (ups().length >= upsSoFar)
      throw Object.assign(
        new Error(
          `User: arn:aws:sts::${ACCOUNT}:assumed-role/deployer/dana is not authorized to perform: ecs:DescribeServices`,
        ),
        { name: "AccessDeniedException" },
      );
    const revision = runningRevision(ups().length);
    return {
      services: input.services.map((name) => ({ serviceName: name, taskDefinition: td(name, revision) })),
    };
  });
}

const TUESDAY_11_LONDON = new Date("2026-11-10T11:00:00Z");
const savedEnv = { ...process.env };
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "opsbook-deploy-run-"));
  logFile = join(dir, "calls.log");
  process.env.PATH = `${join(__dirname, "fake-pulumi")}:${savedEnv.PATH}`;
  process.env.FAKE_PULUMI_SCENARIO = join(dir, "scenario.json");
  process.env.FAKE_PULUMI_LOG = logFile;
  process.env.PULUMI_SKIP_UPDATE_CHECK = "true";
  delete process.env.CI;
  delete process.env.GITHUB_ACTIONS;
  scenario();
  deploymentStatus = () => "SUCCESSFUL";
  firingAt = () => [];
  migrationExit = 0;
  httpStatus = () => 200;
  // After the full update ECS runs revision 7 unless it rolled back (then still 6); after the revert, 8.
  runningRevision = (n) => (n >= 3 ? 8 : deploymentStatus("opsbook-production-api", 2).startsWith("ROLLBACK") ? 6 : 7);
  mockAws();
});
afterAll(() => {
  process.env = savedEnv;
});

const cleanGit = (args: string[]): string => {
  if (args[0] === "status") return "";
  if (args[0] === "rev-parse") return HEAD;
  if (args[0] === "merge-base") return "";
  throw new Error(`unexpected git ${args.join(" ")}`);
};

async function deploy(argv: string[], o: { git?: (a: string[]) => string; signal?: AbortSignal } = {}) {
  let stdout = "";
  let stderr = "";
  let clock = TUESDAY_11_LONDON.getTime();
  const code = await run(["deploy", "--stack", "production", ...argv], {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    now: () => new Date(clock),
    sleep: (ms) => {
      clock += ms;
      return Promise.resolve();
    },
    git: o.git ?? cleanGit,
    aws: awsClients,
    fetch: (url) => {
      appendFileSync(logFile, JSON.stringify({ http: `GET ${url}` }) + "\n");
      return Promise.resolve({ status: httpStatus(url) });
    },
    env: { USER: "dana" },
    ...(o.signal ? { signal: o.signal } : {}),
  });
  return { code, stdout, stderr, minutes: (clock - TUESDAY_11_LONDON.getTime()) / 60_000 };
}

const published = () =>
  entries()
    .filter((e) => e.aws === "Publish")
    .map((e) => e.input as { Subject: string; Message: string });

describe("opsbook deploy (R-deploy-order)", () => {
  test("backup, migrations, update, verify, watch and notices, in the runbooks' order", async () => {
    const r = await deploy(["--set", "api=1.4.2"]);
    expect(r.stderr).not.toMatch(/what to do/);
    expect(r.code).toBe(0);
    const order = steps().filter((s, i, all) => s !== all[i - 1]); // polls collapse to one line
    expect(order.slice(0, 14)).toEqual([
      "aws DescribeAlarms",
      "aws Publish",
      "aws CreateDBSnapshot",
      "aws DescribeDBSnapshots",
      "pulumi config set-all",
      "pulumi up --target",
      "aws DescribeTaskDefinition",
      "aws RunTask",
      "aws DescribeTasks",
      "pulumi up",
      "aws ListServiceDeployments",
      "aws DescribeServiceDeployments",
      "aws ListServiceDeployments",
      "aws DescribeServiceDeployments",
    ]);
    expect(order.slice(14)).toEqual([
      "aws DescribeServices",
      "http GET https://app.example.com/health",
      "http GET https://app.example.com/api/status",
      "http GET https://app.example.com/",
      "aws DescribeAlarms",
      "aws DescribeServiceDeployments",
      "aws DescribeAlarms",
      "aws DescribeServiceDeployments",
      "aws DescribeAlarms",
      "aws DescribeServiceDeployments",
      "aws DescribeAlarms",
      "aws DescribeServiceDeployments",
      "aws DescribeAlarms",
      "aws DescribeServiceDeployments",
      "aws DescribeAlarms",
      "aws DescribeServiceDeployments",
      "aws DescribeAlarms",
      "aws DescribeServiceDeployments",
      "aws DescribeAlarms",
      "aws DescribeServiceDeployments",
      "aws DescribeAlarms",
      "aws DescribeServiceDeployments",
      "aws DescribeAlarms",
      "aws DescribeServiceDeployments",
      "aws DescribeAlarms",
      "aws DescribeServiceDeployments",
      "aws Publish",
    ]);
    // The watch: 5 minutes of the injected clock, polled every 30 s.
    expect(r.minutes).toBeGreaterThanOrEqual(5);
    expect(r.minutes).toBeLessThan(6);

    const input = (name: string) => entries().find((e) => e.aws === name)!.input!;
    expect(input("DescribeAlarms")).toMatchObject({
      AlarmNames: ["opsbook-production-api-http-error-rate-critical", "opsbook-production-database-cpu-critical"],
      StateValue: "ALARM",
    });
    const snapshot = input("CreateDBSnapshot") as { DBSnapshotIdentifier: string; DBInstanceIdentifier: string };
    expect(snapshot.DBInstanceIdentifier).toBe("opsbook-production");
    expect(snapshot.DBSnapshotIdentifier).toBe(`opsbook-production-deploy-20261110-110000-${HEAD.slice(0, 12)}`);
    expect(input("CreateDBSnapshot").Tags).toEqual(
      expect.arrayContaining([
        { Key: "opsbook:commit", Value: HEAD },
        { Key: "opsbook:stack", Value: "production" },
      ]),
    );
    expect(input("RunTask")).toEqual({
      cluster: "opsbook-production",
      taskDefinition: td("opsbook-production-api-migrate", 7),
      launchType: "FARGATE",
      count: 1,
      startedBy: "opsbook-deploy",
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: ["subnet-a", "subnet-b"],
          securityGroups: ["sg-app"],
          assignPublicIp: "DISABLED",
        },
      },
    });
    const [migrate, full] = ups();
    expect(migrate!.args).toEqual(
      expect.arrayContaining([
        "--target",
        "urn:pulumi:production::opsbook::opsbook:service:Service$aws:ecs/taskDefinition:TaskDefinition::api-migrate",
        "--message",
        `opsbook deploy migrations tags api=1.4.2 at ${HEAD.slice(0, 12)} (migrations only)`,
      ]),
    );
    expect(full!.args).toEqual(
      expect.arrayContaining(["--message", `opsbook deploy tags api=1.4.2 at ${HEAD.slice(0, 12)}`]),
    );
    expect(full!.args).not.toContain("--target");
    // Outside a CI Pulumi knows, the update records who ran it and the deploy's id.
    expect(full!.ci).toEqual({
      PULUMI_CI_SYSTEM: "opsbook (dana)",
      PULUMI_CI_BUILD_ID: snapshot.DBSnapshotIdentifier,
      PULUMI_CI_BUILD_TYPE: "deploy",
    });
    const setAll = entries().find((e) => e.args?.[1] === "set-all")!;
    expect(setAll.args).toEqual(expect.arrayContaining(["--path", "--plaintext", "opsbook:services[0].tag=1.4.2"]));
    // The api's /health is not routed to it by the listener (paths /api/*): the target group checks it.
    expect(r.stderr).toMatch(
      /note: api \/health not requested through the load balancer: the load balancer sends app.example.com\/health to web/,
    );
    const notices = published();
    expect(notices.map((n) => n.Subject)).toEqual([
      "opsbook deploy of production started",
      "opsbook deploy of production completed",
    ]);
    expect(notices[1]!.Message).toMatch(
      /stack: production\ntags: api=1.4.2\ncommit: [0-9a-f]{40}\nwho: dana\nresult: completed as v9/,
    );
    expect(r.stdout).toBe(
      `deployed production v9 (opsbook deploy tags api=1.4.2 at ${HEAD.slice(0, 12)}); snapshot ${snapshot.DBSnapshotIdentifier}\ncommit the tags --set wrote to Pulumi.production.yaml, so main names what runs\n`,
    );
  }, 60_000);

  test("without --set the stack file ships as committed, with its tags in the message", async () => {
    const r = await deploy(["--json"]);
    expect(r.code).toBe(0);
    expect(steps()).not.toContain("pulumi config set-all");
    expect(JSON.parse(r.stdout)).toMatchObject({ version: 9, tags: { api: "1.4.2", web: "1.3.0" } });
    expect(ups()[1]!.args).toEqual(
      expect.arrayContaining(["--message", `opsbook deploy tags api=1.4.2,web=1.3.0 at ${HEAD.slice(0, 12)}`]),
    );
  }, 60_000);

  test("--hotfix is watched 15 minutes", async () => {
    const r = await deploy(["--set", "api=1.4.2", "--hotfix"]);
    expect(r.code).toBe(0);
    expect(r.minutes).toBeGreaterThanOrEqual(15);
    expect(r.minutes).toBeLessThan(16);
    expect(ups()[1]!.ci).toMatchObject({ PULUMI_CI_BUILD_TYPE: "hotfix" });
  }, 60_000);
});

describe("opsbook deploy, more cases", () => {
  test("a service whose task definition the update kept needs no new ECS deployment", async () => {
    const after = outputs(7);
    after.services.web.taskDefinitionArn = td("opsbook-production-web", 6);
    scenario({ ups: [MIGRATE_UP, { ...FULL_UP, outputs: after }, ROLLBACK_UP] });
    runningRevision = () => 7;
    // ECS runs web:6 still (unchanged) and api:7.
    ecs.on(DescribeServicesCommand).callsFake((input: { services: string[] }) => {
      logged("DescribeServices", input);
      return {
        services: input.services.map((name) => ({
          serviceName: name,
          taskDefinition: td(name, name.endsWith("-web") ? 6 : 7),
        })),
      };
    });
    const r = await deploy(["--set", "api=1.4.2"]);
    expect(r.stderr).not.toMatch(/what to do/);
    expect(r.code).toBe(0);
    const listed = entries()
      .filter((e) => e.aws === "ListServiceDeployments")
      .map((e) => (e.input as { service: string }).service);
    expect(listed).toEqual(["opsbook-production-api"]);
  }, 60_000);

  test("--set takes each service's index from the stack file at HEAD, not from the last update's config", async () => {
    // The last update ran [api, web]; the commit being deployed reordered them and added worker.
    scenario({
      config: {
        "opsbook:services": {
          value: '[{"name":"worker","tag":"0.9.0"},{"name":"web","tag":"1.3.0"},{"name":"api","tag":"1.4.1"}]',
          objectValue: [
            { name: "worker", tag: "0.9.0" },
            { name: "web", tag: "1.3.0" },
            { name: "api", tag: "1.4.1" },
          ],
          secret: false,
        },
      },
    });
    const r = await deploy(["--set", "api=1.4.2,worker=0.9.1"]);
    expect(r.stderr).not.toMatch(/what to do/);
    expect(r.code).toBe(0);
    const setAll = entries().find((e) => e.args?.[1] === "set-all")!;
    // Exactly the two tags asked for: no other service's tag, and no tag at another index.
    expect(setAll.args!.filter((a) => a.startsWith("opsbook:services"))).toEqual([
      "opsbook:services[2].tag=1.4.2",
      "opsbook:services[0].tag=0.9.1",
    ]);
    // Read from the workspace (`pulumi config --json`) before anything changed.
    const configRead = entries().findIndex((e) => e.args?.[0] === "config" && e.args.includes("--json"));
    expect(configRead).toBeGreaterThan(-1);
    expect(configRead).toBeLessThan(entries().findIndex((e) => e.aws === "CreateDBSnapshot"));
  }, 60_000);

  test("--set of a service the stack file does not name is a usage error before anything changes", async () => {
    const r = await deploy(["--set", "worker=0.9.1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /--set worker=0.9.1: the stack file of production names no service "worker" \(it names: api, web\)/,
    );
    expect(steps()).toEqual([]);
  }, 30_000);

  test("--force --reason deploys with a critical alarm firing, and says so", async () => {
    firingAt = (poll) => (poll === 0 ? ["opsbook-production-database-cpu-critical"] : []);
    const r = await deploy(["--set", "api=1.4.2", "--force", "--reason", "this release is the fix"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /warning: deploying with opsbook-production-database-cpu-critical in ALARM \(--force: this release is the fix\)/,
    );
    expect(ups()[1]!.ci).toMatchObject({ PULUMI_CI_BUILD_TYPE: "forced" });
  }, 60_000);
});

describe("opsbook deploy refuses before anything changes (exit 3)", () => {
  test("a dirty tree", async () => {
    const r = await deploy(["--set", "api=1.4.2"], {
      git: (a) => (a[0] === "status" ? " M Pulumi.production.yaml" : cleanGit(a)),
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/the git tree has uncommitted changes/);
    expect(steps()).toEqual([]);
  }, 30_000);

  test("a critical alarm in ALARM", async () => {
    firingAt = () => ["opsbook-production-database-cpu-critical"];
    const r = await deploy(["--set", "api=1.4.2"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/critical alarm in ALARM on production: opsbook-production-database-cpu-critical/);
    expect(r.stderr).toMatch(/what to do: a deploy does not start during an incident/);
    expect(steps()).toEqual(["aws DescribeAlarms"]);
  }, 30_000);

  test("credentials without cloudwatch:DescribeAlarms: the call, the permission, nothing changed (exit 1)", async () => {
    cloudwatch.on(DescribeAlarmsCommand).rejects(
      Object.assign(new Error("User: arn:aws:sts::123456789012:assumed-role/deploy/ci is not authorized"), {
        name: "AccessDeniedException",
      }),
    );
    const r = await deploy(["--set", "api=1.4.2"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/opsbook deploy: CloudWatch DescribeAlarms failed: AccessDeniedException: User: /);
    expect(r.stderr).toMatch(
      /what to do: grant cloudwatch:DescribeAlarms to the credentials .*; nothing has changed yet/,
    );
    expect(r.stderr).not.toMatch(/a bug in opsbook/);
    expect(steps()).toEqual([]);
  }, 30_000);

  test("an update already running (Pulumi's ConcurrentUpdateError)", async () => {
    scenario({ ups: [{ exitCode: 255, stderr: "error: [409] Conflict: Another update is currently in progress.\n" }] });
    const r = await deploy(["--set", "api=1.4.2"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/another update is running on stack production/);
    expect(steps()).not.toContain("aws RunTask");
  }, 30_000);

  test("a smoke check the load balancer would send to another service", async () => {
    const o = outputs(6);
    o.deploy.smokeChecks = { api: [{ path: "/status", status: 200 }], web: [] };
    scenario({ outputs: o });
    const r = await deploy(["--set", "api=1.4.2"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/api \/status: the load balancer sends app.example.com\/status to web, not to api/);
    expect(steps()).toEqual([]);
  }, 30_000);
});

describe("a failed migration stops the deploy; the services keep the old version (exit 1)", () => {
  test.each<[string, number | undefined, RegExp]>([
    ["exit code 1", 1, /stopped with exit code 1: Essential container in task exited/],
    ["no exit code", undefined, /stopped without an exit code/],
  ])(
    "%s",
    async (_, exit, message) => {
      migrationExit = exit;
      const r = await deploy(["--set", "api=1.4.2"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(
        /what to do: the services still run the old version; read the migration's output: aws logs tail \/opsbook\/opsbook-production-api --log-stream-names task\/app\/0a1b2c3d4e5f --region eu-west-1/,
      );
      expect(ups()).toHaveLength(1);
      expect(published().map((n) => n.Subject)).toEqual([
        "opsbook deploy of production started",
        "opsbook deploy of production FAILED before the update",
      ]);
    },
    30_000,
  );
});

describe("a failed deploy is rolled back to the version before it (exit 4)", () => {
  test("ECS ROLLBACK_SUCCESSFUL after `up` succeeded is a failure: revert to v6, not to the migrations-only v8", async () => {
    // The circuit breaker rolled api back during the update; `up` still reported success.
    deploymentStatus = (service, n) =>
      service === "opsbook-production-api" && n === 2 ? "ROLLBACK_SUCCESSFUL" : "SUCCESSFUL";
    const r = await deploy(["--set", "api=1.4.2"]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(
      /the deploy of production failed and was rolled back: verify failed: api: ECS deployment .* ended ROLLBACK_SUCCESSFUL: ECS deployment circuit breaker/,
    );
    expect(r.stderr).toMatch(
      /api: ECS runs arn:aws:ecs:eu-west-1:123456789012:task-definition\/opsbook-production-api:6, the stack names .*:7/,
    );
    expect(r.stderr).toMatch(/rolled back from v9 to v6: initiated in .* \(runbook 004: under 5 min\)/);
    const revert = ups()[2]!;
    expect(revert.args).toEqual(expect.arrayContaining(["--message"]));
    expect(revert.args![revert.args!.indexOf("--message") + 1]).toMatch(
      /^opsbook rollback from v9 to v6: deploy failed: verify failed/,
    );
    expect(revert.cwd).toMatch(/opsbook-rollback-/);
    // The revert was verified too: its deployments and the task definitions the stack now names.
    const after = steps().slice(steps().lastIndexOf("pulumi up") + 1);
    expect(after).toEqual(expect.arrayContaining(["aws ListServiceDeployments", "aws DescribeServices"]));
    expect(r.stderr).not.toMatch(/the rollback did not verify/);
    expect(published().map((n) => n.Subject)).toEqual([
      "opsbook deploy of production started",
      "opsbook deploy of production failed, rolling back",
      "opsbook deploy of production rolled back",
    ]);
  }, 60_000);

  test("a verify of the revert that cannot call ECS is reported, and the rolled-back notice still goes out", async () => {
    deploymentStatus = (service, n) =>
      service === "opsbook-production-api" && n === 2 ? "ROLLBACK_SUCCESSFUL" : "SUCCESSFUL";
    denyDescribeServicesAfter(3);
    const r = await deploy(["--set", "api=1.4.2"]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/rolled back from v9 to v6: initiated in .* \(runbook 004: under 5 min\)/);
    expect(r.stderr).toMatch(
      /the rollback did not verify: the services could not be verified: ECS DescribeServices of opsbook-production-api, opsbook-production-web failed: AccessDeniedException: User: .* is not authorized to perform: ecs:DescribeServices/,
    );
    expect(r.stderr).toMatch(/what to do: the rollback did not verify either: check the ECS services/);
    const notices = published();
    expect(notices.map((n) => n.Subject)).toEqual([
      "opsbook deploy of production started",
      "opsbook deploy of production failed, rolling back",
      "opsbook deploy of production rolled back",
    ]);
    expect(notices[2]!.Message).toMatch(/the rollback did not verify: the services could not be verified/);
  }, 60_000);

  test("a critical alarm during the watch", async () => {
    firingAt = (poll) => (poll >= 4 ? ["opsbook-production-api-http-error-rate-critical"] : []);
    const r = await deploy(["--set", "api=1.4.2"]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/the watch saw: critical alarm in ALARM: opsbook-production-api-http-error-rate-critical/);
    expect(ups()).toHaveLength(3);
  }, 60_000);

  test("a watch that cannot read the alarms (AWS refuses the call) rolls back too", async () => {
    firingAt = (poll) => {
      if (poll >= 4) throw new Error("Rate exceeded");
      return [];
    };
    const r = await deploy(["--set", "api=1.4.2"]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/the services could not be verified: .*Rate exceeded/);
    expect(ups()).toHaveLength(3);
  }, 60_000);

  test("a smoke check that fails", async () => {
    httpStatus = (url) => (url.endsWith("/api/status") ? 503 : 200);
    const r = await deploy(["--set", "api=1.4.2"]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/api: smoke check https:\/\/app.example.com\/api\/status answered 503, expected 200/);
  }, 60_000);
});

describe("Ctrl-C", () => {
  test("during the update sends Pulumi SIGINT, which cancels it; exits 130 without a rollback", async () => {
    scenario({ ups: [MIGRATE_UP, { waitForSignal: true }] });
    const controller = new AbortController();
    const pending = deploy(["--set", "api=1.4.2"], { signal: controller.signal });
    for (let i = 0; i < 400 && !entries().some((e) => e.waiting); i++) await new Promise((res) => setTimeout(res, 50));
    controller.abort();
    const r = await pending;
    expect(entries().some((e) => e.signal === "SIGINT")).toBe(true);
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/the update was interrupted; the update was cancelled/);
    expect(ups()).toHaveLength(2);
    expect(published().map((n) => n.Subject)).toContain("opsbook deploy of production interrupted");
  }, 60_000);
});

describe("opsbook rollback verifies the revert (R-rollback-manual)", () => {
  async function rollback(argv: string[]) {
    let stdout = "";
    let stderr = "";
    const code = await run(["rollback", "--stack", "production", ...argv], {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      sleep: () => Promise.resolve(),
      aws: awsClients,
      fetch: (url) => {
        appendFileSync(logFile, JSON.stringify({ http: `GET ${url}` }) + "\n");
        return Promise.resolve({ status: 200 });
      },
    });
    return { code, stdout, stderr };
  }

  test("the services ECS runs and their health after the revert", async () => {
    scenario({ outputs: outputs(7), ups: [ROLLBACK_UP] });
    runningRevision = () => 8;
    const r = await rollback(["--json"]);
    expect(r.stderr).not.toMatch(/what to do/);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/verify the services: done in .*: verified api, web/);
    expect(steps()).toEqual(
      expect.arrayContaining([
        "pulumi up",
        "aws ListServiceDeployments",
        "aws DescribeServices",
        "http GET https://app.example.com/api/status",
      ]),
    );
    expect(JSON.parse(r.stdout)).toMatchObject({ from: 6, to: 5, verify: { problems: [] } });
  }, 60_000);

  test("a verify that cannot call ECS still prints the timing, then fails with exit 1", async () => {
    scenario({ outputs: outputs(7), ups: [ROLLBACK_UP] });
    runningRevision = () => 8;
    denyDescribeServicesAfter(1);
    const r = await rollback([]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^rolled back production from v6 to v5: initiated in .* \(runbook 004: under 5 min\)/);
    expect(r.stderr).toMatch(
      /the rollback to v5 did not verify:\n {2}- the services could not be verified: ECS DescribeServices of opsbook-production-api, opsbook-production-web failed: AccessDeniedException: User: .* is not authorized to perform: ecs:DescribeServices/,
    );
  }, 60_000);

  test("a revert ECS did not take fails with exit 1 and says to check the services now", async () => {
    scenario({ outputs: outputs(7), ups: [ROLLBACK_UP] });
    runningRevision = () => 7;
    const r = await rollback([]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /the rollback to v5 did not verify:\n {2}- api: ECS runs .*opsbook-production-api:7, the stack names .*:8/,
    );
    expect(r.stderr).toMatch(/what to do: the stack state names the earlier version; check the ECS services/);
  }, 60_000);
});
