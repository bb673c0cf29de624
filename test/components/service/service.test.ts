import { Service, type ServiceArgs, DEFAULT_ROUTE_PRIORITY } from "../../../components/service/service";
import {
  type RecordedResource,
  ofType,
  one,
  policyOf,
  recordResources,
  settle,
  containersOf,
  type ContainerDefinition,
} from "../../helpers/mocks";

const healthCheck = {
  path: "/health",
  intervalSeconds: 30,
  timeoutSeconds: 10,
  healthyThreshold: 2,
  unhealthyThreshold: 3,
};

function args(overrides: Partial<ServiceArgs> = {}): ServiceArgs {
  return {
    container: {
      image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/api",
      tag: "1.4.2",
      port: 8080,
      cpu: 512,
      memory: 1024,
      environment: { LOG_LEVEL: "info" },
    },
    desiredCount: 3,
    minCount: 2,
    maxCount: 8,
    scaling: { cpuTargetPercent: 70, requestsPerTarget: 1000 },
    namePrefix: "opsbook-prod-api",
    cluster: { arn: "arn:aws:ecs:eu-west-1:123456789012:cluster/opsbook-prod", name: "opsbook-prod" },
    vpcId: "vpc-1",
    subnetIds: ["subnet-a", "subnet-b"],
    securityGroupId: "sg-app",
    loadBalancer: {
      listenerArn: "arn:listener/https",
      arnSuffix: "app/prod/abc",
      securityGroupId: "sg-alb",
      paths: ["/api/*"],
      priority: 100,
      healthCheck,
    },
    connections: [
      {
        environment: { DB_HOST: "db.internal", DB_PORT: "5432" },
        secrets: { DB_PASSWORD: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db:password::" },
        secretArns: ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:db"],
        kmsKeyArns: ["arn:aws:kms:eu-west-1:123456789012:key/db"],
      },
    ],
    rollback: {
      unhealthyForMinutes: 2,
      errorRatePercent: 10,
      errorRateForMinutes: 1,
      alarmTopicArn: "arn:aws:sns:eu-west-1:123456789012:critical",
    },
    logRetentionDays: 90,
    logKmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/logs",
    migrationCommand: ["npx", "prisma", "migrate", "deploy"],
    region: "eu-west-1",
    accountId: "123456789012",
    ...overrides,
  };
}

async function build(a: ServiceArgs = args()): Promise<RecordedResource[]> {
  const resources = await recordResources();
  new Service("api", a);
  await settle();
  return resources;
}

function containers(r: RecordedResource): ContainerDefinition[] {
  return containersOf(r);
}

describe("Service with a load balancer", () => {
  let resources: RecordedResource[];
  beforeAll(async () => {
    resources = await build();
  });

  test("runs the tagged image read-only, with settings as environment and credentials as ECS secrets", () => {
    const td = one(resources, "aws:ecs/taskDefinition:TaskDefinition", "api");
    expect(td.inputs).toMatchObject({
      family: "opsbook-prod-api",
      cpu: "512",
      memory: "1024",
      networkMode: "awsvpc",
      requiresCompatibilities: ["FARGATE"],
      executionRoleArn: "arn:aws:iam::123456789012:role/api-execution",
      taskRoleArn: "arn:aws:iam::123456789012:role/api-task",
      volumes: [{ name: "tmp" }],
    });
    expect(containers(td)).toEqual([
      {
        name: "app",
        image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/api:1.4.2",
        essential: true,
        portMappings: [{ containerPort: 8080, protocol: "tcp" }],
        environment: [
          { name: "DB_HOST", value: "db.internal" },
          { name: "DB_PORT", value: "5432" },
          { name: "LOG_LEVEL", value: "info" },
        ],
        secrets: [
          { name: "DB_PASSWORD", valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db:password::" },
        ],
        readonlyRootFilesystem: true,
        mountPoints: [{ sourceVolume: "tmp", containerPath: "/tmp", readOnly: false }],
        linuxParameters: { initProcessEnabled: true },
        logConfiguration: {
          logDriver: "awslogs",
          options: {
            "awslogs-group": "/opsbook/opsbook-prod-api",
            "awslogs-region": "eu-west-1",
            "awslogs-stream-prefix": "app",
          },
        },
      },
    ]);
    expect(JSON.stringify(containers(td))).not.toContain("privileged");
  });

  test("deploys with full capacity kept, the circuit breaker and both rollback alarms, and waits for steady state", () => {
    const svc = one(resources, "aws:ecs/service:Service", "api");
    expect(svc.inputs).toMatchObject({
      name: "opsbook-prod-api",
      cluster: "arn:aws:ecs:eu-west-1:123456789012:cluster/opsbook-prod",
      taskDefinition: "arn:aws:ecs:eu-west-1:123456789012:taskdefinition/api",
      launchType: "FARGATE",
      desiredCount: 3,
      networkConfiguration: { subnets: ["subnet-a", "subnet-b"], securityGroups: ["sg-app"], assignPublicIp: false },
      loadBalancers: [
        {
          targetGroupArn: "arn:aws:lb:eu-west-1:123456789012:targetgroup/api",
          containerName: "app",
          containerPort: 8080,
        },
      ],
      deploymentMinimumHealthyPercent: 100,
      deploymentMaximumPercent: 200,
      deploymentCircuitBreaker: { enable: true, rollback: true },
      alarms: {
        enable: true,
        rollback: true,
        alarmNames: ["opsbook-prod-api-rollback-unhealthy-targets", "opsbook-prod-api-rollback-error-rate"],
      },
      waitForSteadyState: true,
    });
    expect(svc.ignoreChanges).toEqual(["desiredCount"]);
  });

  test("health-checks targets at the runbook values and drains them quickly", () => {
    expect(one(resources, "aws:lb/targetGroup:TargetGroup", "api").inputs).toMatchObject({
      vpcId: "vpc-1",
      port: 8080,
      protocol: "HTTP",
      targetType: "ip",
      deregistrationDelay: 30,
      healthCheck: {
        enabled: true,
        path: "/health",
        interval: 30,
        timeout: 10,
        healthyThreshold: 2,
        unhealthyThreshold: 3,
        matcher: "200-299",
      },
    });
  });

  test("claims its paths on the HTTPS listener", () => {
    expect(one(resources, "aws:lb/listenerRule:ListenerRule", "api").inputs).toEqual({
      listenerArn: "arn:listener/https",
      priority: 100,
      actions: [{ type: "forward", targetGroupArn: "arn:aws:lb:eu-west-1:123456789012:targetgroup/api" }],
      conditions: [{ pathPattern: { values: ["/api/*"] } }],
    });
  });

  test("lets only the load balancer reach the container port", () => {
    expect(one(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "api-from-alb").inputs).toEqual({
      securityGroupId: "sg-app",
      referencedSecurityGroupId: "sg-alb",
      ipProtocol: "tcp",
      fromPort: 8080,
      toPort: 8080,
      description: "opsbook-prod-api from the load balancer",
    });
    expect(
      one(resources, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "api-alb-to-app").inputs,
    ).toMatchObject({ securityGroupId: "sg-alb", referencedSecurityGroupId: "sg-app", fromPort: 8080, toPort: 8080 });
  });

  test("rolls back on unhealthy targets for 2 minutes and on more than 10 % errors for 1 minute", () => {
    const dims = { LoadBalancer: "app/prod/abc", TargetGroup: "targetgroup/api/mock" };
    expect(one(resources, "aws:cloudwatch/metricAlarm:MetricAlarm", "api-rollback-unhealthy").inputs).toMatchObject({
      name: "opsbook-prod-api-rollback-unhealthy-targets",
      namespace: "AWS/ApplicationELB",
      metricName: "UnHealthyHostCount",
      dimensions: dims,
      statistic: "Maximum",
      period: 60,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
      treatMissingData: "notBreaching",
      alarmActions: ["arn:aws:sns:eu-west-1:123456789012:critical"],
      okActions: ["arn:aws:sns:eu-west-1:123456789012:critical"],
    });
    const errors = one(resources, "aws:cloudwatch/metricAlarm:MetricAlarm", "api-rollback-error-rate").inputs;
    expect(errors).toMatchObject({
      name: "opsbook-prod-api-rollback-error-rate",
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      threshold: 10,
      comparisonOperator: "GreaterThanThreshold",
      alarmActions: ["arn:aws:sns:eu-west-1:123456789012:critical"],
    });
    expect(errors.metricQueries).toEqual([
      {
        id: "errors",
        metric: {
          namespace: "AWS/ApplicationELB",
          metricName: "HTTPCode_Target_5XX_Count",
          dimensions: dims,
          stat: "Sum",
          period: 60,
        },
      },
      {
        id: "requests",
        metric: {
          namespace: "AWS/ApplicationELB",
          metricName: "RequestCount",
          dimensions: dims,
          stat: "Sum",
          period: 60,
        },
      },
      {
        id: "rate",
        expression: "IF(requests > 0, 100 * errors / requests, 0)",
        label: "5xx rate (%)",
        returnData: true,
      },
    ]);
  });

  test("scales between min and max on CPU and on requests per target", () => {
    expect(one(resources, "aws:appautoscaling/target:Target", "api").inputs).toEqual({
      serviceNamespace: "ecs",
      scalableDimension: "ecs:service:DesiredCount",
      resourceId: "service/opsbook-prod/opsbook-prod-api",
      minCapacity: 2,
      maxCapacity: 8,
    });
    expect(
      one(resources, "aws:appautoscaling/policy:Policy", "api-cpu").inputs.targetTrackingScalingPolicyConfiguration,
    ).toEqual({
      predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
      targetValue: 70,
      scaleOutCooldown: 60,
      scaleInCooldown: 300,
    });
    expect(
      one(resources, "aws:appautoscaling/policy:Policy", "api-requests").inputs
        .targetTrackingScalingPolicyConfiguration,
    ).toMatchObject({
      predefinedMetricSpecification: {
        predefinedMetricType: "ALBRequestCountPerTarget",
        resourceLabel: "app/prod/abc/targetgroup/api/mock",
      },
      targetValue: 1000,
    });
  });

  test("gives the execution role exactly the pulls, logs, secrets and keys it needs, and the task role nothing", () => {
    expect(policyOf(one(resources, "aws:iam/rolePolicy:RolePolicy", "api-execution")).Statement).toEqual([
      {
        Sid: "WriteLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: "arn:aws:logs:eu-west-1:123456789012:log-group:api:*",
      },
      { Sid: "EcrLogin", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
      {
        Sid: "PullImage",
        Effect: "Allow",
        Action: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
        Resource: "arn:aws:ecr:eu-west-1:123456789012:repository/shop/api",
      },
      {
        Sid: "ReadInjectedSecrets",
        Effect: "Allow",
        Action: "secretsmanager:GetSecretValue",
        Resource: ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:db"],
      },
      {
        Sid: "DecryptInjectedSecrets",
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: ["arn:aws:kms:eu-west-1:123456789012:key/db"],
        Condition: { StringEquals: { "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com" } },
      },
    ]);
    // The migration task's execution role is its own (R-db-roles).
    expect(ofType(resources, "aws:iam/rolePolicy:RolePolicy").map((p) => p.name)).toEqual([
      "api-execution",
      "api-migrate-execution",
    ]);
    for (const role of ["api-execution", "api-task"]) {
      expect(policyOf(one(resources, "aws:iam/role:Role", role), "assumeRolePolicy").Statement).toEqual([
        {
          Effect: "Allow",
          Principal: { Service: "ecs-tasks.amazonaws.com" },
          Action: "sts:AssumeRole",
          Condition: { StringEquals: { "aws:SourceAccount": "123456789012" } },
        },
      ]);
    }
  });

  test("keeps logs encrypted for the configured days", () => {
    expect(one(resources, "aws:cloudwatch/logGroup:LogGroup", "api").inputs).toEqual({
      name: "/opsbook/opsbook-prod-api",
      retentionInDays: 90,
      kmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/logs",
    });
  });

  test("declares a migration task with the same image, settings and roles, and the migration command", () => {
    const td = one(resources, "aws:ecs/taskDefinition:TaskDefinition", "api-migrate");
    expect(td.inputs.family).toBe("opsbook-prod-api-migrate");
    const [c] = containers(td);
    expect(c).toMatchObject({
      image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/api:1.4.2",
      command: ["npx", "prisma", "migrate", "deploy"],
      readonlyRootFilesystem: true,
    });
    expect(c!.portMappings).toBeUndefined();
    expect(c!.secrets).toEqual(containers(one(resources, "aws:ecs/taskDefinition:TaskDefinition", "api"))[0]!.secrets);
    expect(td.inputs.executionRoleArn).toBe("arn:aws:iam::123456789012:role/api-migrate-execution");
  });

  test("the migration task gets only its own connections, and its execution role reads only their secrets (R-db-roles)", async () => {
    const migrate = {
      environment: { DB_HOST: "db.internal" },
      secrets: { DATABASE_URL: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:migrate:url::" },
      secretArns: ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:migrate"],
      kmsKeyArns: ["arn:aws:kms:eu-west-1:123456789012:key/db"],
    };
    const resources = await build(args({ migrationConnections: [migrate] }));
    const [c] = containers(one(resources, "aws:ecs/taskDefinition:TaskDefinition", "api-migrate"));
    expect(c!.secrets).toEqual([
      { name: "DATABASE_URL", valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:migrate:url::" },
    ]);
    // The service's own plain settings still apply; no connection but its own.
    expect(c!.environment).toEqual([
      { name: "DB_HOST", value: "db.internal" },
      { name: "LOG_LEVEL", value: "info" },
    ]);
    const read = (name: string) =>
      policyOf(one(resources, "aws:iam/rolePolicy:RolePolicy", name)).Statement.find(
        (st) => st.Sid === "ReadInjectedSecrets",
      )?.Resource;
    expect(read("api-migrate-execution")).toEqual(["arn:aws:secretsmanager:eu-west-1:123456789012:secret:migrate"]);
    expect(read("api-execution")).toEqual(["arn:aws:secretsmanager:eu-west-1:123456789012:secret:db"]);
  });
});

describe("Service variants", () => {
  test("the default service takes the catch-all rule, evaluated last", async () => {
    const resources = await build(args({ loadBalancer: { ...args().loadBalancer!, paths: [] } }));
    expect(one(resources, "aws:lb/listenerRule:ListenerRule", "api").inputs).toMatchObject({
      priority: DEFAULT_ROUTE_PRIORITY,
      conditions: [{ pathPattern: { values: ["/*"] } }],
    });
  });

  test("a service can claim host names, alone or together with paths", async () => {
    const resources = await build(args({ loadBalancer: { ...args().loadBalancer!, hosts: ["admin.example.com"] } }));
    expect(one(resources, "aws:lb/listenerRule:ListenerRule", "api").inputs).toMatchObject({
      priority: 100,
      conditions: [{ hostHeader: { values: ["admin.example.com"] } }, { pathPattern: { values: ["/api/*"] } }],
    });
  });

  test("a worker gets no target group, rule, rollback alarms or request scaling, and pulls public images without ECR grants", async () => {
    const resources = await build(
      args({
        container: { ...args().container, image: "public.example.com/worker", port: undefined },
        loadBalancer: undefined,
        migrationCommand: undefined,
      }),
    );
    expect(ofType(resources, "aws:lb/targetGroup:TargetGroup")).toEqual([]);
    expect(ofType(resources, "aws:cloudwatch/metricAlarm:MetricAlarm")).toEqual([]);
    expect(ofType(resources, "aws:appautoscaling/policy:Policy").map((p) => p.name)).toEqual(["api-cpu"]);
    expect(ofType(resources, "aws:ecs/taskDefinition:TaskDefinition").map((t) => t.name)).toEqual(["api"]);
    const svc = one(resources, "aws:ecs/service:Service", "api").inputs;
    expect(svc.loadBalancers).toBeUndefined();
    expect(svc.alarms).toBeUndefined();
    expect(svc.deploymentCircuitBreaker).toEqual({ enable: true, rollback: true });
    const sids = policyOf(one(resources, "aws:iam/rolePolicy:RolePolicy", "api-execution")).Statement.map((s) => s.Sid);
    expect(sids).toEqual(["WriteLogs", "ReadInjectedSecrets", "DecryptInjectedSecrets"]);
  });

  test.each<[string, Partial<ServiceArgs>, string]>([
    [
      "a port without a load balancer",
      { loadBalancer: undefined },
      "a service with port 8080 needs a loadBalancer to receive traffic from",
    ],
  ])("rejects %s", async (_, overrides, message) => {
    await recordResources();
    expect(() => new Service("bad", args(overrides))).toThrow(message);
  });
});
