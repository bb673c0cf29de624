/**
 * Builds the whole program for a real stack file, as `npm run plan` does, once per test file.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { PROTECTED_TYPES } from "../../lib/stateful";
import { buildPlan, REPO_ROOT, type Plan } from "../../tools/plan/plan";
import type { RecordedResource } from "./mocks";

export type { Plan };

/** Types whose loss loses data or keys: they carry `protect` when the stack asks for it. */
export const STATEFUL_TYPES: ReadonlySet<string> = new Set(PROTECTED_TYPES);

export function planStack(stack: string): Promise<Plan> {
  return buildPlan(stack);
}

export function stateful(plan: Plan): RecordedResource[] {
  return plan.resources.filter((r) => STATEFUL_TYPES.has(r.type));
}

/** One service as a stack file writes it (the keys the stack tests compare with the plan). */
export interface StackFileService {
  name: string;
  /** Absent: the service's repository in the stack. */
  image?: string;
  tag: string;
  paths?: string[];
  cpu: number;
  memory: number;
  desiredCount: number;
  minCount: number;
  maxCount: number;
}

/** The `opsbook:` config of `Pulumi.<stack>.yaml` as written, so tests compare the plan with the file, not with a copy. */
export function stackFileConfig(stack: string): {
  services: StackFileService[];
  network: { cidr: string };
  logRetentionDays: number;
} {
  const config = (
    parse(readFileSync(join(REPO_ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> }
  ).config;
  return {
    services: config["opsbook:services"] as StackFileService[],
    network: config["opsbook:network"] as { cidr: string },
    logRetentionDays: config["opsbook:logRetentionDays"] as number,
  };
}
