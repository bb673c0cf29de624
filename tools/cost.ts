/**
 * `npm run cost -- --stack <name> [--json] [--root <project dir>]`: what a stack costs a month on
 * demand, from the offline plan (built in this process) and the price table in tools/cost/
 * (R-cost-review). Prints what it cannot price and the usage-based charges it leaves out.
 */
import { estimatePlan } from "./cost/estimate";
import { estimateJson, renderEstimateText } from "./cost/render";
import { parseStackArgs, runCommand } from "./plan/cli";
import * as path from "node:path";
import { buildPlan, REPO_ROOT } from "./plan/plan";
import { readStackFile, regionOfStackFile } from "./plan/stackFile";

const USAGE = "usage: npm run cost -- --stack <name> [--json] [--root <project dir>]";

async function main(): Promise<void> {
  const { stack, json, root } = parseStackArgs(process.argv.slice(2), USAGE);
  const plan = await buildPlan(stack, { root });
  // The region the program's provider uses; resources with their own `region` input keep theirs.
  // From the stack file the plan was built from (--root, else this repository), wherever this runs.
  const region = regionOfStackFile(readStackFile(path.resolve(root ?? REPO_ROOT), stack));
  const estimate = estimatePlan(plan, region);
  process.stdout.write(
    json ? `${JSON.stringify(estimateJson(estimate), null, 2)}\n` : `${renderEstimateText(estimate)}\n`,
  );
}

runCommand(main);
