/**
 * Command-line flags: one table per command, from which both the parser and `--help` are made, so
 * the help text describes every flag the command accepts.
 */
import { UsageError } from "./errors";

export interface FlagSpec {
  name: string;
  /** boolean: present or not; string: one value; list: repeatable, or comma-separated. */
  kind: "boolean" | "string" | "list";
  /** Placeholder shown in help, e.g. `<stack>`. */
  value?: string;
  description: string;
  required?: boolean;
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** Positional arguments, shown after the command name, e.g. `on|off`. */
  positionals?: string;
  flags: FlagSpec[];
  /** Extra paragraphs for `--help`. */
  details?: string;
}

export type Flags = Record<string, string | boolean | string[] | undefined>;

/** Every command takes these. */
export const COMMON_FLAGS: FlagSpec[] = [
  { name: "stack", kind: "string", value: "<stack>", description: "the Pulumi stack, e.g. staging", required: true },
  { name: "json", kind: "boolean", description: "print the result as JSON on stdout (progress stays on stderr)" },
  { name: "help", kind: "boolean", description: "show this help" },
];

/** Parses `argv` (after the command name) against `spec`; throws UsageError naming the bad flag. */
export function parseFlags(spec: CommandSpec, argv: readonly string[]): { flags: Flags; positionals: string[] } {
  const all = [...spec.flags, ...COMMON_FLAGS];
  const flags: Flags = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const flag = all.find((f) => f.name === name);
    if (!flag) {
      throw new UsageError(
        `unknown flag --${name} for "${spec.name}"; known: ${all.map((f) => `--${f.name}`).join(", ")}`,
        spec.name,
      );
    }
    if (flag.kind === "boolean") {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`, spec.name);
      flags[name] = true;
      continue;
    }
    const value = eq !== -1 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq === -1 && value.startsWith("--"))) {
      throw new UsageError(`--${name} needs a value ${flag.value ?? ""}`.trim(), spec.name);
    }
    if (flag.kind === "string") {
      if (flags[name] !== undefined) throw new UsageError(`--${name} given twice`, spec.name);
      flags[name] = value;
    } else {
      const list = (flags[name] as string[] | undefined) ?? [];
      flags[name] = [...list, ...value.split(",").filter((v) => v !== "")];
    }
  }
  if (flags.help !== true) {
    for (const f of all.filter((x) => x.required)) {
      if (flags[f.name] === undefined)
        throw new UsageError(`--${f.name} ${f.value ?? ""} is required`.trim(), spec.name);
    }
  }
  return { flags, positionals };
}

/** The `--help` text of one command. */
export function renderHelp(spec: CommandSpec): string {
  const all = [...spec.flags, ...COMMON_FLAGS];
  const left = (f: FlagSpec) => `--${f.name}${f.value ? ` ${f.value}` : ""}`;
  const width = Math.max(...all.map((f) => left(f).length)) + 2;
  const lines = [
    `Usage: opsbook ${spec.name}${spec.positionals ? ` ${spec.positionals}` : ""} --stack <stack> [flags]`,
    "",
    spec.summary,
    "",
    "Flags:",
    ...all.map(
      (f) =>
        `  ${left(f).padEnd(width)}${f.description}${f.required ? " (required)" : ""}${f.kind === "list" ? " (repeatable, or comma-separated)" : ""}`,
    ),
  ];
  if (spec.details) lines.push("", spec.details);
  return lines.join("\n") + "\n";
}

export const str = (flags: Flags, name: string): string | undefined => {
  const v = flags[name];
  return typeof v === "string" ? v : undefined;
};
export const list = (flags: Flags, name: string): string[] => {
  const v = flags[name];
  return Array.isArray(v) ? v : [];
};
export const bool = (flags: Flags, name: string): boolean => flags[name] === true;
