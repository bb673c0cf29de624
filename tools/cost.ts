/**
 * `npm run cost -- --stack <name> [--json] [--root <project dir>]`: what a stack costs a month on
 * demand, from the offline plan (built in this process) and the price table in tools/cost/
 * (R-cost-review). Prints what it cannot price and the usage-based charges it leaves out.
 */
import { estimatePlan } from "./cost/estimate";
import { estimateJson, renderEstimateText } from "./cost/render";
import { exitWhenFlushed } from "./exit";
import { buildPlan } from "./plan/plan";
import { readStackFile } from "./plan/stackFile";

const USAGE = "usage: npm run cost -- --stack <name> [--json] [--root <project dir>]";

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
  // The region the program's provider uses; resources with their own `region` input keep theirs.
  const region = readStackFile(root ?? process.cwd(), stack).config["aws:region"] ?? "us-east-1";
  const estimate = estimatePlan(plan, region);
  process.stdout.write(
    json ? `${JSON.stringify(estimateJson(estimate), null, 2)}\n` : `${renderEstimateText(estimate)}\n`,
  );
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
