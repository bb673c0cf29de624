/**
 * What the plan-based commands (`npm run plan`, `npm run cost`) share: the `--stack <name>
 * [--json] [--root <project dir>]` arguments, and running a command so that any failure, also one
 * inside the program's asynchronous work, prints its message and exits 1.
 */
import { exitWhenFlushed } from "../exit";

export interface StackArgs {
  stack: string;
  json: boolean;
  root?: string;
}

/** Parses `--stack <name> [--json] [--root <dir>]`; anything else is an error showing `usage`. */
export function parseStackArgs(argv: string[], usage: string): StackArgs {
  let stack: string | undefined;
  let root: string | undefined;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--json") json = true;
    else if (arg === "--root") root = argv[++i];
    else if (arg === "--stack" || arg === "-s") stack = argv[++i];
    else if (arg?.startsWith("--stack=")) stack = arg.slice("--stack=".length);
    else throw new Error(`unknown argument "${arg}"\n${usage}`);
  }
  if (!stack) throw new Error(`--stack is required\n${usage}`);
  return { stack, json, root };
}

/** Runs `main`, exiting 0 when it succeeds and 1, with the error's message, when anything fails. */
export function runCommand(main: () => Promise<void>): void {
  const fail = (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    exitWhenFlushed(1);
  };
  // A failure inside the program's asynchronous work (an invoke, an apply) surfaces here, not in main.
  process.on("unhandledRejection", fail);
  main().then(() => exitWhenFlushed(0), fail);
}
