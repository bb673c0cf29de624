/**
 * The `opsbook` command: the runbooks' release procedures as commands over the stack (runbooks
 * 001, 002, 004). `run` takes its world as arguments (argv, output, clock, signal), so the tests
 * drive it in-process; `main.ts` wires it to the process.
 */
import { COMMON_FLAGS, parseFlags, renderHelp, type CommandSpec } from "./args";
import { deploy, deploySpec, repoGit } from "./commands/deploy";
import { history, historySpec } from "./commands/history";
import { maintenance, maintenanceSpec } from "./commands/maintenance";
import { rollback, rollbackSpec } from "./commands/rollback";
import type { Context } from "./context";
import { EXIT, OpsError, UsageError } from "./errors";
import { Progress } from "./progress";
import { openStack, type StackHandle } from "./pulumi";
import { awsClients, type AwsClients } from "./aws";
import type { Fetch } from "./deploy/verify";

const COMMANDS: Array<{ spec: CommandSpec; run: (ctx: Context) => Promise<number> }> = [
  { spec: deploySpec, run: deploy },
  { spec: rollbackSpec, run: rollback },
  { spec: historySpec, run: history },
  { spec: maintenanceSpec, run: maintenance },
];

export function toolHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.spec.name.length)) + 2;
  return [
    "Usage: opsbook <command> --stack <stack> [flags]",
    "",
    "Deploy, verify and roll back the opsbook stacks, reading each stack's outputs and update history.",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.spec.name.padEnd(width)}${c.spec.summary}`),
    "",
    "Flags of every command:",
    ...COMMON_FLAGS.map((f) => `  --${f.name}${f.value ? ` ${f.value}` : ""}  ${f.description}`),
    "",
    "Progress goes to stderr, step by step with elapsed times; results (and --json) go to stdout.",
    `Exit codes: ${EXIT.ok} done, ${EXIT.failed} a step failed, ${EXIT.usage} bad command line, ${EXIT.refused} refused before any change,`,
    `  ${EXIT.rolledBack} deploy failed and was rolled back, ${EXIT.interrupted} interrupted (Ctrl-C cancels the running update).`,
    "",
    "Run `opsbook <command> --help` for the flags of each command.",
    "",
  ].join("\n");
}

export interface World {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  now?: () => Date;
  signal?: AbortSignal;
  openStack?: (stack: string, workDir?: string, env?: Record<string, string>) => Promise<StackHandle>;
  git?: (args: string[]) => string;
  aws?: (region: string) => AwsClients;
  fetch?: Fetch;
  sleep?: (ms: number) => Promise<void>;
  env?: Record<string, string | undefined>;
}

/** Runs one command line; returns the exit code. Errors are printed with what to do. */
export async function run(argv: readonly string[], world: World): Promise<number> {
  const now = world.now ?? (() => new Date());
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "help" || name === "-h") {
    world.stdout(toolHelp());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const progress = new Progress(world.stderr, () => now().getTime());
  try {
    const command = COMMANDS.find((c) => c.spec.name === name);
    if (!command)
      throw new UsageError(`unknown command "${name}"; commands: ${COMMANDS.map((c) => c.spec.name).join(", ")}`, "");
    const { flags, positionals } = parseFlags(command.spec, rest);
    if (flags.help === true) {
      world.stdout(renderHelp(command.spec));
      return EXIT.ok;
    }
    if (!command.spec.positionals && positionals.length > 0) {
      throw new UsageError(`unexpected argument "${positionals[0]}"`, command.spec.name);
    }
    return await command.run({
      flags,
      positionals,
      out: world.stdout,
      progress,
      now,
      signal: world.signal ?? new AbortController().signal,
      openStack: world.openStack ?? ((stack, dir, env) => openStack(stack, dir, env)),
      git: world.git ?? repoGit,
      aws: world.aws ?? awsClients,
      fetch: world.fetch ?? ((url, init) => fetch(url, init)),
      sleep: world.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
      env: world.env ?? process.env,
    });
  } catch (e) {
    const err =
      e instanceof OpsError
        ? e
        : new OpsError(
            e instanceof Error ? e.message : String(e),
            "this is a bug in opsbook; report it with the output above",
          );
    world.stderr(`opsbook ${name}: ${err.message}\n  what to do: ${err.hint}\n`);
    return err.exitCode;
  }
}
