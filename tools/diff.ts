/**
 * `npm run diff`: what a change does to a stack, risky changes first.
 *
 *   npm run diff -- --stack staging --base origin/main        offline plan at the ref vs the working tree
 *   npm run diff -- --base-plan base.json --head-plan head.json   two saved offline plans
 *   npm run diff -- --preview preview.json                    `pulumi preview --json` output ("-": stdin)
 *
 * Exit code: 0 nothing risky, 2 something risky, 1 an error.
 */
import * as path from "node:path";
import { type DiffArgs, parseDiffArgs } from "./diff/args";
import { planAtRef, runPlan } from "./diff/basePlan";
import { comparePlans, type PlanLike } from "./diff/compare";
import { type CostChange, costOfChanges, costOfPlans, stackRegion } from "./diff/cost";
import { type DiffReport, EXIT } from "./diff/model";
import { parseJson, readInput, readPlanFile } from "./diff/planFile";
import { parsePreview } from "./diff/preview";
import { render } from "./diff/render";
import { buildReport, exitCodeOf } from "./diff/report";
import { exitWhenFlushed } from "./exit";

const ROOT = path.resolve(__dirname, "..");

function samePlanStack(base: PlanLike, head: PlanLike): void {
  // A base without the stack file has no stack name: the stack is new.
  if (base.stack !== "" && base.stack !== head.stack) {
    throw new Error(
      `the base plan is of stack "${base.stack}" and the head plan of "${head.stack}": compare two plans of the same stack`,
    );
  }
}

/** Adds the monthly cost change, priced in the region of the stack's file here (R-cost-review). */
function withCost(report: DiffReport, cost: (region: string) => CostChange): DiffReport {
  const found = stackRegion(ROOT, report.stack);
  if ("skipped" in found)
    return { ...report, costSkipped: `no aws:region for stack "${report.stack}": ${found.skipped}` };
  return { ...report, cost: cost(found.region) };
}

function fromPlans(base: PlanLike, head: PlanLike): DiffReport {
  samePlanStack(base, head);
  const report = buildReport({
    stack: head.stack,
    project: head.project || base.project,
    source: "plan",
    ...comparePlans(base, head),
  });
  return withCost(report, (region) => costOfPlans(base, head, report, region));
}

async function report(args: DiffArgs): Promise<DiffReport> {
  if (args.preview !== undefined) {
    const source = args.preview === "-" ? "standard input" : `"${args.preview}"`;
    const parsed = parsePreview(parseJson(readInput(args.preview), source), source);
    if (args.stack !== undefined && parsed.stack !== "" && parsed.stack !== args.stack) {
      throw new Error(
        `${source} is a preview of stack "${parsed.stack}", not --stack "${args.stack}": pass the preview of ${args.stack}, or drop --stack`,
      );
    }
    const previewReport = buildReport({
      stack: args.stack ?? parsed.stack,
      project: parsed.project,
      source: "preview",
      changes: parsed.changes,
      unchanged: parsed.unchanged,
    });
    return withCost(previewReport, (region) => costOfChanges(previewReport, region));
  }
  if (args.basePlan !== undefined && args.headPlan !== undefined) {
    const head = readPlanFile(args.headPlan);
    if (args.stack !== undefined && head.stack !== args.stack)
      throw new Error(
        `"${args.headPlan}" is a plan of stack "${head.stack}", not --stack "${args.stack}": pass plans of ${args.stack}, or drop --stack`,
      );
    return fromPlans(readPlanFile(args.basePlan), head);
  }
  const stack = args.stack!;
  // The working tree's plan starts first: it runs while git checks out the base. When either
  // fails, the other's process is stopped rather than left running.
  const stop = new AbortController();
  const stopOnFailure = <T>(p: Promise<T>) =>
    p.catch((e: unknown) => {
      stop.abort();
      throw e;
    });
  const head = stopOnFailure(runPlan(ROOT, stack, "the working tree", stop.signal));
  const base = stopOnFailure(planAtRef(ROOT, args.base!, stack, stop.signal));
  const [basePlan, headPlan] = await Promise.all([base, head]);
  return fromPlans(basePlan, headPlan);
}

async function main(): Promise<number> {
  const args = parseDiffArgs(process.argv.slice(2));
  const result = await report(args);
  process.stdout.write(`${render(result, args.format)}\n`);
  return exitCodeOf(result);
}

main().then(
  (code) => exitWhenFlushed(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    exitWhenFlushed(EXIT.error);
  },
);
