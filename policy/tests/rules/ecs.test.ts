import * as ecs from "../../rules/ecs";
import { analyzeResources, outputsOf } from "../../../tools/policy/engine";
import { reconcileConfig } from "../../../tools/policy/config";
import { changed, resource, stackViolations, violations } from "../helpers";

const container = {
  name: "api",
  image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/opsbook/api:1.0.0",
  essential: true,
  readonlyRootFilesystem: true,
  portMappings: [{ containerPort: 8080 }],
  logConfiguration: {
    logDriver: "awslogs",
    options: { "awslogs-group": "/opsbook/api", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "api" },
  },
  environment: [
    { name: "NODE_ENV", value: "production" },
    { name: "DB_POOL_MAX", value: "20" },
  ],
  secrets: [{ name: "JWT_SECRET", valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:jwt" }],
  mountPoints: [{ sourceVolume: "tmp", containerPath: "/tmp" }],
};

/** A task definition whose one container is changed by `change`. */
function task(change: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return {
    family: "prod-api",
    cpu: "512",
    memory: "1024",
    networkMode: "awsvpc",
    requiresCompatibilities: ["FARGATE"],
    executionRoleArn: "arn:aws:iam::123456789012:role/prod-api-execution",
    taskRoleArn: "arn:aws:iam::123456789012:role/prod-api-task",
    volumes: [{ name: "tmp" }],
    containerDefinitions: JSON.stringify([changed(container, change)]),
    ...extra,
  };
}

const service = {
  name: "api",
  cluster: "arn:aws:ecs:eu-west-1:123456789012:cluster/prod",
  taskDefinition: "arn:aws:ecs:eu-west-1:123456789012:task-definition/prod-api:1",
  desiredCount: 3,
  launchType: "FARGATE",
  networkConfiguration: { assignPublicIp: false, subnets: ["subnet-a", "subnet-b"], securityGroups: ["sg-api"] },
  deploymentCircuitBreaker: { enable: true, rollback: true },
  alarms: { enable: true, rollback: true, alarmNames: ["prod-api-unhealthy", "prod-api-error-rate"] },
};

const cluster = { name: "prod", settings: [{ name: "containerInsights", value: "enabled" }] };

const taskRules = [
  ecs.ecsTaskReadOnlyRoot,
  ecs.ecsTaskNotPrivileged,
  ecs.ecsTaskLogging,
  ecs.ecsTaskSecretsNotInEnvironment,
  ecs.ecsTaskSeparateRoles,
];

test.each(taskRules.map((p) => [p.name, p] as const))(
  "%s passes the compliant task definition",
  async (_name, policy) => {
    expect(await violations(policy, ecs.TASK_DEFINITION, task())).toEqual([]);
  },
);

test.each([ecs.ecsServiceNoPublicIp, ecs.ecsServiceRollsBack].map((p) => [p.name, p] as const))(
  "%s passes the compliant service",
  async (_name, policy) => {
    expect(await violations(policy, ecs.ECS_SERVICE, service)).toEqual([]);
  },
);

test("ecs-cluster-container-insights passes the compliant cluster, and accepts enhanced", async () => {
  expect(await violations(ecs.ecsClusterContainerInsights, ecs.ECS_CLUSTER, cluster)).toEqual([]);
  expect(
    await violations(ecs.ecsClusterContainerInsights, ecs.ECS_CLUSTER, {
      settings: [{ name: "containerInsights", value: "enhanced" }],
    }),
  ).toEqual([]);
});

test("task rules report container definitions that are not JSON", async () => {
  expect(
    await violations(ecs.ecsTaskNotPrivileged, ecs.TASK_DEFINITION, task({}, { containerDefinitions: "[{" }), {
      name: "api",
    }),
  ).toEqual([
    'ECS task definition "api": containerDefinitions is not valid JSON; required: a JSON list of container definitions. Fix: build containerDefinitions with pulumi.jsonStringify.',
  ]);
});

test("ecs-task-read-only-root reports a writable root filesystem", async () => {
  expect(
    await violations(ecs.ecsTaskReadOnlyRoot, ecs.TASK_DEFINITION, task({ readonlyRootFilesystem: undefined }), {
      name: "api",
    }),
  ).toEqual([
    'ECS task definition "api": container "api" readonlyRootFilesystem is not set; required: true. Fix: set readonlyRootFilesystem: true and mount a volume (with a mountPoint) at each writable path.',
  ]);
});

test("ecs-task-not-privileged reports a privileged container", async () => {
  expect(
    await violations(ecs.ecsTaskNotPrivileged, ecs.TASK_DEFINITION, task({ privileged: true }), { name: "api" }),
  ).toEqual([
    'ECS task definition "api": container "api" privileged is true; required: false or unset. Fix: remove privileged: true.',
  ]);
});

describe("ecs-task-logging", () => {
  test("reports a container without a log driver", async () => {
    expect(
      await violations(ecs.ecsTaskLogging, ecs.TASK_DEFINITION, task({ logConfiguration: undefined }), { name: "api" }),
    ).toEqual([
      'ECS task definition "api": container "api" logConfiguration.logDriver is not set; required: one of ["awslogs"]. Fix: set logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": <the service log group>, "awslogs-region": <region>, "awslogs-stream-prefix": <service> } }.',
    ]);
  });

  test("reads the allowed drivers from config", async () => {
    const firelens = task({ logConfiguration: { logDriver: "awsfirelens" } });
    expect(await violations(ecs.ecsTaskLogging, ecs.TASK_DEFINITION, firelens)).toEqual([
      expect.stringContaining('logConfiguration.logDriver is "awsfirelens"; required: one of ["awslogs"]'),
    ]);
    expect(
      await violations(ecs.ecsTaskLogging, ecs.TASK_DEFINITION, firelens, {
        config: { allowedLogDrivers: ["awslogs", "awsfirelens"] },
      }),
    ).toEqual([]);
  });
});

describe("ecs-task-secrets-not-in-environment", () => {
  const message = (name: string, what: string) =>
    `ECS task definition "api": container "api" environment ${name} is ${what}; required: a secrets entry { name: "${name}", valueFrom: <secret ARN> }. Fix: move ${name} from environment to secrets, with valueFrom the Secrets Manager secret's ARN.`;
  const check = async (name: string, value: string, config?: Record<string, unknown>) =>
    violations(ecs.ecsTaskSecretsNotInEnvironment, ecs.TASK_DEFINITION, task({ environment: [{ name, value }] }), {
      name: "api",
      ...(config && { config }),
    });

  test("reports a secret passed as a plain variable, naming what its value looks like", async () => {
    const leaky = task({
      environment: [
        { name: "NODE_ENV", value: "production" },
        { name: "DATABASE_URL", value: "postgres://app:hunter2@db/app" },
      ],
    });
    expect(await violations(ecs.ecsTaskSecretsNotInEnvironment, ecs.TASK_DEFINITION, leaky, { name: "api" })).toEqual([
      message("DATABASE_URL", "a plain value that looks like a URL with a password"),
    ]);
  });

  test("reports credential names the config refuses, and the connection URLs, whatever the value", async () => {
    for (const name of [
      "DB_PASSWORD",
      "GITHUB_TOKEN",
      "STRIPE_API_KEY",
      "OAUTH_CLIENT_SECRET",
      "DATABASE_URL",
      "REDIS_URL",
    ])
      expect(await check(name, "x")).toEqual([message(name, "a plain value")]);
    // The names the config lets through pass here too: one detector (lib/credentials.ts).
    for (const name of ["TOKEN_TTL_SECONDS", "PASSWORD_MIN_LENGTH", "PUBLIC_KEY_URL", "DATABASE_URL_TEMPLATE"])
      expect(await check(name, "x")).toEqual([]);
  });

  test("reads more secret names from config, case-insensitively", async () => {
    expect(await check("stripe_webhook_signing", "whsec")).toEqual([]);
    expect(await check("stripe_webhook_signing", "whsec", { secretNamePattern: "SIGNING" })).toEqual([
      message("stripe_webhook_signing", "a plain value"),
    ]);
    // An empty pattern adds no names, rather than matching every name.
    expect(await check("LOG_LEVEL", "info", { secretNamePattern: "" })).toEqual([]);
  });

  // Built at run time, so that no file of the repository holds a credential-shaped literal. Each
  // kind has a value it catches and a near miss it lets through.
  const AWS_KEY = ["AKIA", "Z".repeat(4), "3".repeat(4), "Q7XP", "W2MB"].join("");
  const TOKEN = "Zr8" + "xQ2mN7vL4pK9sT1wB6yD3hF5jG0cE8aU";
  const JWT = ["eyJ" + "hbGciOiJIUzI1NiJ9", "eyJ" + "zdWIiOiIxMjM0In0", "dozjgNryP4J3jVmN"].join(".");
  test.each([
    ["an AWS access key id", AWS_KEY, "AKIA" + "Z3Q7"],
    ["a PEM private key", "-----BEGIN " + "RSA PRIVATE KEY-----\nMIIE...", "-----BEGIN " + "PUBLIC KEY-----"],
    ["a GitHub token", "ghp_" + "a1B2".repeat(8), "ghp_" + "short"],
    ["a GitHub token", "github_pat_" + "11AB_".repeat(7), "github_pat_" + "x"],
    ["a GitLab token", "glpat-" + "a1B2c3D4e5".repeat(2), "glpat-" + "a1B2"],
    ["a Slack token", "xoxb-" + "1234567890-abc", "xoxb-" + "12"],
    ["a Stripe secret key", "sk_" + "test_" + "4eC39HqLyjWDarjt", "sk_" + "test_" + "x"],
    ["an API secret key (sk-...)", "sk-" + "ant-" + "api03-a1B2c3D4e5F6g7", "sk-" + "learn"],
    ["a Google API key", "AIza" + "SyA1234567890abcdefghijklmnopqrstuv", "AIza" + "Sy"],
    ["an npm token", "npm_" + "a1B2c3D4e5F6".repeat(3), "npm_" + "config_cache"],
    ["a JSON web token", JWT, "eyJ" + "hbGciOiJIUzI1NiJ9.eyJ" + "zdWIiOiIxMjM0In0"],
    [
      "a URL with a password",
      "--upstream=https://svc:" + "s3cr3t-pass" + "@api.example.com/v1",
      "https://svc@api.example.com/v1",
    ],
    ["a random-looking token", TOKEN, "opsbook-production-backups-2026120109300012340"],
    [
      "a random-looking token",
      "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
      "6d1f0a3b9c4e".repeat(3) + "6d1f",
    ],
  ])("reports %s by its value, without printing it, and lets a near miss through", async (kind, value, nearMiss) => {
    const found = await check("OPAQUE", value);
    expect(found).toEqual([message("OPAQUE", `a plain value that looks like ${kind}`)]);
    expect(found[0]).not.toContain(value);
    expect(await check("OPAQUE", nearMiss)).toEqual([]);
  });

  test("the entropy threshold comes from config", async () => {
    expect(await check("OPAQUE", TOKEN, { minimumEntropyLength: 64 })).toEqual([]);
    expect(await check("OPAQUE", TOKEN, { minimumEntropyBitsPerCharacter: 5.9 })).toEqual([]);
    expect(await check("OPAQUE", "a1b2c3d4e5", { minimumEntropyLength: 8, minimumEntropyBitsPerCharacter: 3 })).toEqual(
      [message("OPAQUE", "a plain value that looks like a random-looking token")],
    );
  });

  test("passes the values the shipped stacks set: hosts, ports, ARNs, bucket names, labels, commit ids", async () => {
    const values = task({
      environment: [
        { name: "DB_HOST", value: "opsbook-production.c9akciq32.eu-west-1.rds.amazonaws.com" },
        { name: "BACKUP_BUCKET", value: "opsbook-production-backups-20261201093000123400000001" },
        { name: "TOPIC", value: "arn:aws:sns:eu-west-1:123456789012:production-critical" },
        { name: "APP_ROTATION_LABEL", value: "2026-q4" },
        { name: "METRICS_NAMESPACE", value: "Opsbook/Backup/production" },
        { name: "PUBLIC_URL", value: "https://user@example.com/path" },
        { name: "DRILL_SECURITY_GROUP_ID", value: "sg-0123456789abcdef0" },
        { name: "SUBNETS", value: "subnet-0a1b2c3d4e5f60718" },
        { name: "GIT_COMMIT", value: "1f86706c0b3a3b1e6a4f4b2f0d5f2e7d9c8b7a61" },
        { name: "REQUEST_ID_FORMAT", value: "550e8400-e29b-41d4-a716-446655440000" },
      ],
    });
    expect(await violations(ecs.ecsTaskSecretsNotInEnvironment, ecs.TASK_DEFINITION, values)).toEqual([]);
  });
});

test("ecs-task-separate-roles reports one role for both jobs", async () => {
  const role = "arn:aws:iam::123456789012:role/prod-api";
  expect(
    await violations(
      ecs.ecsTaskSeparateRoles,
      ecs.TASK_DEFINITION,
      task({}, { executionRoleArn: role, taskRoleArn: role }),
      { name: "api" },
    ),
  ).toEqual([
    'ECS task definition "api": taskRoleArn is "arn:aws:iam::123456789012:role/prod-api", the same as executionRoleArn; required: a role of its own, with only what the app calls. Fix: create a task role per service and set taskRoleArn to it.',
  ]);
});

test("ecs-service-no-public-ip reports tasks with public addresses", async () => {
  expect(
    await violations(
      ecs.ecsServiceNoPublicIp,
      ecs.ECS_SERVICE,
      changed(service, { networkConfiguration: { assignPublicIp: true, subnets: ["subnet-a"] } }),
      { name: "api" },
    ),
  ).toEqual([
    'ECS service "api": networkConfiguration.assignPublicIp is true; required: false. Fix: set assignPublicIp: false and use the private subnets.',
  ]);
});

describe("ecs-service-rolls-back", () => {
  test("reports a circuit breaker that stops but does not roll back", async () => {
    expect(
      await violations(
        ecs.ecsServiceRollsBack,
        ecs.ECS_SERVICE,
        changed(service, { deploymentCircuitBreaker: { enable: true, rollback: false } }),
        { name: "api" },
      ),
    ).toEqual([
      'ECS service "api": deploymentCircuitBreaker is {"enable":true,"rollback":false}; required: { enable: true, rollback: true }. Fix: set deploymentCircuitBreaker: { enable: true, rollback: true }.',
    ]);
  });

  test("reports deployment alarms with no alarm to watch", async () => {
    expect(
      await violations(
        ecs.ecsServiceRollsBack,
        ecs.ECS_SERVICE,
        changed(service, { alarms: { enable: true, rollback: true, alarmNames: [] } }),
        { name: "api" },
      ),
    ).toEqual([
      'ECS service "api": alarms is {"enable":true,"rollback":true,"alarmNames":[]}; required: { enable: true, rollback: true, alarmNames: [at least one alarm] }. Fix: set alarms to the service\'s rollback alarms (unhealthy targets, error rate) with enable and rollback true.',
    ]);
  });

  test("reports a service with neither", async () => {
    expect(
      await violations(
        ecs.ecsServiceRollsBack,
        ecs.ECS_SERVICE,
        changed(service, { deploymentCircuitBreaker: undefined, alarms: undefined }),
      ),
    ).toEqual([
      expect.stringContaining("deploymentCircuitBreaker is not set"),
      expect.stringContaining("alarms is not set"),
    ]);
  });
});

test("ecs-cluster-container-insights reports a cluster without it", async () => {
  expect(
    await violations(ecs.ecsClusterContainerInsights, ecs.ECS_CLUSTER, { name: "prod" }, { name: "prod" }),
  ).toEqual([
    'ECS cluster "prod": settings "containerInsights" is not set (off); required: one of ["enabled","enhanced"]. Fix: add { name: "containerInsights", value: "enabled" } to settings.',
  ]);
  expect(
    await violations(ecs.ecsClusterContainerInsights, ecs.ECS_CLUSTER, {
      settings: [{ name: "containerInsights", value: "disabled" }],
    }),
  ).toEqual([expect.stringContaining('settings "containerInsights" is "disabled"')]);
});

describe("container rules during preview", () => {
  // @pulumi/policy's marker for a string that is unknown during preview.
  const UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

  test.each([
    ecs.ecsTaskReadOnlyRoot,
    ecs.ecsTaskNotPrivileged,
    ecs.ecsTaskLogging,
    ecs.ecsTaskSecretsNotInEnvironment,
  ])("$name is advisory, not a parse failure, when containerDefinitions is not known yet", async (policy) => {
    const record = resource(
      "aws:ecs/taskDefinition:TaskDefinition",
      "subject",
      task({}, { containerDefinitions: UNKNOWN_STRING }),
    );
    const diagnostics = (
      await analyzeResources([record], {
        name: "opsbook",
        version: "0",
        policies: [policy],
        config: reconcileConfig([policy], "mandatory", {}),
      })
    ).filter((d) => d.policyName === policy.name);
    expect(diagnostics.map((d) => [d.enforcementLevel, d.message.startsWith("can't run")])).toEqual([
      ["advisory", true],
    ]);
  });
});

describe("ecs-rollback-timing (R-rollback-sla)", () => {
  // The ARN the offline plan's mocks give a target group named "api-tg".
  const TG_ARN = "arn:aws:lb:eu-west-1:123456789012:targetgroup/api-tg";
  const service = (extra: Record<string, unknown> = {}) =>
    resource(ecs.ECS_SERVICE, "api", {
      loadBalancers: [{ targetGroupArn: TG_ARN, containerName: "app", containerPort: 8080 }],
      healthCheckGracePeriodSeconds: 60,
      alarms: { enable: true, rollback: true, alarmNames: ["api-unhealthy", "api-errors"] },
      ...extra,
    });
  const targetGroup = (healthCheck: Record<string, unknown> = {}, deregistrationDelay = 30) =>
    resource("aws:lb/targetGroup:TargetGroup", "api-tg", {
      deregistrationDelay,
      healthCheck: { interval: 30, healthyThreshold: 2, unhealthyThreshold: 3, ...healthCheck },
    });
  const unhealthy = (evaluationPeriods = 2) =>
    resource("aws:cloudwatch/metricAlarm:MetricAlarm", "api-unhealthy", {
      name: "api-unhealthy",
      metricName: "UnHealthyHostCount",
      period: 60,
      evaluationPeriods,
    });
  const errors = (evaluationPeriods = 1) =>
    resource("aws:cloudwatch/metricAlarm:MetricAlarm", "api-errors", {
      name: "api-errors",
      evaluationPeriods,
      metricQueries: [
        { id: "errors", metric: { period: 60 } },
        { id: "rate", expression: "errors" },
      ],
    });

  test("the runbook's settings pass: 270 s to start, 420 s to complete", async () => {
    expect(outputsOf(targetGroup(), "eu-west-1").arn).toBe(TG_ARN);
    expect(await stackViolations(ecs.ecsRollbackTiming, [service(), targetGroup(), unhealthy(), errors()])).toEqual([]);
  });

  test("a slow health check fails both limits", async () => {
    const found = await stackViolations(ecs.ecsRollbackTiming, [
      service(),
      targetGroup({ interval: 60, unhealthyThreshold: 5 }),
      unhealthy(),
      errors(),
    ]);
    expect(found).toHaveLength(2);
    expect(found[0]).toMatch(
      /^api: ECS service "api": worst-case automatic rollback is 480 s to start, more than runbook 004's 300 s/,
    );
    expect(found[1]).toMatch(/690 s to complete, more than runbook 004's 600 s/);
  });

  test("AWS's default deregistration delay (300 s) makes the rollback complete too late", async () => {
    const tg = targetGroup();
    delete tg.inputs.deregistrationDelay;
    const found = await stackViolations(ecs.ecsRollbackTiming, [service(), tg, unhealthy(), errors()]);
    expect(found).toEqual([expect.stringMatching(/690 s to complete/) as unknown as string]);
  });

  test("a long error-rate trigger starts too late", async () => {
    const found = await stackViolations(ecs.ecsRollbackTiming, [service(), targetGroup(), unhealthy(), errors(5)]);
    expect(found).toEqual([expect.stringMatching(/360 s to start/) as unknown as string]);
  });
});

describe("ecs-deployment-failures-page (R-rollback-page)", () => {
  const cluster = () => resource(ecs.ECS_CLUSTER, "staging", { name: "opsbook-staging" });
  const service = () => resource(ecs.ECS_SERVICE, "api", { cluster: "opsbook-staging" });
  const rule = (pattern: Record<string, unknown>) =>
    resource("aws:cloudwatch/eventRule:EventRule", "failures", {
      name: "opsbook-staging-ecs-deployment-failed",
      eventPattern: JSON.stringify(pattern),
    });
  const target = (ruleName = "opsbook-staging-ecs-deployment-failed") =>
    resource("aws:cloudwatch/eventTarget:EventTarget", "failures", {
      rule: ruleName,
      arn: "arn:aws:sns:eu-west-1:123456789012:critical",
    });
  const FAILED = {
    source: ["aws.ecs"],
    "detail-type": ["ECS Deployment State Change"],
    resources: [{ prefix: "arn:aws:ecs:eu-west-1:123456789012:service/opsbook-staging/" }],
    detail: { eventName: ["SERVICE_DEPLOYMENT_FAILED"] },
  };

  test("a rule on failed deployments with a target passes", async () => {
    expect(
      await stackViolations(ecs.ecsDeploymentFailuresPage, [cluster(), service(), rule(FAILED), target()]),
    ).toEqual([]);
  });

  test("a cluster without services (the backup job's, on Kubernetes) needs none", async () => {
    expect(await stackViolations(ecs.ecsDeploymentFailuresPage, [cluster()])).toEqual([]);
  });

  test("a cluster with services and no such rule is a finding on the cluster", async () => {
    expect(await stackViolations(ecs.ecsDeploymentFailuresPage, [cluster(), service()])).toEqual([
      'staging: ECS cluster "staging": deployment failure page is no EventBridge rule on SERVICE_DEPLOYMENT_FAILED; ' +
        "required: an EventBridge rule on its services' ECS Deployment State Change events named SERVICE_DEPLOYMENT_FAILED, with a target (runbook 004). " +
        "Fix: declare the rule and an EventTarget to the critical SNS topic (components/monitoring/deploymentFailures.ts DeploymentFailurePage).",
    ]);
  });

  test("a rule on other events, or one nothing targets, does not page", async () => {
    const completed = { ...FAILED, detail: { eventName: ["SERVICE_DEPLOYMENT_COMPLETED"] } };
    expect(
      await stackViolations(ecs.ecsDeploymentFailuresPage, [cluster(), service(), rule(completed), target()]),
    ).toHaveLength(1);
    expect(
      await stackViolations(ecs.ecsDeploymentFailuresPage, [
        cluster(),
        service(),
        rule({ source: ["aws.ec2"] }),
        target(),
      ]),
    ).toHaveLength(1);
    expect(await stackViolations(ecs.ecsDeploymentFailuresPage, [cluster(), service(), rule(FAILED)])).toEqual([
      expect.stringContaining('deployment failure page is rule "failures" has no target') as unknown as string,
    ]);
    expect(
      await stackViolations(ecs.ecsDeploymentFailuresPage, [cluster(), service(), rule(FAILED), target("other")]),
    ).toHaveLength(1);
  });

  test("a rule on every deployment event of ECS pages for the failures too", async () => {
    const all = { source: ["aws.ecs"], "detail-type": ["ECS Deployment State Change"] };
    expect(await stackViolations(ecs.ecsDeploymentFailuresPage, [cluster(), service(), rule(all), target()])).toEqual(
      [],
    );
  });
});
