/**
 * Building blocks of the settings schemas (zod). Every message is the "allowed" text a reader sees
 * next to a bad value, so each builder states what it accepts in words; the config reference in the
 * README is generated from the same schemas (`npm run docs`).
 */
import { z } from "zod";
import { isHhmm, isTimeZone, isWeeklyWindow } from "./time";

// YAML edited by hand may quote numbers and booleans ("30", "true"); read them as what they say.
const numeric = (v: unknown): unknown => (typeof v === "string" && /^-?\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : v);
const boolean = (v: unknown): unknown => (v === "true" ? true : v === "false" ? false : v);

/** A whole number in [min, max]; `unit` is shown after the bounds (" days"). */
export function int(min: number, max: number, unit = "") {
  const allowed = `a whole number from ${min} to ${max}${unit}`;
  return z.preprocess(
    numeric,
    z.number({ error: allowed }).int({ error: allowed }).min(min, { error: allowed }).max(max, { error: allowed }),
  );
}

/** A number in [min, max]. */
export function num(min: number, max: number, unit = "") {
  const allowed = `a number from ${min} to ${max}${unit}`;
  return z.preprocess(numeric, z.number({ error: allowed }).min(min, { error: allowed }).max(max, { error: allowed }));
}

export function bool() {
  return z.preprocess(boolean, z.boolean({ error: "true or false" }));
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `one of ${values.map((v) => `"${v}"`).join(", ")}` });
}

export function matching(pattern: RegExp, allowed: string): z.ZodString {
  return z.string({ error: allowed }).regex(pattern, { error: allowed });
}

/** One of a fixed list of numbers (AWS often accepts only a few values). */
export function inList(values: readonly number[], allowed = `one of ${values.join(", ")}`) {
  return z.preprocess(
    numeric,
    z.number({ error: allowed }).refine((v) => values.includes(v), { error: allowed }),
  );
}

/** A list of strings with a count limit; `what` names one element. */
export function listOf<T extends z.ZodType>(element: T, what: string, max?: number) {
  const list = z.array(element, { error: `a list of ${what}` });
  return max === undefined ? list : list.max(max, { error: `at most ${max} ${what}` });
}

export const hhmm = z
  .string({ error: 'a time of day "HH:MM" (24-hour)' })
  .refine(isHhmm, { error: 'a time of day "HH:MM" (24-hour)' });

export const weeklyWindow = z
  .string({ error: 'a weekly window in UTC "ddd:HH:MM-ddd:HH:MM", e.g. "sun:04:00-sun:05:00"' })
  .refine(isWeeklyWindow, { error: 'a weekly window in UTC "ddd:HH:MM-ddd:HH:MM", e.g. "sun:04:00-sun:05:00"' });

export const timeZone = z
  .string({ error: 'an IANA time zone, e.g. "UTC" or "Europe/Berlin"' })
  .refine(isTimeZone, { error: 'an IANA time zone, e.g. "UTC" or "Europe/Berlin"' });

/** An AWS region name, commercial or GovCloud. */
export const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;

/**
 * An image repository without a tag: `registry:5000/api` is a repository, `api:1.2` is not. A tag
 * here and one in `tag` would make ECS pull `api:1.2:1.3`, which no registry serves.
 */
export const imageRepository = (example: string) =>
  matching(/^[a-z0-9][a-z0-9._\-/:]*[a-z0-9]$/, `an image repository without a tag, e.g. ${example}`).refine(
    (v) => !v.split("/").pop()!.includes(":"),
    { error: `an image repository without a tag (the tag goes in \`tag\`), e.g. ${example}` },
  );

/**
 * An image tag, never `latest`: a release is a tag that names one image (R-deploy-version), and the
 * stack's repositories have immutable tags, so `latest` could be pushed once and never moved.
 */
export const imageTag = matching(
  /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/,
  "an image tag: letters, digits, '_', '.', '-', at most 128 characters",
).refine((v) => v !== "latest", { error: 'an image tag other than "latest", e.g. a version or a commit' });

export const envName = matching(/^[A-Z_][A-Z0-9_]*$/, "an environment variable name in UPPER_SNAKE_CASE");

/** The `fix` of a rule whose remedy is to remove the key: the problem's fix is `pulumi config rm`. */
export const REMOVE = Symbol.for("opsbook.config.remove");

/** Records one problem of a cross-field rule: path (relative to the rule's schema), value, allowed, fix. */
export type Report = (path: PropertyKey[], value: unknown, allowed: string, fix?: unknown) => void;

/**
 * A problem a cross-field rule found: `path` is relative to the schema the rule sits on, `value` is
 * the offending (parsed) value and `fix` the value to suggest in the `pulumi config set` command.
 */
export function report(
  ctx: z.RefinementCtx,
  path: PropertyKey[],
  value: unknown,
  allowed: string,
  fix?: unknown,
): void {
  ctx.addIssue({ code: "custom", path, message: allowed, params: { value, fix } });
}

/** A `Report` that adds issues under `prefix` of the schema `ctx` belongs to. */
export function reporter(ctx: z.RefinementCtx, prefix: PropertyKey[] = []): Report {
  return (path, value, allowed, fix) => report(ctx, [...prefix, ...path], value, allowed, fix);
}

/**
 * Options for a cross-field rule: it runs only on values that passed every other check, so a bad
 * value is reported once, by the check it failed, and not again by the rules that read it.
 */
export const ON_VALID = { when: (payload: { issues: readonly unknown[] }) => payload.issues.length === 0 };
