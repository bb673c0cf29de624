/**
 * A diff report: the changes of one stack, their risks, and the exit code that tells a workflow
 * whether a human must approve them.
 */
import { classify } from "./classify";
import { type Change, type ChangeOp, type DiffReport, type DiffSource, EXIT } from "./model";

/** Classifies the changes of one stack into a report. */
export function buildReport(input: {
  stack: string;
  project: string;
  source: DiffSource;
  changes: Change[];
  unchanged: number;
}): DiffReport {
  return { ...input, risks: classify(input.changes) };
}

/** How many changes of each operation, plus the unchanged and risky counts. */
export function countChanges(report: DiffReport): Record<ChangeOp, number> & { unchanged: number; risky: number } {
  const count = (op: ChangeOp) => report.changes.filter((c) => c.op === op).length;
  const riskyUrns = new Set(report.risks.map((r) => r.urn));
  return {
    create: count("create"),
    update: count("update"),
    replace: count("replace"),
    delete: count("delete"),
    unchanged: report.unchanged,
    risky: riskyUrns.size,
  };
}

/** 0 when nothing is risky, 2 when something is (see EXIT). */
export function exitCodeOf(report: DiffReport): number {
  return report.risks.length > 0 ? EXIT.risky : EXIT.noRisk;
}
