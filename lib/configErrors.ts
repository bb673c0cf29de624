/**
 * Config problems as a reader needs them: the key as `pulumi config` shows it, the value given, what
 * is allowed (with "did you mean" for a misspelt key) and the command that fixes it.
 */
import { z } from "zod";
import { maskCredentials } from "./credentials";
import { REMOVE } from "./schema";

/** One bad key: what was given, what is allowed, and the command that fixes it. */
export interface ConfigProblem {
  /** Full key path as `pulumi config` shows it, e.g. `opsbook:postgres.backupRetentionDays`. */
  key: string;
  /** The value given, or undefined when the key is missing. */
  value: unknown;
  /** What is allowed, or what is wrong. */
  allowed: string;
  /** A command that fixes it. */
  fix: string;
}

/** What the value of a secret config key prints as. */
export const SECRET = "[secret]";

/**
 * Every problem of a stack's config. A problem never carries a secret (R-config-secrets-masked):
 * the value of a key in `secretKeys` (marked `secure:` in the stack file, or set with
 * `pulumi config set --secret`), or under it, shows as `[secret]`, and any other string that looks
 * like a credential (lib/credentials.ts) as `[masked]`, so a CI log never shows one.
 */
export class ConfigError extends Error {
  readonly problems: ConfigProblem[];

  constructor(
    readonly stack: string,
    problems: ConfigProblem[],
    secretKeys: ReadonlySet<string> = new Set(),
  ) {
    const masked = problems.map((p) => maskProblem(p, secretKeys));
    super(formatProblems(stack, masked));
    this.problems = masked;
    this.name = "ConfigError";
  }
}

/** Whether `key` (`opsbook:services[0].environment.X`) is a secret key or lies under one. */
export function isUnderSecret(key: string, secretKeys: ReadonlySet<string>): boolean {
  for (const s of secretKeys) if (key === s || key.startsWith(`${s}.`) || key.startsWith(`${s}[`)) return true;
  return false;
}

function maskProblem(p: ConfigProblem, secretKeys: ReadonlySet<string>): ConfigProblem {
  if (p.value === undefined) return p;
  return { ...p, value: isUnderSecret(p.key, secretKeys) ? SECRET : maskCredentials(p.value) };
}

function formatProblems(stack: string, problems: ConfigProblem[]): string {
  const lines = [
    `Stack "${stack}" has ${problems.length} config problem${problems.length === 1 ? "" : "s"}; nothing was declared. Edit Pulumi.${stack}.yaml or run the fix shown:`,
  ];
  for (const p of problems) {
    lines.push(`  - ${p.key}: ${p.value === undefined ? "missing" : `got ${JSON.stringify(p.value)}`}`);
    lines.push(`      allowed: ${p.allowed}`);
    lines.push(`      fix:     ${p.fix}`);
  }
  return lines.join("\n");
}

/** The command that removes `fullKey` (a path inside a key when `nested`) from the stack's config. */
export function rmFix(stack: string, fullKey: string, nested: boolean): string {
  return `pulumi config rm ${nested ? "--path " : ""}${quote(fullKey)} --stack ${stack}`;
}

/** Turns the issues of one parse into problems, with keys and fixes for `namespace` in `stack`. */
export class ProblemWriter {
  constructor(
    private readonly stack: string,
    private readonly namespace: string,
    private readonly schema: z.ZodType,
  ) {}

  key(path: readonly PropertyKey[]): string {
    return `${this.namespace}:${pathKey(path)}`;
  }

  setFix(path: readonly PropertyKey[], value: unknown): string {
    const flag = path.length > 1 ? "--path " : "";
    return `pulumi config set ${flag}${quote(this.key(path))} ${value === undefined ? "<value>" : quote(value)} --stack ${this.stack}`;
  }

  rmFix(fullKey: string, nested: boolean): string {
    return rmFix(this.stack, fullKey, nested);
  }

  /** The problems one zod issue stands for; `input` is the raw config the issue's path points into. */
  fromIssue(input: unknown, issue: z.core.$ZodIssue): ConfigProblem[] {
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((k) => {
        const path = [...issue.path, k];
        const known = knownKeysAt(this.schema, issue.path);
        const suggestion = closest(k, known);
        return {
          key: this.key(path),
          value: valueAt(input, path),
          allowed: `no such key${suggestion ? `; did you mean "${suggestion}"?` : ""} Known keys here: ${known.join(", ")}`,
          fix: this.rmFix(this.key(path), path.length > 1),
        };
      });
    }
    if (issue.code === "invalid_union") {
      // A union reports each branch; the schema's own message says which shapes are allowed.
      return [
        {
          key: this.key(issue.path),
          value: valueAt(input, issue.path),
          allowed: issue.message,
          fix: this.setFix(issue.path, undefined),
        },
      ];
    }
    if (issue.code === "custom" && issue.params && "value" in issue.params) {
      // A cross-field rule (lib/schema.ts `report`): it names the parsed value and the fix itself.
      const params = issue.params as { value: unknown; fix?: unknown };
      return [
        {
          key: this.key(issue.path),
          value: params.value,
          allowed: issue.message,
          fix:
            params.fix === REMOVE
              ? this.rmFix(this.key(issue.path), issue.path.length > 1)
              : this.setFix(issue.path, params.fix),
        },
      ];
    }
    // An object where something else was given: zod's own words name no key, so list the keys.
    const known =
      issue.code === "invalid_type" && issue.expected === "object" ? knownKeysAt(this.schema, issue.path) : [];
    return [
      {
        key: this.key(issue.path),
        value: valueAt(input, issue.path),
        allowed: known.length > 0 ? `a map with the keys ${known.join(", ")}` : issue.message,
        fix: this.setFix(issue.path, defaultAt(this.schema, issue.path)),
      },
    ];
  }
}

export function pathKey(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`)).join("");
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

export function quote(v: unknown): string {
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Closest known name within two edits, for "did you mean". */
export function closest(name: string, known: readonly string[]): string | undefined {
  const distance = (a: string, b: string): number => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0]![j] = j;
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++)
        d[i]![j] = Math.min(
          d[i - 1]![j]! + 1,
          d[i]![j - 1]! + 1,
          d[i - 1]![j - 1]! + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1),
        );
    return d[a.length]![b.length]!;
  };
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const dist = distance(name, k);
    if (dist < bestD) [best, bestD] = [k, dist];
  }
  return best;
}

/** The schema at `path` (object keys and array elements), or undefined past a leaf. */
export function schemaAt(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodType | undefined {
  let s: z.ZodType | undefined = schema;
  for (const p of path) {
    if (!s) return undefined;
    s = unwrap(s);
    if (s instanceof z.ZodObject) s = (s.shape as Record<string, z.ZodType>)[String(p)];
    else if (s instanceof z.ZodArray) s = s.element as z.ZodType;
    else if (s instanceof z.ZodRecord) s = s.valueType as z.ZodType;
    else return undefined;
  }
  return s;
}

/** The keys an object schema at `path` accepts, for "did you mean". */
function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  const s = schemaAt(schema, path);
  const inner = s && unwrap(s);
  return inner instanceof z.ZodObject ? Object.keys(inner.shape) : [];
}

/** The schema under its optional / default / prefault / pipe wrappers. */
export function unwrap(s: z.ZodType): z.ZodType {
  let cur: z.ZodType = s;
  for (;;) {
    if (cur instanceof z.ZodOptional || cur instanceof z.ZodDefault || cur instanceof z.ZodPrefault)
      cur = cur.unwrap() as z.ZodType;
    else if (cur instanceof z.ZodPipe) cur = cur.in as z.ZodType;
    else return cur;
  }
}

/** The default at `path`, when the schema has one, to suggest in a fix. */
function defaultAt(schema: z.ZodType, path: readonly PropertyKey[]): unknown {
  if (path.some((p) => typeof p !== "string") || path.length === 0) return undefined;
  const top = schemaAt(schema, path.slice(0, 1));
  if (!top) return undefined;
  const parsed = top.safeParse(undefined);
  return parsed.success ? valueAt(parsed.data, path.slice(1)) : undefined;
}
