/**
 * The command line of `npm run diff`: exactly one source of changes (a git ref, two plan files or
 * a preview) and an output format. Every error names the argument, the value and the fix.
 */
import { FORMATS, type Format } from "./render";

export const USAGE = [
  "usage: npm run diff -- --stack <name> --base <git ref> [--format text|markdown|json]",
  "       npm run diff -- --base-plan <file> --head-plan <file> [--format ...]",
  "       npm run diff -- --preview <file, or - for stdin> [--stack <name>] [--format ...]",
].join("\n");

export interface DiffArgs {
  stack?: string;
  base?: string;
  basePlan?: string;
  headPlan?: string;
  preview?: string;
  format: Format;
}

type ValueKey = Exclude<keyof DiffArgs, "format"> | "format";

const FLAGS: Readonly<Record<string, ValueKey>> = {
  "--stack": "stack",
  "-s": "stack",
  "--base": "base",
  "--base-plan": "basePlan",
  "--head-plan": "headPlan",
  "--preview": "preview",
  "--format": "format",
};

/** Parses the arguments after `npm run diff --`; throws with the usage on a mistake. */
export function parseDiffArgs(argv: readonly string[]): DiffArgs {
  const values: Partial<Record<ValueKey, string>> = {};
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const eq = raw.startsWith("--") ? raw.indexOf("=") : -1;
    const flag = eq > 0 ? raw.slice(0, eq) : raw;
    const key = FLAGS[flag];
    if (!key) throw new Error(`unknown argument "${raw}"\n${USAGE}`);
    const value = eq > 0 ? raw.slice(eq + 1) : argv[++i];
    if (value === undefined || value === "") throw new Error(`${flag} needs a value\n${USAGE}`);
    values[key] = value;
  }
  const format = values.format ?? "text";
  if (!(FORMATS as readonly string[]).includes(format))
    throw new Error(`--format "${format}" is not a format: use one of ${FORMATS.join(", ")}`);
  const sources = [values.base, values.basePlan ?? values.headPlan, values.preview].filter(
    (v) => v !== undefined,
  ).length;
  if (sources !== 1)
    throw new Error(`give exactly one of --base, --base-plan with --head-plan, or --preview\n${USAGE}`);
  if ((values.basePlan === undefined) !== (values.headPlan === undefined))
    throw new Error(`--base-plan and --head-plan go together: give both files\n${USAGE}`);
  if (values.base !== undefined && values.stack === undefined)
    throw new Error(`--base needs --stack <name>, e.g. --stack staging\n${USAGE}`);
  const { format: _format, ...rest } = values;
  return { ...rest, format: format as Format };
}
