/**
 * What a deploy needs to know about a stack, read from its outputs (`stackOutputs` in
 * stacks/platform.ts) and checked once, so each step can trust the shapes it reads.
 */
import { OpsError, Refusal } from "../errors";
import { regionOf } from "../aws";

export interface ServiceRouting {
  paths: string[];
  hosts: string[];
  priority: number;
  healthCheckPath: string;
}

export interface ServiceFacts {
  serviceName: string;
  taskDefinitionArn: string;
  taskDefinitionFamily: string;
  routing?: ServiceRouting;
}

export interface MigrationFacts {
  taskDefinitionArn: string;
  family: string;
  taskDefinitionUrn: string;
  cluster: string;
  subnets: string[];
  securityGroups: string[];
  launchType: "FARGATE";
  containerName: string;
  logGroup: string;
  logStreamPrefix: string;
}

export interface SmokeCheck {
  path: string;
  status: number;
}

/** One Deployment on the cluster (stack output `kubernetes.deployments`). */
export interface DeploymentFacts {
  name: string;
  serviceName: string;
  container: string;
  /** The image its pods must run, `repository:tag`. */
  image: string;
  /** The readiness probe's path: the service's health check, requested through the Ingress. */
  healthCheckPath: string;
}

/** An Ingress rule as the program declares it (networking.k8s.io/v1 `spec.rules[]`). */
export interface IngressRule {
  host?: string;
  http?: { paths?: Array<{ path?: string; pathType?: string; backend?: { service?: { name?: string } } }> };
}

/** The stack output `kubernetes` of `compute.platform: kubernetes` (R-k8s-verify). */
export interface KubernetesFacts {
  namespace: string;
  prometheusNamespace: string;
  /** The `environment` label of the stack's alert rules. */
  environment: string;
  ingressRules: IngressRule[];
  deployments: Record<string, DeploymentFacts>;
}

export interface StackFacts {
  region: string;
  /** The ECS cluster; none on Kubernetes. */
  clusterName?: string;
  /** Set on `compute.platform: kubernetes`: the services are Deployments, not ECS services. */
  kubernetes?: KubernetesFacts;
  services: Record<string, ServiceFacts>;
  criticalAlarmNames: string[];
  migration?: MigrationFacts;
  url?: string;
  databaseIdentifier: string;
  notifyTopicArn: string;
  smokeChecks: Record<string, SmokeCheck[]>;
}

const isString = (v: unknown): v is string => typeof v === "string" && v !== "";

/**
 * Where a stack's data tier runs, by its outputs: the `dataPlatform` output, or, for an in-cluster
 * stack last updated before that output existed, its `objectStoreEndpoint` (only those have one).
 */
export function dataPlatformOf(outputs: Record<string, unknown>): unknown {
  return outputs.dataPlatform ?? (isString(outputs.objectStoreEndpoint) ? "kubernetes" : undefined);
}

/**
 * `opsbook deploy` and `rollback` drive a stack whose data tier is on AWS: the RDS snapshot before
 * an update, the migration task and the services' checks, the SNS notices. A stack with its data on
 * the cluster (`opsbook:data.platform: kubernetes`, the local stack) has none of them, so it is
 * refused before anything changes. `dataPlatform` is the stack output of that name (deploy) or the
 * config value the update to return to recorded (rollback).
 */
export function refuseInClusterData(dataPlatform: unknown, stack: string, command: string): void {
  if (dataPlatform !== "kubernetes") return;
  throw new Refusal(
    `stack ${stack} keeps its data on the cluster (opsbook:data.platform: kubernetes): opsbook ${command} needs the AWS data tier, for the database snapshot before an update, the migration task and the SNS notices`,
    `update the stack with \`pulumi up --stack ${stack}\`; to go back, check out the earlier commit and run \`pulumi up --stack ${stack}\` again`,
  );
}

/** The outputs `opsbook deploy` reads; a missing one names itself and says how to get it. */
export function stackFacts(outputs: Record<string, unknown>, stack: string): StackFacts {
  const missing = (name: string) =>
    new OpsError(
      `stack ${stack} has no "${name}" output (or not in the shape this opsbook reads)`,
      `run a plain \`pulumi up --stack ${stack}\` once with this version of the program, so the output exists`,
    );
  const deploy = outputs.deploy as { notifyTopicArn?: unknown; smokeChecks?: unknown } | undefined;
  if (!deploy || !isString(deploy.notifyTopicArn)) throw missing("deploy");
  const kubernetes = outputs.kubernetes as KubernetesFacts | undefined;
  if (
    kubernetes !== undefined &&
    (!isString(kubernetes.namespace) ||
      !isString(kubernetes.prometheusNamespace) ||
      !isString(kubernetes.environment) ||
      !Array.isArray(kubernetes.ingressRules) ||
      typeof kubernetes.deployments !== "object" ||
      kubernetes.deployments === null ||
      !Object.values(kubernetes.deployments).every(
        (d) =>
          isString(d.name) &&
          isString(d.serviceName) &&
          isString(d.image) &&
          isString(d.container) &&
          isString(d.healthCheckPath),
      ))
  )
    throw missing("kubernetes");
  if (!kubernetes && !isString(outputs.clusterName)) throw missing("clusterName");
  if (!isString(outputs.databaseIdentifier)) throw missing("databaseIdentifier");
  const alarms = outputs.criticalAlarmNames;
  if (!Array.isArray(alarms) || !alarms.every(isString)) throw missing("criticalAlarmNames");
  const services = outputs.services as Record<string, ServiceFacts> | undefined;
  if (
    typeof services !== "object" ||
    services === null ||
    !Object.values(services).every((s) => isString(s.serviceName) && isString(s.taskDefinitionArn))
  )
    throw missing("services");
  const migration = outputs.migration as MigrationFacts | undefined;
  if (migration !== undefined && (!isString(migration.taskDefinitionUrn) || !isString(migration.family)))
    throw missing("migration");
  return {
    region: regionOf(deploy.notifyTopicArn, "the deploy output's notifyTopicArn"),
    ...(isString(outputs.clusterName) ? { clusterName: outputs.clusterName } : {}),
    ...(kubernetes ? { kubernetes } : {}),
    services,
    criticalAlarmNames: alarms,
    ...(migration ? { migration } : {}),
    ...(isString(outputs.url) ? { url: outputs.url } : {}),
    databaseIdentifier: outputs.databaseIdentifier,
    notifyTopicArn: deploy.notifyTopicArn,
    smokeChecks: (deploy.smokeChecks ?? {}) as Record<string, SmokeCheck[]>,
  };
}
