/**
 * `npm run policy -- --stack <name> | --plan <file> [--config <file>] [--json]`: the policy pack over
 * a stack's offline plan, with the stack's policy config, printed as `pulumi preview` prints
 * violations. Exit 0 when no mandatory rule is violated, 1 when one is, 2 when the run itself fails.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Policy } from "@pulumi/policy";
import { PACK_NAME, policies } from "../../policy/pack";
import type { RecordedResource } from "../plan/mocks";
import type { Plan } from "../plan/plan";
import { DEFAULT_REGION, readStackFile } from "../plan/stackFile";
import { type ReconciledConfig, readPackConfig, reconcileConfig } from "./config";
import { type Diagnostic, analyzePlan } from "./engine";
import { countByLevel, renderDiagnostics } from "./render";

export const EXIT = { ok: 0, violations: 1, error: 2 } as const;

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** Builds a stack's offline plan. Loaded on demand: reading a plan file needs no Pulumi runtime. */
function buildPlan(stack: string, options: { load?: () => unknown } = {}): Promise<Plan> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- import() would skip the .ts require hook
  return (require("../plan/plan") as typeof import("../plan/plan")).buildPlan(stack, options);
}

const USAGE = "usage: npm run policy -- (--stack <name> | --plan <plan.json>) [--config <policy config.json>] [--json]";

export const POLICY_DIR = path.join(REPO_ROOT, "policy");

/** Where a stack's policy config lives: policy/config/<stack>.json. */
export function stackConfigFile(stack: string): string {
  return path.join(POLICY_DIR, "config", `${stack}.json`);
}

/** The pack's version, from its package.json, as the engine reports it. */
export function packVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(POLICY_DIR, "package.json"), "utf8")) as { version: string }).version;
}

/** Reads a plan written by `npm run plan -- --json`; missing options default as the mocks record them. */
export function readPlanFile(file: string): Plan {
  let raw: Partial<Plan>;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<Plan>;
  } catch (err) {
    throw new Error(
      `--plan ${file}: ${err instanceof Error ? err.message : String(err)}. Write plans with: npm run -s plan -- --stack <name> --json > ${file}`,
    );
  }
  if (typeof raw.stack !== "string" || !Array.isArray(raw.resources))
    throw new Error(
      `${file} is not a plan: expected { stack, project, resources: [...] } as written by npm run plan -- --json`,
    );
  const resources = raw.resources.map((r: Partial<RecordedResource>, i): RecordedResource => {
    if (typeof r.urn !== "string" || typeof r.type !== "string" || typeof r.name !== "string")
      throw new Error(`${file}: resources[${i}] needs urn, type and name`);
    return {
      urn: r.urn,
      type: r.type,
      name: r.name,
      ...(r.parent ? { parent: r.parent } : {}),
      custom: r.custom ?? true,
      protect: r.protect ?? false,
      dependencies: r.dependencies ?? [],
      retainOnDelete: r.retainOnDelete ?? false,
      deleteBeforeReplace: r.deleteBeforeReplace ?? false,
      ignoreChanges: r.ignoreChanges ?? [],
      inputs: r.inputs ?? {},
    };
  });
  return { stack: raw.stack, project: raw.project ?? "opsbook", resources, outputs: raw.outputs ?? {} };
}

/** The region the plan's placeholder outputs were made for: the stack file's, else the one its ARNs name. */
export function regionOf(plan: Plan): string {
  if (fs.existsSync(path.join(REPO_ROOT, `Pulumi.${plan.stack}.yaml`))) {
    const region = readStackFile(REPO_ROOT, plan.stack).config["aws:region"];
    if (region) return region;
  }
  return (
    /"arn:aws[a-z-]*:[a-z0-9-]+:([a-z]{2}(?:-gov)?-[a-z]+-\d):/.exec(JSON.stringify(plan.resources))?.[1] ??
    DEFAULT_REGION
  );
}

/** What one run found. */
export interface PolicyReport {
  plan: Plan;
  /** The config file applied, if any. */
  configFile?: string;
  diagnostics: Diagnostic[];
  exitCode: number;
}

/** Runs the pack (or `packPolicies`) over a plan with the config in `configFile` (none: the pack's defaults). */
export async function checkPlan(
  plan: Plan,
  options: { configFile?: string; packPolicies?: readonly Policy[] } = {},
): Promise<PolicyReport> {
  const packPolicies = options.packPolicies ?? policies;
  const config: ReconciledConfig = reconcileConfig(
    packPolicies,
    "mandatory",
    options.configFile ? readPackConfig(options.configFile) : {},
    options.configFile,
  );
  const diagnostics = await analyzePlan(plan.resources, regionOf(plan), {
    name: PACK_NAME,
    version: packVersion(),
    policies: packPolicies,
    config,
  });
  return {
    plan,
    ...(options.configFile ? { configFile: options.configFile } : {}),
    diagnostics,
    exitCode: countByLevel(diagnostics).mandatory > 0 ? EXIT.violations : EXIT.ok,
  };
}

/** Builds a stack's offline plan in this process and runs the pack over it with the stack's config. */
export async function checkStack(
  stack: string,
  options: { configFile?: string; load?: () => unknown } = {},
): Promise<PolicyReport> {
  const plan = await buildPlan(stack, options.load ? { load: options.load } : {});
  const configFile = options.configFile ?? (fs.existsSync(stackConfigFile(stack)) ? stackConfigFile(stack) : undefined);
  return checkPlan(plan, configFile ? { configFile } : {});
}

interface Args {
  stack?: string;
  plan?: string;
  config?: string;
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { json: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) throw new Error(`${arg} needs a value\n${USAGE}`);
      return v;
    };
    if (arg === "--json") args.json = true;
    else if (arg === "--stack" || arg === "-s") args.stack = value();
    else if (arg === "--plan") args.plan = value();
    else if (arg === "--config") args.config = value();
    else throw new Error(`unknown argument "${arg}"\n${USAGE}`);
  }
  if ((args.stack === undefined) === (args.plan === undefined))
    throw new Error(`give exactly one of --stack and --plan\n${USAGE}`);
  return args;
}

/** Output streams, so tests can capture them. */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
}

const PROCESS_IO: Io = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) };

/** The command line: prints the violations and returns the exit code. */
export async function runCli(argv: string[], io: Io = PROCESS_IO): Promise<number> {
  try {
    const args = parseArgs(argv);
    const plan = args.plan ? readPlanFile(args.plan) : await buildPlan(args.stack!);
    const configFile =
      args.config ?? (fs.existsSync(stackConfigFile(plan.stack)) ? stackConfigFile(plan.stack) : undefined);
    if (!configFile)
      io.stderr(
        `note: no ${path.relative(REPO_ROOT, stackConfigFile(plan.stack))}; the pack's default levels and settings apply\n`,
      );
    const report = await checkPlan(plan, configFile ? { configFile } : {});
    const { mandatory, advisory } = countByLevel(report.diagnostics);
    if (args.json) {
      io.stdout(
        `${JSON.stringify({ stack: plan.stack, configFile: configFile ? path.relative(REPO_ROOT, configFile) : null, mandatory, advisory, diagnostics: report.diagnostics }, null, 2)}\n`,
      );
    } else {
      const scope = `${plan.project}/${plan.stack}, ${plan.resources.length} resources, ${configFile ? `config ${path.relative(REPO_ROOT, configFile)}` : "default config"}`;
      io.stdout(
        `${renderDiagnostics(report.diagnostics, { name: PACK_NAME, version: packVersion(), path: "policy" }, scope)}\n`,
      );
    }
    return report.exitCode;
  } catch (e) {
    io.stderr(`${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT.error;
  }
}
