import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  ROLLBACK_ALARM_PERIOD_SECONDS,
  rollbackAlarms,
  type RollbackAlarmSet,
  type RollbackTriggers,
} from "../monitoring/rollbackAlarms";
import { rollbackTiming, type RollbackTiming } from "../../lib/rollbackTiming";
import type { ServiceConnection } from "../../lib/connection";
import type { HealthCheckSettings, ServiceSettings } from "./settings";
import { containerSettings, ecsTaskRole, executionRole, type PullRepository } from "./taskRoles";

/**
 * What runs: one container per task (the container keys of a service's settings), from `image`
 * (without the tag: the configured one, or the stack's repository URL) at `tag`.
 */
export type ContainerSpec = Pick<ServiceSettings, "tag" | "port" | "command" | "cpu" | "memory" | "environment"> & {
  image: pulumi.Input<string>;
  /** The stack's ECR repository the image is pulled from, when it is one (R-security-least-privilege). */
  repository?: PullRepository;
};

/** The load balancer health check (`opsbook:healthCheck`, with the service's own path). */
export type HealthCheckSpec = HealthCheckSettings;

/**
 * A service's settings (./settings.ts checked them: Fargate size, counts, routes), reshaped for the
 * component, plus the wiring from the stack.
 */
/** The one-off migration task and how to start it. */
export interface MigrationTask {
  taskDefinitionArn: pulumi.Output<string>;
  /** The task definition's family: ECS DescribeTaskDefinition by family finds its newest revision. */
  family: pulumi.Output<string>;
  /** The resource's URN: `pulumi up --target` updates only it before the migrations run (R-deploy-migrations). */
  taskDefinitionUrn: pulumi.Output<string>;
  cluster: pulumi.Input<string>;
  subnets: pulumi.Output<string[]>;
  securityGroups: pulumi.Input<string>[];
  launchType: "FARGATE";
  /** The container whose exit code says whether the migrations succeeded. */
  containerName: string;
  /** Where its output goes: the stream is `<logStreamPrefix>/<containerName>/<task id>` (awslogs). */
  logGroup: pulumi.Output<string>;
  logStreamPrefix: string;
  /** The `aws ecs run-task` command line, for an operator. */
  command: pulumi.Output<string>;
}

function migrationTask(
  taskDefinition: aws.ecs.TaskDefinition,
  logGroup: aws.cloudwatch.LogGroup,
  args: ServiceArgs,
): MigrationTask {
  const taskDefinitionArn = taskDefinition.arn;
  const subnets = pulumi.output(args.subnetIds);
  const securityGroup = args.securityGroupId;
  return {
    taskDefinitionArn,
    family: taskDefinition.family,
    taskDefinitionUrn: taskDefinition.urn,
    cluster: args.cluster.name,
    subnets,
    securityGroups: [securityGroup],
    launchType: "FARGATE",
    containerName: CONTAINER_NAME,
    logGroup: logGroup.name,
    logStreamPrefix: "task",
    command: pulumi.interpolate`aws ecs run-task --cluster ${args.cluster.name} --task-definition ${taskDefinitionArn} --launch-type FARGATE --network-configuration 'awsvpcConfiguration={subnets=[${subnets.apply((s) => s.join(","))}],securityGroups=[${securityGroup}],assignPublicIp=DISABLED}'`,
  };
}

export interface ServiceArgs {
  container: ContainerSpec;
  /** Tasks at first deploy; autoscaling keeps the count between `minCount` and `maxCount` after. */
  desiredCount: ServiceSettings["desiredCount"];
  minCount: ServiceSettings["minCount"];
  maxCount: ServiceSettings["maxCount"];
  scaling: ServiceSettings["scaling"];
  /** Alarm and log names start with this, e.g. `opsbook-production-api`. */
  namePrefix: string;
  cluster: { arn: pulumi.Input<string>; name: pulumi.Input<string> };
  vpcId: pulumi.Input<string>;
  /** Private subnets: tasks get no public address. */
  subnetIds: pulumi.Input<string>[];
  /** The app tier's security group. */
  securityGroupId: pulumi.Input<string>;
  /** Load balancer to receive traffic from; required when the container has a port. */
  loadBalancer?: {
    listenerArn: pulumi.Input<string>;
    arnSuffix: pulumi.Input<string>;
    securityGroupId: pulumi.Input<string>;
    /** Path patterns to claim; with no hosts either, this is the default service (the last rule, "/*"). */
    paths: string[];
    /** Host names to claim; with paths, a request must match both. @default [] */
    hosts?: string[];
    /** Listener rule priority for the paths; lower is evaluated first. */
    priority: number;
    healthCheck: HealthCheckSpec;
  };
  /** Backing stores and app secrets, injected as environment variables and ECS secrets. */
  connections: ServiceConnection[];
  /** Roll deploys back on these triggers, and tell this topic. */
  rollback: RollbackTriggers & { alarmTopicArn: pulumi.Input<string> };
  logRetentionDays: number;
  logKmsKeyArn: pulumi.Input<string>;
  /** Command of a one-off migration task with the same image and settings; none declares no task. */
  migrationCommand?: string[];
  /**
   * What the migration task connects with: the migration role's connection (R-db-roles), under
   * the service's own variable names. It has its own execution role, reading only these secrets.
   * @default the service's `connections`
   */
  migrationConnections?: ServiceConnection[];
  region: string;
  accountId: pulumi.Input<string>;
}

/** Time a new task has to pass its first load balancer health checks. */
export const HEALTH_CHECK_GRACE_SECONDS = 60;
/** Long enough for in-flight requests to finish, short enough that deploys and rollbacks stay quick. */
export const DEREGISTRATION_DELAY_SECONDS = 30;

/** Last listener rule priority: the default service's catch-all. */
export const DEFAULT_ROUTE_PRIORITY = 50000;
/** The one container of every task definition. */
export const CONTAINER_NAME = "app";

/** How the load balancer reaches a service: what `opsbook deploy` needs to request its health path (R-deploy-verify). */
export interface ServiceRouting {
  paths: string[];
  hosts: string[];
  /** The listener rule's priority: lower is evaluated first. */
  priority: number;
  healthCheckPath: string;
}

/**
 * One app service on Fargate: a task definition whose container runs with a read-only root file
 * system, no public address and secrets from Secrets Manager; a load-balanced ECS service whose
 * deploys keep full capacity and roll back by themselves on the runbook's triggers; autoscaling on
 * CPU and requests. Cost: the tasks' vCPU and memory hours, and their logs.
 */
export class Service extends pulumi.ComponentResource {
  /** The ECS service. */
  readonly ecsService: aws.ecs.Service;
  readonly taskDefinition: aws.ecs.TaskDefinition;
  readonly migrationTaskDefinition?: aws.ecs.TaskDefinition;
  /** What `aws ecs run-task` needs to run the migrations before the services roll, and that command. */
  readonly migration?: MigrationTask;
  /** The listener rule's conditions and the health path; load-balanced services only. */
  readonly routing?: ServiceRouting;
  readonly targetGroup?: aws.lb.TargetGroup;
  readonly rollbackAlarms?: RollbackAlarmSet;
  /** Worst-case start and end of an automatic rollback (R-rollback-sla); load-balanced services only. */
  readonly rollbackTiming?: RollbackTiming;
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly executionRole: aws.iam.Role;
  readonly taskRole: aws.iam.Role;
  /** The service's name in the stack config (this component's name). */
  readonly appName: string;

  constructor(name: string, args: ServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("opsbook:service:Service", name, {}, opts);
    this.appName = name;
    this.validate(args);
    const c = args.container;

    this.logGroup = new aws.cloudwatch.LogGroup(
      `${name}`,
      { name: `/opsbook/${args.namePrefix}`, retentionInDays: args.logRetentionDays, kmsKeyId: args.logKmsKeyArn },
      { parent: this },
    );
    const execution = executionRole(
      `${name}-execution`,
      {
        image: c.image,
        repository: c.repository,
        logGroupArn: this.logGroup.arn,
        connections: args.connections,
        region: args.region,
        accountId: args.accountId,
      },
      this,
    );
    this.executionRole = execution.role;
    this.taskRole = ecsTaskRole(`${name}-task`, args.accountId, this);
    const service = containerSettings(args.connections, c.environment);
    const container = (
      command: string[] | undefined,
      withPort: boolean,
      { environment, secrets }: ReturnType<typeof containerSettings>,
    ) => ({
      name: CONTAINER_NAME,
      image: pulumi.interpolate`${c.image}:${c.tag}`,
      essential: true,
      ...(command ? { command } : {}),
      ...(withPort && c.port !== undefined ? { portMappings: [{ containerPort: c.port, protocol: "tcp" }] } : {}),
      environment,
      secrets,
      readonlyRootFilesystem: true,
      // The root file system is read-only; /tmp is the one writable place.
      mountPoints: [{ sourceVolume: "tmp", containerPath: "/tmp", readOnly: false }],
      linuxParameters: { initProcessEnabled: true },
      logConfiguration: {
        logDriver: "awslogs",
        options: {
          "awslogs-group": this.logGroup.name,
          "awslogs-region": args.region,
          "awslogs-stream-prefix": withPort ? "app" : "task",
        },
      },
    });
    const taskDefinition = (
      suffix: string,
      command: string[] | undefined,
      withPort: boolean,
      settings: ReturnType<typeof containerSettings>,
      executionRoleArn: pulumi.Input<string>,
    ) =>
      new aws.ecs.TaskDefinition(
        `${name}${suffix}`,
        {
          family: `${args.namePrefix}${suffix}`,
          cpu: String(c.cpu),
          memory: String(c.memory),
          networkMode: "awsvpc",
          requiresCompatibilities: ["FARGATE"],
          runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
          executionRoleArn,
          taskRoleArn: this.taskRole.arn,
          volumes: [{ name: "tmp" }],
          containerDefinitions: pulumi.jsonStringify([container(command, withPort, settings)]),
        },
        { parent: this },
      );
    this.taskDefinition = taskDefinition("", c.command, true, service, this.executionRole.arn);
    if (args.migrationCommand) {
      const connections = args.migrationConnections ?? args.connections;
      const migrationExecution = executionRole(
        `${name}-migrate-execution`,
        {
          image: c.image,
          repository: c.repository,
          logGroupArn: this.logGroup.arn,
          connections,
          region: args.region,
          accountId: args.accountId,
        },
        this,
      );
      this.migrationTaskDefinition = taskDefinition(
        "-migrate",
        args.migrationCommand,
        false,
        containerSettings(connections, c.environment),
        migrationExecution.role.arn,
      );
      this.migration = migrationTask(this.migrationTaskDefinition, this.logGroup, args);
    }

    const listener = args.loadBalancer;
    // ECS refuses a target group no listener uses, and tasks fail while their role has no policy yet.
    const startAfter: pulumi.Resource[] = [execution.policy];
    if (listener && c.port !== undefined) {
      const routing = this.createRouting(name, args, listener, c.port);
      const hosts = listener.hosts ?? [];
      this.routing = {
        paths: listener.paths,
        hosts,
        priority: listener.paths.length === 0 && hosts.length === 0 ? DEFAULT_ROUTE_PRIORITY : listener.priority,
        healthCheckPath: listener.healthCheck.path,
      };
      this.targetGroup = routing.targetGroup;
      startAfter.push(...routing.dependents);
      this.rollbackAlarms = rollbackAlarms(
        name,
        {
          namePrefix: args.namePrefix,
          loadBalancerArnSuffix: listener.arnSuffix,
          targetGroupArnSuffix: this.targetGroup.arnSuffix,
          actionArn: args.rollback.alarmTopicArn,
          ...args.rollback,
        },
        this,
      );
      this.rollbackTiming = rollbackTiming({
        healthCheck: listener.healthCheck,
        rollback: args.rollback,
        alarmPeriodSeconds: ROLLBACK_ALARM_PERIOD_SECONDS,
        healthCheckGracePeriodSeconds: HEALTH_CHECK_GRACE_SECONDS,
        deregistrationDelaySeconds: DEREGISTRATION_DELAY_SECONDS,
      });
    }

    this.ecsService = new aws.ecs.Service(
      `${name}`,
      {
        name: args.namePrefix,
        cluster: args.cluster.arn,
        taskDefinition: this.taskDefinition.arn,
        launchType: "FARGATE",
        platformVersion: "LATEST",
        desiredCount: args.desiredCount,
        networkConfiguration: {
          subnets: args.subnetIds,
          securityGroups: [args.securityGroupId],
          assignPublicIp: false,
        },
        ...(this.targetGroup && c.port !== undefined
          ? {
              loadBalancers: [
                { targetGroupArn: this.targetGroup.arn, containerName: CONTAINER_NAME, containerPort: c.port },
              ],
              healthCheckGracePeriodSeconds: HEALTH_CHECK_GRACE_SECONDS,
            }
          : {}),
        // Rolling deploys never drop below full capacity, and undo themselves when tasks fail to start.
        deploymentMinimumHealthyPercent: 100,
        deploymentMaximumPercent: 200,
        deploymentCircuitBreaker: { enable: true, rollback: true },
        ...(this.rollbackAlarms
          ? { alarms: { enable: true, rollback: true, alarmNames: this.rollbackAlarms.names } }
          : {}),
        // `pulumi up` returns only once the deploy is stable, so a failed deploy fails the update.
        waitForSteadyState: true,
        propagateTags: "SERVICE",
        enableEcsManagedTags: true,
      },
      // Autoscaling owns the running count once the service exists.
      {
        parent: this,
        ignoreChanges: ["desiredCount"],
        dependsOn: [
          ...startAfter,
          ...(this.rollbackAlarms ? [this.rollbackAlarms.unhealthy, this.rollbackAlarms.errorRate] : []),
        ],
      },
    );

    this.createAutoscaling(name, args, listener);
    this.registerOutputs({ serviceName: this.ecsService.name, taskDefinitionArn: this.taskDefinition.arn });
  }

  private validate(args: ServiceArgs): void {
    // The settings schema checked sizes, counts and routes; what it cannot see is the wiring.
    const c = args.container;
    const fail = (message: string) => {
      throw new pulumi.ResourceError(message, this);
    };
    if (c.port !== undefined && !args.loadBalancer)
      fail(`a service with port ${c.port} needs a loadBalancer to receive traffic from`);
    if (args.subnetIds.length === 0) fail("subnetIds is empty: tasks need private subnets");
  }

  private createRouting(
    name: string,
    args: ServiceArgs,
    listener: NonNullable<ServiceArgs["loadBalancer"]>,
    port: number,
  ): { targetGroup: aws.lb.TargetGroup; dependents: pulumi.Resource[] } {
    const healthCheck = listener.healthCheck;
    const targetGroup = new aws.lb.TargetGroup(
      `${name}`,
      {
        vpcId: args.vpcId,
        port,
        protocol: "HTTP",
        targetType: "ip",
        deregistrationDelay: DEREGISTRATION_DELAY_SECONDS,
        healthCheck: {
          enabled: true,
          path: healthCheck.path,
          protocol: "HTTP",
          port: "traffic-port",
          matcher: "200-299",
          interval: healthCheck.intervalSeconds,
          timeout: healthCheck.timeoutSeconds,
          healthyThreshold: healthCheck.healthyThreshold,
          unhealthyThreshold: healthCheck.unhealthyThreshold,
        },
      },
      { parent: this },
    );
    const hosts = listener.hosts ?? [];
    const isDefault = listener.paths.length === 0 && hosts.length === 0;
    const conditions = isDefault
      ? [{ pathPattern: { values: ["/*"] } }]
      : [
          ...(hosts.length > 0 ? [{ hostHeader: { values: hosts } }] : []),
          ...(listener.paths.length > 0 ? [{ pathPattern: { values: listener.paths } }] : []),
        ];
    const rule = new aws.lb.ListenerRule(
      `${name}`,
      {
        listenerArn: listener.listenerArn,
        priority: isDefault ? DEFAULT_ROUTE_PRIORITY : listener.priority,
        actions: [{ type: "forward", targetGroupArn: targetGroup.arn }],
        conditions,
      },
      { parent: this },
    );
    // Only the load balancer reaches the container port, and it reaches nothing else in the app tier.
    const ingress = new aws.vpc.SecurityGroupIngressRule(
      `${name}-from-alb`,
      {
        securityGroupId: args.securityGroupId,
        referencedSecurityGroupId: listener.securityGroupId,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        description: `${args.namePrefix} from the load balancer`,
      },
      { parent: this },
    );
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-alb-to-app`,
      {
        securityGroupId: listener.securityGroupId,
        referencedSecurityGroupId: args.securityGroupId,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        description: `Load balancer to ${args.namePrefix}`,
      },
      { parent: this },
    );
    return { targetGroup, dependents: [rule, ingress] };
  }

  private createAutoscaling(name: string, args: ServiceArgs, listener: ServiceArgs["loadBalancer"]): void {
    const target = new aws.appautoscaling.Target(
      `${name}`,
      {
        serviceNamespace: "ecs",
        scalableDimension: "ecs:service:DesiredCount",
        resourceId: pulumi.interpolate`service/${args.cluster.name}/${this.ecsService.name}`,
        minCapacity: args.minCount,
        maxCapacity: args.maxCount,
      },
      { parent: this },
    );
    const policy = (
      suffix: string,
      metric: aws.types.input.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification,
      value: number,
    ) =>
      new aws.appautoscaling.Policy(
        `${name}-${suffix}`,
        {
          policyType: "TargetTrackingScaling",
          serviceNamespace: target.serviceNamespace,
          scalableDimension: target.scalableDimension,
          resourceId: target.resourceId,
          targetTrackingScalingPolicyConfiguration: {
            predefinedMetricSpecification: metric,
            targetValue: value,
            scaleOutCooldown: 60,
            scaleInCooldown: 300,
          },
        },
        { parent: this },
      );
    policy("cpu", { predefinedMetricType: "ECSServiceAverageCPUUtilization" }, args.scaling.cpuTargetPercent);
    if (listener && this.targetGroup) {
      policy(
        "requests",
        {
          predefinedMetricType: "ALBRequestCountPerTarget",
          resourceLabel: pulumi.interpolate`${listener.arnSuffix}/${this.targetGroup.arnSuffix}`,
        },
        args.scaling.requestsPerTarget,
      );
    }
  }
}
