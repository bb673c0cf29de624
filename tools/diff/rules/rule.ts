/**
 * The shape of a classification rule and the comparisons most rules share. A rule looks at one
 * change and returns what is risky about it; most changes return nothing.
 */
import type { Change, RiskKind } from "../model";
import { isOn, isUnknown, num } from "../values";

export interface Finding {
  kind: RiskKind;
  detail: string;
}

export type Rule = (change: Change) => Finding[];

/** Inputs before and after; an empty object stands for the side that does not exist. */
export function sides(change: Change): { b: Record<string, unknown>; a: Record<string, unknown> } {
  return { b: change.before?.inputs ?? {}, a: change.after?.inputs ?? {} };
}

/** True when the change keeps the resource (an update or a replacement), so before/after compare. */
export function isModified(change: Change): boolean {
  return change.op === "update" || change.op === "replace";
}

/**
 * A flag that was on and is now off. `absentIsOff` says whether dropping the input turns it off:
 * true for inputs with a false default, false for those the provider keeps as they are (computed).
 */
export function turnedOff(b: unknown, a: unknown, absentIsOff: boolean): boolean {
  if (!isOn(b) || isUnknown(a)) return false;
  if (a === undefined) return absentIsOff;
  return !isOn(a);
}

/** A flag that is on after the change and was not before (or did not exist). */
export function turnedOn(b: unknown, a: unknown): boolean {
  return isOn(a) && !isOn(b);
}

/** The old and new numbers when the number went down; undefined otherwise (also when unknown). */
export function decreased(b: unknown, a: unknown): { from: number; to: number } | undefined {
  const from = num(b);
  const to = num(a);
  return from !== undefined && to !== undefined && to < from ? { from, to } : undefined;
}

/** The old and new numbers when the number went up. */
export function increased(b: unknown, a: unknown): { from: number; to: number } | undefined {
  const change = decreased(a, b);
  return change ? { from: change.to, to: change.from } : undefined;
}
