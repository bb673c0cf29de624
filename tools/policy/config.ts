/**
 * Policy pack config as the Pulumi CLI handles `--policy-pack-config <file>`: the file maps a policy
 * name (or "all") to an enforcement level or to `{ enforcementLevel?, ...properties }`; the result is
 * each policy's schema defaults, then "all", then the policy's own entry, validated against the
 * policy's config schema. Unlike the CLI, a name that is no policy of the pack, or no setting of the
 * policy, is an error here, so that a misspelt name cannot silently leave a rule at its default.
 */
import * as fs from "node:fs";
import type { EnforcementLevel, Policy } from "@pulumi/policy";
import type { PolicyConfigJSONSchema, PolicyConfigJSONSchemaDefinition } from "@pulumi/policy/schema";

const LEVELS: readonly EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];

/** One entry of a config file, or the reconciled config of one policy. */
export interface PolicyConfigEntry {
  enforcementLevel?: EnforcementLevel;
  properties: Record<string, unknown>;
}

/** The config every policy runs with: its level and its properties (defaults applied). */
export type ReconciledConfig = Map<string, { enforcementLevel: EnforcementLevel; properties: Record<string, unknown> }>;

export class PolicyConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(
      `${source}: ${problems.length === 1 ? problems[0] : `${problems.length} problems:\n${problems.map((p) => `  - ${p}`).join("\n")}`}`,
    );
    this.name = "PolicyConfigError";
  }
}

function isLevel(value: unknown): value is EnforcementLevel {
  return typeof value === "string" && (LEVELS as readonly string[]).includes(value);
}

/** Parses the text of a policy pack config file (JSON), as `--policy-pack-config` reads it. */
export function parsePackConfig(text: string, source: string): Record<string, PolicyConfigEntry> {
  if (text.trim() === "") return {};
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new PolicyConfigError(source, [`not valid JSON (${(e as Error).message})`]);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    throw new PolicyConfigError(source, [
      'expected an object: { "<policy name>": "<level>" | { "enforcementLevel": "<level>", ...properties } }',
    ]);
  const result: Record<string, PolicyConfigEntry> = {};
  const problems: string[] = [];
  for (const [name, value] of Object.entries(raw)) {
    if (typeof value === "string") {
      if (isLevel(value)) result[name] = { enforcementLevel: value, properties: {} };
      else problems.push(`"${name}": "${value}" is not an enforcement level (${LEVELS.join(", ")})`);
    } else if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      const { enforcementLevel, ...properties } = value as Record<string, unknown>;
      if (enforcementLevel !== undefined && !isLevel(enforcementLevel))
        problems.push(
          `"${name}": enforcementLevel ${JSON.stringify(enforcementLevel)} is not one of ${LEVELS.join(", ")}`,
        );
      else result[name] = { ...(enforcementLevel !== undefined ? { enforcementLevel } : {}), properties };
    } else {
      problems.push(`"${name}": ${JSON.stringify(value)} is not valid; use an enforcement level or an object`);
    }
  }
  if (problems.length > 0) throw new PolicyConfigError(source, problems);
  return result;
}

/** Reads and parses a policy pack config file. */
export function readPackConfig(file: string): Record<string, PolicyConfigEntry> {
  return parsePackConfig(fs.readFileSync(file, "utf8"), file);
}

/**
 * Each policy's level and properties: schema defaults, then the pack's or "all" level, then the
 * policy's own entry; then checked against the policy's config schema.
 */
export function reconcileConfig(
  policies: readonly Policy[],
  packLevel: EnforcementLevel,
  given: Record<string, PolicyConfigEntry>,
  source = "policy pack config",
): ReconciledConfig {
  const problems: string[] = [];
  const known = new Set(policies.map((p) => p.name));
  for (const name of Object.keys(given)) {
    if (name !== "all" && !known.has(name)) problems.push(`"${name}" is not a policy of the pack`);
  }
  const all = given.all?.enforcementLevel;
  const result: ReconciledConfig = new Map();
  for (const policy of policies) {
    const defaults = Object.fromEntries(
      Object.entries(policy.configSchema?.properties ?? {}).flatMap(([k, s]) =>
        s.default !== undefined ? [[k, JSON.parse(JSON.stringify(s.default)) as unknown]] : [],
      ),
    );
    const entry = given[policy.name];
    const properties = { ...defaults, ...entry?.properties };
    const enforcementLevel = entry?.enforcementLevel ?? all ?? policy.enforcementLevel ?? packLevel;
    const schemaProperties = policy.configSchema?.properties ?? {};
    for (const key of policy.configSchema?.required ?? [])
      if (properties[key] === undefined) problems.push(`"${policy.name}": ${key} is required`);
    for (const [key, value] of Object.entries(properties)) {
      const property = schemaProperties[key];
      if (property) problems.push(...validate(property, value, `"${policy.name}": ${key}`));
      else
        problems.push(
          `"${policy.name}": ${key} is not a setting of this policy (settings: ${Object.keys(schemaProperties).join(", ") || "none"})`,
        );
    }
    result.set(policy.name, { enforcementLevel, properties });
  }
  if (problems.length > 0) throw new PolicyConfigError(source, problems);
  return result;
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

/** The part of JSON Schema the pack's config schemas use: type, enum, bounds, items, properties. */
export function validate(schema: PolicyConfigJSONSchemaDefinition, value: unknown, path: string): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${path} is not allowed`];
  const s: PolicyConfigJSONSchema = schema;
  const found = typeOf(value);
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? s.type : [s.type];
    const ok = types.some((t) => t === found || (t === "number" && found === "integer"));
    if (!ok) return [`${path} must be ${types.join(" or ")}, got ${JSON.stringify(value)}`];
  }
  const problems: string[] = [];
  if (s.enum && !s.enum.some((e) => JSON.stringify(e) === JSON.stringify(value)))
    problems.push(
      `${path} must be one of ${s.enum.map((e) => JSON.stringify(e)).join(", ")}, got ${JSON.stringify(value)}`,
    );
  if (typeof value === "number") {
    if (s.minimum !== undefined && value < s.minimum)
      problems.push(`${path} must be at least ${s.minimum}, got ${value}`);
    if (s.maximum !== undefined && value > s.maximum)
      problems.push(`${path} must be at most ${s.maximum}, got ${value}`);
  }
  if (Array.isArray(value)) {
    if (s.minItems !== undefined && value.length < s.minItems)
      problems.push(`${path} must have at least ${s.minItems} item${s.minItems === 1 ? "" : "s"}`);
    if (s.items !== undefined && !Array.isArray(s.items))
      value.forEach((item, i) =>
        problems.push(...validate(s.items as PolicyConfigJSONSchemaDefinition, item, `${path}[${i}]`)),
      );
  }
  if (found === "object") {
    const obj = value as Record<string, unknown>;
    for (const key of s.required ?? []) if (obj[key] === undefined) problems.push(`${path}.${key} is required`);
    for (const [key, v] of Object.entries(obj)) {
      const property = s.properties?.[key] ?? s.additionalProperties;
      if (property !== undefined) problems.push(...validate(property, v, `${path}.${key}`));
    }
  }
  return problems;
}
