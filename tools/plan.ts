/**
 * `npm run plan -- --stack <name> [--json]`: what the program would declare for a stack, offline.
 */
import { buildPlan } from "./plan/plan";
import { renderTree } from "./plan/render";
import { exitWhenFlushed } from "./exit";

const USAGE = "usage: npm run plan -- --stack <name> [--json] [--root <project dir>]";

function parseArgs(argv: string[]): { stack: string; json: boolean; root?: string } {
  let stack: string | undefined;
  let root: string | undefined;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--json") json = true;
    else if (arg === "--root") root = argv[++i];
    else if (arg === "--stack" || arg === "-s") stack = argv[++i];
    else if (arg?.startsWith("--stack=")) stack = arg.slice("--stack=".length);
    else throw new Error(`unknown argument "${arg}"\n${USAGE}`);
  }
  if (!stack) throw new Error(`--stack is required\n${USAGE}`);
  return { stack, json, root };
}

async function main(): Promise<void> {
  const { stack, json, root } = parseArgs(process.argv.slice(2));
  const plan = await buildPlan(stack, { root });
  process.stdout.write(json ? `${JSON.stringify(plan, null, 2)}\n` : `${renderTree(plan)}\n`);
}

// A failure inside the program's asynchronous work (an invoke, an apply) surfaces here, not in main.
process.on("unhandledRejection", (err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  exitWhenFlushed(1);
});

main().then(
  () => exitWhenFlushed(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    exitWhenFlushed(1);
  },
);
