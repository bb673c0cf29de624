/**
 * ECS on Fargate: containers locked down and logging, secrets only from Secrets Manager, tasks
 * without public addresses, clusters with Container Insights, and deployments that roll back by
 * themselves (R-rollback-auto).
 */
import type * as aws from "@pulumi/aws";
import type { Unwrap } from "@pulumi/pulumi";
import { DEFAULT_ENTROPY, credentialLike, isCredentialName } from "../../lib/credentials";
import { rollbackTiming, rollbackTimingProblems, ROLLBACK_LIMITS } from "../../lib/rollbackTiming";
import {
  type OpsbookPolicy,
  type Subject,
  asList,
  idSet,
  message,
  ofTypes,
  policyDocument,
  resourceRule,
  show,
  stackRule,
} from "./common";

export const TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition";
export const ECS_SERVICE = "aws:ecs/service:Service";
export const ECS_CLUSTER = "aws:ecs/cluster:Cluster";

type TaskDefinition = Unwrap<aws.ecs.TaskDefinitionArgs>;
type Service = Unwrap<aws.ecs.ServiceArgs>;
type Cluster = Unwrap<aws.ecs.ClusterArgs>;

/** The parts of an ECS container definition the rules read. */
export interface ContainerDefinition {
  name?: string;
  image?: string;
  /** "uid", "uid:gid", "user" or "user:group"; unset runs as the image's USER. */
  user?: string;
  linuxParameters?: { capabilities?: { add?: string[]; drop?: string[] } };
  readonlyRootFilesystem?: boolean;
  privileged?: boolean;
  logConfiguration?: { logDriver?: string };
  environment?: Array<{ name?: string; value?: string }>;
  secrets?: Array<{ name?: string; valueFrom?: string }>;
}

export const DEFINITIONS_PREVIEW =
  "containerDefinitions built from values created in the same update (image URIs, secret ARNs, log groups) are unknown; the engine then reports this rule as advisory until the update.";

/**
 * Runs `check` on every container of a task definition; an unparsable `containerDefinitions`
 * is itself reported, since ECS would reject it.
 */
export function eachContainer(
  subject: Subject<TaskDefinition>,
  check: (container: ContainerDefinition, label: string) => void,
): void {
  // Read outside the try: at preview time an unknown value throws here, and the engine must see that
  // error to report the rule as advisory, not a parse failure.
  const raw = subject.props.containerDefinitions;
  let parsed: unknown;
  try {
    parsed = typeof raw === "string" ? JSON.parse(raw) : raw;
  } catch {
    subject.report(
      "containerDefinitions",
      "not valid JSON",
      "a JSON list of container definitions",
      "build containerDefinitions with pulumi.jsonStringify",
    );
    return;
  }
  if (!Array.isArray(parsed)) {
    subject.report(
      "containerDefinitions",
      show(parsed),
      "a JSON list of container definitions",
      "build containerDefinitions with pulumi.jsonStringify([...])",
    );
    return;
  }
  parsed.forEach((c: ContainerDefinition, i) => check(c, `container ${show(c?.name ?? `#${i}`)}`));
}

export function taskRule<C = Record<string, never>>(
  meta: Omit<Parameters<typeof resourceRule<TaskDefinition, C>>[0], "types" | "kind">,
): OpsbookPolicy {
  return resourceRule<TaskDefinition, C>({ ...meta, types: [TASK_DEFINITION], kind: "ECS task definition" });
}

export const ecsTaskReadOnlyRoot = taskRule({
  name: "ecs-task-read-only-root",
  description: "Every container runs with a read-only root filesystem; writable paths are volumes.",
  enforcementLevel: "mandatory",
  severity: "medium",
  sources: ["CKV_AWS_336", "ECS.5"],
  preview: DEFINITIONS_PREVIEW,
  remediationSteps:
    "Set readonlyRootFilesystem: true on each container and mount a task volume at each path the app writes (/tmp, caches).",
  check: (subject) =>
    eachContainer(subject, (c, label) => {
      if (c.readonlyRootFilesystem !== true)
        subject.report(
          `${label} readonlyRootFilesystem`,
          show(c.readonlyRootFilesystem),
          "true",
          "set readonlyRootFilesystem: true and mount a volume (with a mountPoint) at each writable path",
        );
    }),
});

export const ecsTaskNotPrivileged = taskRule({
  name: "ecs-task-not-privileged",
  description: "No container runs privileged.",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["ECS.4"],
  preview: DEFINITIONS_PREVIEW,
  remediationSteps:
    "Remove privileged: true from the container definition; grant specific Linux capabilities only if a container needs them.",
  check: (subject) =>
    eachContainer(subject, (c, label) => {
      if (c.privileged === true)
        subject.report(`${label} privileged`, "true", "false or unset", "remove privileged: true");
    }),
});

export const ecsTaskLogging = taskRule<{ allowedLogDrivers: string[] }>({
  name: "ecs-task-logging",
  description: "Every container sends its output to a configured log driver (CloudWatch Logs by default).",
  enforcementLevel: "mandatory",
  severity: "medium",
  sources: ["ECS.9"],
  preview: DEFINITIONS_PREVIEW,
  remediationSteps:
    'Set logConfiguration: { logDriver: "awslogs", options: { awslogs-group, awslogs-region, awslogs-stream-prefix } } on each container.',
  config: {
    allowedLogDrivers: {
      type: "array",
      items: { type: "string" },
      default: ["awslogs"],
      description: "Log drivers a container may use.",
    },
  },
  check: (subject, config) =>
    eachContainer(subject, (c, label) => {
      const driver = c.logConfiguration?.logDriver;
      if (driver === undefined || !config.allowedLogDrivers.includes(driver)) {
        subject.report(
          `${label} logConfiguration.logDriver`,
          show(driver),
          `one of ${show(config.allowedLogDrivers)}`,
          'set logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": <the service log group>, "awslogs-region": <region>, "awslogs-stream-prefix": <service> } }',
        );
      }
    }),
});

export const ecsTaskSecretsNotInEnvironment = taskRule<{
  secretNamePattern: string;
  minimumEntropyLength: number;
  minimumEntropyBitsPerCharacter: number;
}>({
  name: "ecs-task-secrets-not-in-environment",
  description:
    "No container receives a secret as a plain environment variable, recognised by its name or by its value (key and token shapes, URLs with a password, random-looking tokens) with the detector the stack config uses (lib/credentials.ts); secrets come from Secrets Manager through `secrets`.",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["ECS.8", "runbook 003"], // R-secret-storage
  preview: DEFINITIONS_PREVIEW,
  remediationSteps:
    "Move the variable from environment to secrets: [{ name, valueFrom: <Secrets Manager secret ARN> }] and let the execution role read that secret.",
  config: {
    secretNamePattern: {
      type: "string",
      default: "(^|_)(DATABASE|REDIS)_URL$",
      description:
        "Regular expression (case-insensitive) for secret names beyond the credential names the config refuses (*_PASSWORD, *_TOKEN, *_SECRET, *_API_KEY, ...): by default the connection URLs the platform passes as secrets.",
    },
    minimumEntropyLength: {
      type: "integer",
      minimum: 8,
      default: DEFAULT_ENTROPY.minimumLength,
      description: "Shortest value counted as a random-looking token.",
    },
    minimumEntropyBitsPerCharacter: {
      type: "number",
      minimum: 1,
      maximum: 6,
      default: DEFAULT_ENTROPY.minimumBitsPerCharacter,
      description: "Fewest bits of Shannon entropy per character of a random-looking token.",
    },
  },
  check: (subject, config) => {
    // An empty pattern adds no names (a RegExp of "" would match every name).
    const pattern = config.secretNamePattern === "" ? undefined : new RegExp(config.secretNamePattern, "i");
    const threshold = {
      minimumLength: config.minimumEntropyLength,
      minimumBitsPerCharacter: config.minimumEntropyBitsPerCharacter,
    };
    eachContainer(subject, (c, label) => {
      for (const variable of c.environment ?? []) {
        if (!variable?.name) continue;
        // The value is judged first, so the message can say what it looks like; it never prints the value.
        const kind = typeof variable.value === "string" ? credentialLike(variable.value, threshold) : undefined;
        if (kind !== undefined || isCredentialName(variable.name) || pattern?.test(variable.name)) {
          subject.report(
            `${label} environment ${variable.name}`,
            kind === undefined ? "a plain value" : `a plain value that looks like ${kind}`,
            `a secrets entry { name: "${variable.name}", valueFrom: <secret ARN> }`,
            `move ${variable.name} from environment to secrets, with valueFrom the Secrets Manager secret's ARN`,
          );
        }
      }
    });
  },
});

export const ecsTaskSeparateRoles = taskRule({
  name: "ecs-task-separate-roles",
  description:
    "A task's execution role (pulls images, reads secrets, writes logs) is not also the role its code runs with.",
  enforcementLevel: "mandatory",
  severity: "medium",
  sources: ["CKV_AWS_249"],
  preview:
    "roles created in the same update have no ARN yet; the engine then reports this rule as advisory until the update.",
  remediationSteps: "Give the task definition its own taskRoleArn with only the permissions the app needs.",
  check: ({ props, report }) => {
    if (props.executionRoleArn && props.executionRoleArn === props.taskRoleArn) {
      report(
        "taskRoleArn",
        `${show(props.taskRoleArn)}, the same as executionRoleArn`,
        "a role of its own, with only what the app calls",
        "create a task role per service and set taskRoleArn to it",
      );
    }
  },
});

function serviceRule<C = Record<string, never>>(
  meta: Omit<Parameters<typeof resourceRule<Service, C>>[0], "types" | "kind">,
): OpsbookPolicy {
  return resourceRule<Service, C>({ ...meta, types: [ECS_SERVICE], kind: "ECS service" });
}

export const ecsServiceNoPublicIp = serviceRule({
  name: "ecs-service-no-public-ip",
  description:
    "No ECS service gives its tasks public IP addresses; they run in private subnets behind the load balancer.",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["CKV_AWS_333", "ECS.2"],
  remediationSteps:
    "Set networkConfiguration.assignPublicIp: false and put the tasks in the private subnets (egress through NAT).",
  check: ({ props, report }) => {
    if (props.networkConfiguration?.assignPublicIp === true)
      report(
        "networkConfiguration.assignPublicIp",
        "true",
        "false",
        "set assignPublicIp: false and use the private subnets",
      );
  },
});

export const ecsServiceRollsBack = serviceRule({
  name: "ecs-service-rolls-back",
  description:
    "Every ECS service rolls a failed deployment back by itself: the deployment circuit breaker and the deployment alarms both have rollback on.",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["runbook 004", "runbook 002"], // R-rollback-auto
  preview:
    "alarm names derived from resources created in the same update are unknown; the engine then reports this rule as advisory until the update.",
  remediationSteps:
    "Set deploymentCircuitBreaker: { enable: true, rollback: true } and alarms: { enable: true, rollback: true, alarmNames: [the service's rollback alarms] }.",
  check: ({ props, report }) => {
    const breaker = props.deploymentCircuitBreaker;
    if (breaker?.enable !== true || breaker.rollback !== true) {
      report(
        "deploymentCircuitBreaker",
        show(breaker),
        "{ enable: true, rollback: true }",
        "set deploymentCircuitBreaker: { enable: true, rollback: true }",
      );
    }
    const alarms = props.alarms;
    if (alarms?.enable !== true || alarms.rollback !== true || (alarms.alarmNames ?? []).length === 0) {
      report(
        "alarms",
        show(alarms),
        "{ enable: true, rollback: true, alarmNames: [at least one alarm] }",
        "set alarms to the service's rollback alarms (unhealthy targets, error rate) with enable and rollback true",
      );
    }
  },
});

const TARGET_GROUP = "aws:lb/targetGroup:TargetGroup";
const METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";

interface AlarmProps {
  name?: string;
  metricName?: string;
  period?: number;
  evaluationPeriods?: number;
  metricQueries?: Array<{ metric?: { period?: number } }>;
}

export const ecsRollbackTiming = stackRule({
  name: "ecs-rollback-timing",
  description: `Every load-balanced ECS service's automatic rollback starts within ${ROLLBACK_LIMITS.startsWithinSeconds / 60} minutes of a bad deploy and completes within ${ROLLBACK_LIMITS.completesWithinSeconds / 60}, worst case, from its target group's health check and deregistration delay, its rollback alarms' periods and its grace period.`,
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["runbook 004"], // R-rollback-sla
  preview:
    "target group ARNs and alarm names of resources created in the same update are unknown; the engine then reports this rule as advisory until the update.",
  remediationSteps:
    "Shorten the health check (healthCheck.intervalSeconds, unhealthyThreshold), the rollback triggers (rollback.unhealthyForMinutes, errorRateForMinutes) or the deregistration delay.",
  check: (resources, _config, report) => {
    const alarms = ofTypes(resources, [METRIC_ALARM]).map((a) => a.props as AlarmProps);
    const groups = ofTypes(resources, [TARGET_GROUP]);
    for (const svc of ofTypes(resources, [ECS_SERVICE])) {
      const props = svc.props as Service;
      const arn = props.loadBalancers?.[0]?.targetGroupArn;
      if (!arn) continue;
      const group = groups.find((g) =>
        idSet((g.props as { arn?: unknown }).arn, (g.props as { id?: unknown }).id).has(arn),
      );
      const names = props.alarms?.alarmNames ?? [];
      const triggers = alarms.filter((a) => a.name !== undefined && names.includes(a.name));
      if (!group || triggers.length === 0) continue; // ecs-service-rolls-back reports a service without alarms
      const tg = group.props as {
        deregistrationDelay?: number | string;
        healthCheck?: Record<string, number | undefined>;
      };
      const hc = tg.healthCheck ?? {};
      const periodOf = (a: AlarmProps) =>
        Math.max(a.period ?? 0, ...(a.metricQueries ?? []).map((q) => q.metric?.period ?? 0));
      const unhealthy = triggers.filter((a) => a.metricName === "UnHealthyHostCount");
      const other = triggers.filter((a) => a.metricName !== "UnHealthyHostCount");
      // One period for all: the longest, so the result is a bound, never an underestimate.
      const timing = rollbackTiming({
        healthCheck: {
          intervalSeconds: hc.interval ?? 30,
          healthyThreshold: hc.healthyThreshold ?? 5,
          unhealthyThreshold: hc.unhealthyThreshold ?? 2,
        },
        rollback: {
          unhealthyForMinutes: Math.max(0, ...unhealthy.map((a) => a.evaluationPeriods ?? 1)),
          errorRateForMinutes: Math.max(0, ...other.map((a) => a.evaluationPeriods ?? 1)),
        },
        alarmPeriodSeconds: Math.max(...triggers.map(periodOf)),
        healthCheckGracePeriodSeconds: props.healthCheckGracePeriodSeconds ?? 0,
        deregistrationDelaySeconds: Number(tg.deregistrationDelay ?? 300),
      });
      for (const problem of rollbackTimingProblems(timing)) {
        report(
          svc,
          message(
            `ECS service "${svc.name}"`,
            "worst-case automatic rollback",
            problem,
            `a start within ${ROLLBACK_LIMITS.startsWithinSeconds} s and an end within ${ROLLBACK_LIMITS.completesWithinSeconds} s of a bad deploy (runbook 004)`,
            "shorten the health check interval or thresholds, the rollback alarm periods, the grace period or the deregistration delay",
          ),
        );
      }
    }
  },
});

const EVENT_RULE = "aws:cloudwatch/eventRule:EventRule";
const EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget";

/** Whether an EventBridge pattern matches ECS's failed deployments (R-rollback-page). */
function matchesDeploymentFailures(pattern: unknown): boolean {
  const p = policyDocument(pattern) as
    { source?: unknown; "detail-type"?: unknown; detail?: { eventName?: unknown } } | undefined;
  const has = (field: unknown, value: string) => asList(field).includes(value);
  return (
    has(p?.source, "aws.ecs") &&
    has(p?.["detail-type"], "ECS Deployment State Change") &&
    // No eventName filter matches every deployment event, the failures too.
    (p?.detail?.eventName === undefined || has(p.detail.eventName, "SERVICE_DEPLOYMENT_FAILED"))
  );
}

export const ecsDeploymentFailuresPage = stackRule({
  name: "ecs-deployment-failures-page",
  description:
    "A stack with ECS services has an EventBridge rule on ECS's `SERVICE_DEPLOYMENT_FAILED` deployment events with a target, so an automatic rollback pages even when no deploy command is watching.",
  enforcementLevel: "mandatory",
  severity: "medium",
  sources: ["runbook 004"], // R-rollback-page
  preview:
    "event patterns built from a cluster created in the same update are unknown; the engine then reports this rule as advisory until the update.",
  remediationSteps:
    'Declare an aws.cloudwatch.EventRule with eventPattern { source: ["aws.ecs"], "detail-type": ["ECS Deployment State Change"], detail: { eventName: ["SERVICE_DEPLOYMENT_FAILED"] } } and an EventTarget sending it to the critical topic.',
  check: (resources, _config, report) => {
    const services = ofTypes(resources, [ECS_SERVICE]);
    if (services.length === 0) return;
    const rules = ofTypes(resources, [EVENT_RULE]).filter((r) =>
      matchesDeploymentFailures((r.props as { eventPattern?: unknown }).eventPattern),
    );
    const targeted = rules.filter((r) => {
      const names = idSet((r.props as { name?: unknown }).name, r.name);
      return ofTypes(resources, [EVENT_TARGET]).some((t) => names.has(String((t.props as { rule?: unknown }).rule)));
    });
    if (targeted.length > 0) return;
    for (const cluster of ofTypes(resources, [ECS_CLUSTER])) {
      report(
        cluster,
        message(
          `ECS cluster "${cluster.name}"`,
          "deployment failure page",
          rules.length > 0
            ? `rule ${show(rules[0]!.name)} has no target`
            : "no EventBridge rule on SERVICE_DEPLOYMENT_FAILED",
          "an EventBridge rule on its services' ECS Deployment State Change events named SERVICE_DEPLOYMENT_FAILED, with a target (runbook 004)",
          "declare the rule and an EventTarget to the critical SNS topic (components/monitoring/deploymentFailures.ts DeploymentFailurePage)",
        ),
      );
    }
  },
});

export const ecsClusterContainerInsights = resourceRule<Cluster, { allowedValues: string[] }>({
  name: "ecs-cluster-container-insights",
  description: "Every ECS cluster has Container Insights on, so task CPU, memory and restarts are in CloudWatch.",
  enforcementLevel: "mandatory",
  severity: "low",
  sources: ["CKV_AWS_65", "ECS.12"],
  types: [ECS_CLUSTER],
  kind: "ECS cluster",
  remediationSteps: 'Add settings: [{ name: "containerInsights", value: "enabled" }] (or "enhanced").',
  config: {
    allowedValues: {
      type: "array",
      items: { type: "string" },
      default: ["enabled", "enhanced"],
      description: "Accepted containerInsights values.",
    },
  },
  check: ({ props, report }, config) => {
    const setting = (props.settings ?? []).find((s) => s.name === "containerInsights");
    if (!setting || !config.allowedValues.includes(setting.value)) {
      report(
        'settings "containerInsights"',
        setting ? show(setting.value) : "not set (off)",
        `one of ${show(config.allowedValues)}`,
        'add { name: "containerInsights", value: "enabled" } to settings',
      );
    }
  },
});

export const ecsPolicies: OpsbookPolicy[] = [
  ecsTaskReadOnlyRoot,
  ecsTaskNotPrivileged,
  ecsTaskLogging,
  ecsTaskSecretsNotInEnvironment,
  ecsTaskSeparateRoles,
  ecsServiceNoPublicIp,
  ecsServiceRollsBack,
  ecsRollbackTiming,
  ecsDeploymentFailuresPage,
  ecsClusterContainerInsights,
];
