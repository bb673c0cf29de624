/**
 * Reads the document `pulumi preview --json` prints: `{ steps: [{ op, urn, oldState, newState,
 * diffReasons, replaceReasons, ... }], changeSummary, ... }`. A replacement shows as several steps
 * of one URN (create-replacement, replace, delete-replaced); they become one change. Here the
 * provider itself decided what is replaced, so the replacement is exact, not a heuristic.
 */
import type { Change, ChangeOp, ResourceState } from "./model";
import { changedKeys } from "./compare";

/** Step operations, by the change they amount to. Others (same, read, refresh, discard...) change nothing. */
const OPS: Readonly<Record<string, ChangeOp>> = {
  create: "create",
  import: "create",
  update: "update",
  delete: "delete",
  replace: "replace",
  "create-replacement": "replace",
  "delete-replaced": "replace",
  "import-replacement": "replace",
  "read-replacement": "replace",
  "discard-replaced": "replace",
};
const SEVERITY: readonly ChangeOp[] = ["create", "update", "delete", "replace"];

export interface ParsedPreview {
  stack: string;
  project: string;
  changes: Change[];
  unchanged: number;
}

/** `urn:pulumi:<stack>::<project>::<type chain>::<name>` -> its parts. */
export function parseUrn(urn: string): { stack: string; project: string; name: string } {
  const match = /^urn:pulumi:([^:]+)::([^:]+)::.*::([^:]*)$/s.exec(urn);
  if (!match) throw new Error(`"${urn}" is not a Pulumi URN: expected urn:pulumi:<stack>::<project>::<type>::<name>`);
  return { stack: match[1]!, project: match[2]!, name: match[3]! };
}

function object(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function toState(urn: string, raw: unknown): ResourceState | undefined {
  const state = object(raw);
  if (!state) return undefined;
  return {
    urn,
    type: typeof state.type === "string" ? state.type : "",
    name: parseUrn(urn).name,
    custom: state.custom === true,
    protect: state.protect === true,
    retainOnDelete: state.retainOnDelete === true,
    inputs: object(state.inputs) ?? {},
  };
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/**
 * The changes in a `pulumi preview --json` document. `source` names the input in errors.
 * Throws when the document is not a preview.
 */
export function parsePreview(document: unknown, source: string): ParsedPreview {
  const steps = object(document)?.steps;
  if (!Array.isArray(steps)) {
    throw new Error(
      `${source} is not the output of \`pulumi preview --json\`: it has no "steps" list. Produce it with: pulumi preview --stack <name> --json > preview.json`,
    );
  }
  const byUrn = new Map<
    string,
    { ops: Set<ChangeOp>; before?: ResourceState; after?: ResourceState; diff: Set<string>; replace: Set<string> }
  >();
  let unchanged = 0;
  let identity: { stack: string; project: string } | undefined;

  steps.forEach((raw, index) => {
    const step = object(raw);
    if (typeof step?.op !== "string" || typeof step.urn !== "string") {
      throw new Error(
        `${source}: steps[${index}] has no "op" and "urn" strings; got ${JSON.stringify(raw)?.slice(0, 200)}`,
      );
    }
    const urn = step.urn;
    identity ??= parseUrn(urn);
    if (urn.includes("::pulumi:pulumi:Stack::")) return; // the stack itself holds outputs, not infrastructure
    // Pulumi applies a change of `protect` or `retainOnDelete` alone without a provider diff: a "same" step.
    const before = toState(urn, step.oldState);
    const after = toState(urn, step.newState);
    const optionsChanged =
      step.op === "same" &&
      before &&
      after &&
      (before.protect !== after.protect || before.retainOnDelete !== after.retainOnDelete);
    const op = OPS[step.op] ?? (optionsChanged ? "update" : undefined);
    if (!op) {
      unchanged++;
      return;
    }
    const entry = byUrn.get(urn) ?? { ops: new Set<ChangeOp>(), diff: new Set<string>(), replace: new Set<string>() };
    entry.ops.add(op);
    entry.before ??= before;
    entry.after ??= after;
    strings(step.diffReasons).forEach((k) => entry.diff.add(k));
    strings(step.replaceReasons).forEach((k) => entry.replace.add(k));
    byUrn.set(urn, entry);
  });

  const changes: Change[] = [...byUrn].map(([urn, entry]) => {
    const op = SEVERITY.filter((o) => entry.ops.has(o)).pop()!;
    const before = op === "create" ? undefined : entry.before;
    const after = op === "delete" ? undefined : entry.after;
    const keys = entry.diff.size > 0 ? [...entry.diff].sort() : before && after ? changedKeys(before, after) : [];
    const type = after?.type || before?.type || "";
    return {
      op,
      urn,
      type,
      name: parseUrn(urn).name,
      before,
      after,
      changedKeys: keys,
      replaceReasons: op === "replace" ? [...entry.replace].sort() : [],
    };
  });
  changes.sort((x, y) => (x.urn < y.urn ? -1 : x.urn > y.urn ? 1 : 0));
  return { stack: identity?.stack ?? "", project: identity?.project ?? "", changes, unchanged };
}
