/**
 * Plan against plan: every resource of the base and the head matched by URN, or, for a resource
 * renamed with `aliases`, by the alias that names its base URN (as Pulumi matches it: the state
 * moves to the new URN, nothing is deleted). A URN only in the head is a create, only in the base a
 * delete (a renamed resource without an alias is both), and one on both sides with different
 * inputs an update, or a replacement when a changed input is known to force one (see
 * replacement.ts). A rename is an update, with `renamedFrom`, even when no input changed.
 */
import type { Change, ResourceState } from "./model";
import { replacingInputs } from "./replacement";
import { sameValue } from "./values";

/** The part of an offline plan (`npm run plan -- --json`) that the diff reads. */
export interface PlanLike {
  stack: string;
  project: string;
  resources: ResourceState[];
}

/** Top-level input keys and resource options that differ between two states of one resource, sorted. */
export function changedKeys(before: ResourceState, after: ResourceState): string[] {
  const keys = new Set([...Object.keys(before.inputs), ...Object.keys(after.inputs)]);
  const changed = [...keys].filter((key) => !sameValue(before.inputs[key], after.inputs[key]));
  if (before.protect !== after.protect) changed.push("protect");
  if (before.retainOnDelete !== after.retainOnDelete) changed.push("retainOnDelete");
  return changed.sort();
}

/** The changes from `base` to `head`, sorted by URN, and how many resources stayed the same. */
export function comparePlans(base: PlanLike, head: PlanLike): { changes: Change[]; unchanged: number } {
  const before = new Map(base.resources.map((r) => [r.urn, r]));
  const after = new Map(head.resources.map((r) => [r.urn, r]));
  // base URN -> the head resource that names it as an alias, for base URNs the head no longer has.
  const renamedTo = new Map<string, ResourceState>();
  for (const a of head.resources) {
    if (before.has(a.urn)) continue;
    const old = (a.aliases ?? []).find((alias) => before.has(alias) && !after.has(alias) && !renamedTo.has(alias));
    if (old !== undefined) renamedTo.set(old, a);
  }
  const changes: Change[] = [];
  let unchanged = 0;

  for (const [urn, b] of before) {
    const renamed = renamedTo.get(urn);
    const a = after.get(urn) ?? renamed;
    if (!a) {
      changes.push({ op: "delete", urn, type: b.type, name: b.name, before: b, changedKeys: [], replaceReasons: [] });
      continue;
    }
    const keys = changedKeys(b, a);
    if (keys.length === 0 && !renamed) {
      unchanged++;
      continue;
    }
    const reasons = replacingInputs(a.type, keys);
    changes.push({
      op: reasons.length > 0 ? "replace" : "update",
      urn: a.urn,
      type: a.type,
      name: a.name,
      before: b,
      after: a,
      changedKeys: keys,
      replaceReasons: reasons,
      ...(renamed ? { renamedFrom: urn } : {}),
    });
  }
  const matched = new Set([...renamedTo.values()].map((a) => a.urn));
  for (const [urn, a] of after) {
    if (!before.has(urn) && !matched.has(urn))
      changes.push({ op: "create", urn, type: a.type, name: a.name, after: a, changedKeys: [], replaceReasons: [] });
  }
  changes.sort((x, y) => (x.urn < y.urn ? -1 : x.urn > y.urn ? 1 : 0));
  return { changes, unchanged };
}
