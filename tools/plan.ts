/**
 * `npm run plan -- --stack <name> [--json]`: what the program would declare for a stack, offline.
 */
import { buildPlan } from "./plan/plan";
import { renderTree } from "./plan/render";
import { parseStackArgs, runCommand } from "./plan/cli";

const USAGE = "usage: npm run plan -- --stack <name> [--json] [--root <project dir>]";

async function main(): Promise<void> {
  const { stack, json, root } = parseStackArgs(process.argv.slice(2), USAGE);
  const plan = await buildPlan(stack, { root });
  process.stdout.write(json ? `${JSON.stringify(plan, null, 2)}\n` : `${renderTree(plan)}\n`);
}

runCommand(main);
