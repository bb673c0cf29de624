/**
 * Risk classification: every rule over every change. Pure: the same changes give the same
 * risks, whether they came from two offline plans or from a real preview.
 */
import { type Change, type Risk, RISK_KINDS } from "./model";
import { ALARM_RULES } from "./rules/alarms";
import { CAPACITY_RULES } from "./rules/capacity";
import { DATA_RULES } from "./rules/data";
import { EXPOSURE_RULES } from "./rules/exposure";
import type { Rule } from "./rules/rule";

const RULES: readonly Rule[] = [...DATA_RULES, ...EXPOSURE_RULES, ...ALARM_RULES, ...CAPACITY_RULES];

/** The risks of one change, in rule order. */
export function classifyChange(change: Change): Risk[] {
  return RULES.flatMap((rule) => rule(change)).map((f) => ({
    kind: f.kind,
    urn: change.urn,
    type: change.type,
    name: change.name,
    detail: f.detail,
  }));
}

/** The risks of all changes: most severe kind first (the order of RISK_KINDS), then by URN. */
export function classify(changes: readonly Change[]): Risk[] {
  const rank = (r: Risk) => RISK_KINDS.indexOf(r.kind);
  return changes
    .flatMap(classifyChange)
    .sort((x, y) => rank(x) - rank(y) || (x.urn < y.urn ? -1 : x.urn > y.urn ? 1 : 0));
}
