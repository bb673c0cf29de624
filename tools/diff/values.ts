/**
 * Small readers for input values as they appear in plans and previews: JSON values, where a
 * preview marks a value it cannot know yet with Pulumi's unknown sentinel.
 */

/** What `pulumi preview --json` prints for a value that is only known after the update. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** True for a value a preview cannot know yet: no rule judges it. */
export function isUnknown(value: unknown): boolean {
  return value === UNKNOWN;
}

/** The value at a dotted path (`networkConfiguration.assignPublicIp`), or undefined. */
export function at(inputs: Record<string, unknown> | undefined, path: string): unknown {
  let value: unknown = inputs;
  for (const key of path.split(".")) {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** A number, also when a stack file or a provider gave it as text; undefined otherwise. */
export function num(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  return undefined;
}

/** true only for true or "true": an absent or unknown flag is not on. */
export function isOn(value: unknown): boolean {
  return value === true || value === "true";
}

/** A list, or the empty list when the value is absent or not a list. */
export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A non-empty string, or undefined. */
export function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** Structural equality of JSON values; object key order does not matter. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  }
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  const ak = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const bk = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return (
    ak.length === bk.length &&
    ak.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

/** A value as text to match on: strings as they are, numbers and booleans printed, objects as JSON. */
export function asText(value: unknown, fallback = ""): string {
  if (value === undefined || value === null) return fallback;
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  return JSON.stringify(value);
}

/** A value for a one-line detail: strings quoted, absent values named. */
export function show(value: unknown): string {
  if (value === undefined) return "(unset)";
  if (isUnknown(value)) return "(known after apply)";
  return JSON.stringify(value);
}
