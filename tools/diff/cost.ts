/**
 * The monthly cost change of a diff (R-cost-review): the stack's estimate before and after, and
 * each changed resource's share. Reported beside the risks, not as one: the risk kinds are about
 * data, exposure, alarms and capacity, and a cost increase is a decision for the reviewer, so it
 * neither adds a risk nor changes the exit code.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { estimatePlan } from "../cost/estimate";
import { priceResource, type ResourceCost } from "../cost/price";
import { PRICES } from "../cost/table";
import { readStackFile } from "../plan/stackFile";
import type { PlanLike } from "./compare";
import type { Change, ChangeOp, DiffReport } from "./model";

export interface ResourceCostChange {
  op: ChangeOp;
  urn: string;
  type: string;
  name: string;
  before: number;
  after: number;
  /**
   * after - before; null when either side could not be fully priced (e.g. a service whose task
   * definition a preview does not hold), since what was left out may be what changed.
   */
  delta: number | null;
  /** What could not be priced on either side. */
  unpriced: string[];
}

export interface CostChange {
  region: string;
  pricesCompiled: string;
  /** The whole stack a month; absent for a preview, which holds the changed resources only. */
  before?: number;
  after?: number;
  /** For two plans, after - before; for a preview, the sum of the changed resources' known deltas. */
  delta: number;
  /** Changed resources whose monthly figure moved, or that could not be fully priced. */
  resources: ResourceCostChange[];
}

/**
 * The stack's `aws:region` from its stack file in `root`, or why there is none to price in: the
 * file is not here, sets no region, or cannot be read (its own error, so the cause shows).
 */
export function stackRegion(root: string, stack: string): { region: string } | { skipped: string } {
  const file = `Pulumi.${stack}.yaml`;
  if (!fs.existsSync(path.join(path.resolve(root), file))) return { skipped: `${file} is not here` };
  let region: string | undefined;
  try {
    region = readStackFile(path.resolve(root), stack).config["aws:region"];
  } catch (e) {
    return { skipped: `${file} cannot be read: ${e instanceof Error ? e.message : String(e)}` };
  }
  return region ? { region } : { skipped: `${file} sets no aws:region` };
}

function change(c: Change, before: ResourceCost | undefined, after: ResourceCost | undefined): ResourceCostChange {
  const b = before?.monthly ?? 0;
  const a = after?.monthly ?? 0;
  // Something left out on either side (a service whose task definition a preview does not hold)
  // may be what changed: no difference is claimed then.
  const comparable = (before?.unpriced.length ?? 0) === 0 && (after?.unpriced.length ?? 0) === 0;
  return {
    op: c.op,
    urn: c.urn,
    type: c.type,
    name: c.name,
    before: b,
    after: a,
    delta: comparable ? a - b : null,
    unpriced: [...new Set([...(before?.unpriced ?? []), ...(after?.unpriced ?? [])])],
  };
}

/** Keeps the changes a reviewer should see: a cost that moved, or one that could not be priced. */
function relevant(changes: ResourceCostChange[]): ResourceCostChange[] {
  return changes
    .filter((c) => c.delta === null || Math.abs(c.delta) >= 0.005 || c.unpriced.length > 0)
    .sort((x, y) => Math.abs(y.delta ?? Infinity) - Math.abs(x.delta ?? Infinity) || (x.urn < y.urn ? -1 : 1));
}

/** The cost change between two offline plans of a stack in `region`. */
export function costOfPlans(base: PlanLike, head: PlanLike, report: DiffReport, region: string): CostChange {
  const before = estimatePlan(base, region);
  const after = estimatePlan(head, region);
  const beforeByUrn = new Map(before.resources.map((c) => [c.urn, c]));
  const afterByUrn = new Map(after.resources.map((c) => [c.urn, c]));
  const resources = report.changes.map((c) =>
    change(c, beforeByUrn.get(c.renamedFrom ?? c.before?.urn ?? c.urn), c.after ? afterByUrn.get(c.urn) : undefined),
  );
  return {
    region,
    pricesCompiled: PRICES.compiled,
    before: before.monthly,
    after: after.monthly,
    delta: after.monthly - before.monthly,
    resources: relevant(resources),
  };
}

/**
 * The cost change of a preview's changes. Only changed resources are in a preview, so a resource
 * priced through another (a service through its task definition) is priced only when that one
 * changed too; otherwise it is reported as not priced.
 */
export function costOfChanges(report: DiffReport, region: string): CostChange {
  const befores = report.changes.flatMap((c) => (c.before ? [c.before] : []));
  const afters = report.changes.flatMap((c) => (c.after ? [c.after] : []));
  const resources = report.changes.map((c) =>
    change(
      c,
      c.before ? priceResource(c.before, { table: PRICES, region, resources: befores }) : undefined,
      c.after ? priceResource(c.after, { table: PRICES, region, resources: afters }) : undefined,
    ),
  );
  return {
    region,
    pricesCompiled: PRICES.compiled,
    delta: resources.reduce((sum, c) => sum + (c.delta ?? 0), 0),
    resources: relevant(resources),
  };
}
