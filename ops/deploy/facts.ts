/**
 * What a deploy needs to know about a stack, read from its outputs (`stackOutputs` in
 * stacks/platform.ts) and checked once, so each step can trust the shapes it reads.
 */
import { OpsError } from "../errors";
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

export interface StackFacts {
  region: string;
  clusterName: string;
  services: Record<string, ServiceFacts>;
  criticalAlarmNames: string[];
  migration?: MigrationFacts;
  url?: string;
  databaseIdentifier: string;
  notifyTopicArn: string;
  smokeChecks: Record<string, SmokeCheck[]>;
}

const isString = (v: unknown): v is string => typeof v === "string" && v !== "";

/** The outputs `opsbook deploy` reads; a missing one names itself and says how to get it. */
export function stackFacts(outputs: Record<string, unknown>, stack: string): StackFacts {
  const missing = (name: string) =>
    new OpsError(
      `stack ${stack} has no "${name}" output (or not in the shape this opsbook reads)`,
      `run a plain \`pulumi up --stack ${stack}\` once with this version of the program, so the output exists`,
    );
  const deploy = outputs.deploy as { notifyTopicArn?: unknown; smokeChecks?: unknown } | undefined;
  if (!deploy || !isString(deploy.notifyTopicArn)) throw missing("deploy");
  if (!isString(outputs.clusterName)) throw missing("clusterName");
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
    clusterName: outputs.clusterName,
    services,
    criticalAlarmNames: alarms,
    ...(migration ? { migration } : {}),
    ...(isString(outputs.url) ? { url: outputs.url } : {}),
    databaseIdentifier: outputs.databaseIdentifier,
    notifyTopicArn: deploy.notifyTopicArn,
    smokeChecks: (deploy.smokeChecks ?? {}) as Record<string, SmokeCheck[]>,
  };
}
