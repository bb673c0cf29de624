/**
 * The shape every rule of the pack shares: metadata (name, level, sources, what preview cannot
 * see), config read with the schema's defaults, and one message format that names the resource,
 * the property, the value found, what is required and the fix.
 */
import type {
  EnforcementLevel,
  PolicyResource,
  PolicyResourceOptions,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  Severity,
  StackValidationPolicy,
} from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import type { Unwrap } from "@pulumi/pulumi";

/** A resource's outputs as a stack policy sees them: the provider's state, plus its `id`. */
export type Outputs<State> = Unwrap<State> & { id?: string };

/** A config property: its JSON schema, whose `default` applies when a stack's config sets none. */
export type ConfigSpec = Record<string, PolicyConfigJSONSchema & { default: unknown }>;

/** What every rule declares besides its check. */
export interface RuleMeta {
  /** Kebab-case id, unique in the pack; what `--policy-pack-config` keys on. */
  name: string;
  /** One sentence: what holds when the rule passes. */
  description: string;
  /** Level when the stack's policy config says nothing. */
  enforcementLevel: EnforcementLevel;
  severity: Severity;
  /** How to fix a violation, in general; each message adds the specific fix. */
  remediationSteps: string;
  /** Where the rule comes from: Checkov / Security Hub / awsguard ids, or "runbook". */
  sources: string[];
  /** What the rule cannot see during `pulumi preview`, if anything. */
  preview?: string;
  /** Thresholds and lists the rule reads, with their defaults. */
  config?: ConfigSpec;
}

/** A policy of this pack: a CrossGuard policy plus the metadata the README and runner show. */
export type OpsbookPolicy = (ResourceValidationPolicy | StackValidationPolicy) & {
  sources: string[];
  preview?: string;
};

/** Shows a found value in a message: `not set`, `"text"`, `false`, `[1,2]`. */
export function show(value: unknown): string {
  if (value === undefined || value === null) return "not set";
  return JSON.stringify(value);
}

/** "1 day", "30 days". */
export function dayCount(n: number): string {
  return `${n} day${n === 1 ? "" : "s"}`;
}

/** The one message format of the pack. */
export function message(subject: string, property: string, found: string, required: string, fix: string): string {
  return `${subject}: ${property} is ${found}; required: ${required}. Fix: ${fix}.`;
}

/** Reads a rule's config as the engine hands it over, falling back to the schema's defaults. */
export function configOf<C>(given: Record<string, unknown>, spec: ConfigSpec | undefined): C {
  const out: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(spec ?? {}))
    out[key] = given[key] !== undefined ? given[key] : schema.default;
  return out as C;
}

function describe(meta: RuleMeta): string {
  return meta.preview ? `${meta.description} During preview: ${meta.preview}` : meta.description;
}

function schemaOf(spec: ConfigSpec | undefined) {
  return spec ? { configSchema: { properties: spec } } : {};
}

/** A resource being checked, with a reporter that formats messages about it. */
export interface Subject<P> {
  props: P;
  name: string;
  type: string;
  urn: string;
  opts: PolicyResourceOptions;
  /** `<kind> "<name>"`, e.g. `RDS instance "db"`: how messages name the resource. */
  label: string;
  /** `this: void`: checks destructure it from the subject (it is an arrow function, bound to nothing). */
  report(this: void, property: string, found: string, required: string, fix: string): void;
}

/**
 * A rule over single resources of the given type tokens. The check receives the resource's inputs,
 * typed as the @pulumi/aws args of that type, and the rule's config with defaults applied.
 */
export function resourceRule<P, C = Record<string, never>>(
  meta: RuleMeta & {
    /** Type tokens the rule applies to (or a function of its config); others are "not applicable". */
    types: readonly string[] | ((config: C) => readonly string[]);
    /** How a message names such a resource, e.g. "RDS instance", or a function of its type token. */
    kind: string | ((type: string) => string);
    check: (subject: Subject<P>, config: C) => void;
  },
): OpsbookPolicy {
  const { types, kind, check, config, sources, preview, ...rest } = meta;
  return {
    ...rest,
    description: describe(meta),
    ...schemaOf(config),
    sources,
    ...(preview ? { preview } : {}),
    validateResource: (args: ResourceValidationArgs, reportViolation) => {
      const settings = configOf<C>(args.getConfig<Record<string, unknown>>(), config);
      const applies = typeof types === "function" ? types(settings) : types;
      if (!applies.includes(args.type)) return args.notApplicable(`applies only to ${applies.join(", ")}`);
      const label = `${typeof kind === "string" ? kind : kind(args.type)} "${args.name}"`;
      check(
        {
          props: args.props as P,
          name: args.name,
          type: args.type,
          urn: args.urn,
          opts: args.opts,
          label,
          report: (property, found, required, fix) => reportViolation(message(label, property, found, required, fix)),
        },
        settings,
      );
    },
  };
}

/** Reports a violation against one resource of the stack. */
export type StackReport = (resource: PolicyResource, message: string) => void;

/** A rule over the whole stack: for relations between resources (a bucket and its companions). */
export function stackRule<C = Record<string, never>>(
  meta: RuleMeta & { check: (resources: PolicyResource[], config: C, report: StackReport) => void },
): OpsbookPolicy {
  const { check, config, sources, preview, ...rest } = meta;
  return {
    ...rest,
    description: describe(meta),
    ...schemaOf(config),
    sources,
    ...(preview ? { preview } : {}),
    validateStack: (args, reportViolation) =>
      check(args.resources, configOf<C>(args.getConfig<Record<string, unknown>>(), config), (resource, text) =>
        reportViolation(text, resource.urn),
      ),
  };
}

/** Resources of any of the given type tokens. */
export function ofTypes(resources: PolicyResource[], types: readonly string[]): PolicyResource[] {
  return resources.filter((r) => types.includes(r.type));
}

/** Non-empty strings among `values`: physical names and ids, as a set to match references against. */
export function idSet(...values: unknown[]): Set<string> {
  return new Set(values.filter((v): v is string => typeof v === "string" && v.length > 0));
}

/** Parses an IAM / bucket policy document given as JSON text or as an object. */
export function policyDocument(value: unknown): { Statement?: unknown } | undefined {
  if (typeof value === "string") {
    try {
      const parsed: unknown = JSON.parse(value);
      return parsed !== null && typeof parsed === "object" ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
  return value !== null && typeof value === "object" ? value : undefined;
}

/** A policy document's statements as a list (a single statement may be given as an object). */
export function statements(doc: { Statement?: unknown } | undefined): Array<Record<string, unknown>> {
  const s = doc?.Statement;
  if (Array.isArray(s)) return s.filter((x): x is Record<string, unknown> => x !== null && typeof x === "object");
  return s !== null && typeof s === "object" ? [s as Record<string, unknown>] : [];
}

/** A string-or-list IAM field (Action, Resource) as a list. */
export function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}
