/**
 * Builds the whole program for a real stack file, as `npm run plan` does, once per test file.
 */
import { PROTECTED_TYPES } from "../../lib/stateful";
import { buildPlan, type Plan } from "../../tools/plan/plan";
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
