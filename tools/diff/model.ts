import type { CostChange } from "./cost";

/**
 * The vocabulary of the risk-classified diff: a resource as both an offline plan and a
 * `pulumi preview --json` describe it, a change to one resource, and a risk found in a change.
 */

/** One resource: the fields that a plan and a preview's resource state have in common. */
export interface ResourceState {
  urn: string;
  /** Pulumi type token, e.g. `aws:rds/instance:Instance`. */
  type: string;
  /** The resource's logical name (the last part of its URN). */
  name: string;
  /** false for component resources. */
  custom: boolean;
  protect: boolean;
  retainOnDelete: boolean;
  inputs: Record<string, unknown>;
  /** URNs the resource was known by before a rename (Pulumi `aliases`); empty when it was never renamed. */
  aliases?: string[];
}

export type ChangeOp = "create" | "update" | "replace" | "delete";

/** What happens to one resource, matched by URN between the base and the head. */
export interface Change {
  op: ChangeOp;
  urn: string;
  type: string;
  name: string;
  /** The resource before the change; absent for a create. */
  before?: ResourceState;
  /** The resource after the change; absent for a delete. */
  after?: ResourceState;
  /** Top-level inputs (and the `protect` / `retainOnDelete` options) that differ, sorted. */
  changedKeys: string[];
  /** The inputs that force a replacement; empty unless `op` is "replace". */
  replaceReasons: string[];
  /** The base URN of a renamed resource, matched through one of the head's `aliases`: Pulumi moves it, no delete and create. */
  renamedFrom?: string;
}

/**
 * Every kind of risk, in the order a reviewer should read them. The identifiers are stable:
 * the JSON output, the tests and the README use them.
 */
export const RISK_KINDS = [
  "stateful-replaced",
  "stateful-deleted",
  "deletion-protection-off",
  "final-snapshot-skipped",
  "protect-dropped",
  "backup-retention-shortened",
  "backup-window-moved",
  "encryption-off",
  "tls-off",
  "public-access",
  "alarm-removed",
  "alarm-loosened",
  "capacity-lowered",
] as const;

export type RiskKind = (typeof RISK_KINDS)[number];

/** One risky aspect of one change. A change can carry several. */
export interface Risk {
  kind: RiskKind;
  urn: string;
  type: string;
  name: string;
  /** What changed, with the old and new values, in one line. */
  detail: string;
}

/** Where the changes came from: two offline plans (heuristic) or a real preview (exact). */
export type DiffSource = "plan" | "preview";

export interface DiffReport {
  stack: string;
  project: string;
  source: DiffSource;
  changes: Change[];
  risks: Risk[];
  /** Resources present on both sides with nothing changed. */
  unchanged: number;
  /** The monthly cost change (R-cost-review), when the stack's region is known. */
  cost?: CostChange;
  /** Why there is no cost change, when there is none. */
  costSkipped?: string;
}

/** Exit codes of `npm run diff`: a workflow reads "risky" without parsing the output. */
export const EXIT = { noRisk: 0, error: 1, risky: 2 } as const;
