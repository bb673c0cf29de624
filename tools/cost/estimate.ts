/**
 * The monthly estimate of a plan (R-cost-review): every resource priced, grouped by part, with
 * what could not be priced and the usage-based charges left out, so a total is never read as the
 * whole bill.
 */
import type { PlanLike } from "../diff/compare";
import { priceResource, type ResourceCost } from "./price";
import { PRICES, type PriceTable } from "./table";

export interface PartCost {
  part: string;
  monthly: number;
  resources: ResourceCost[];
}

export interface Estimate {
  stack: string;
  project: string;
  region: string;
  currency: "USD";
  /** The date of the price table. */
  pricesCompiled: string;
  monthly: number;
  /** Parts with a priced resource, most expensive first. */
  parts: PartCost[];
  /** Every infrastructure resource, priced or not, in plan order. */
  resources: ResourceCost[];
  /** Resources with something that could not be priced. */
  unpriced: ResourceCost[];
  /** Resources with usage-based charges left out. */
  usage: ResourceCost[];
  /** Resources with no charge of their own. */
  free: number;
  /** Rates used whose figure is for another region, and rates with no stored source. */
  rates: {
    used: number;
    standIns: string[];
    /** The regions the stand-in figures are for, sorted. */
    standInRegions: string[];
    unverified: string[];
  };
}

/** Prices every resource of `plan` in `region` (the stack's `aws:region`). */
export function estimatePlan(plan: PlanLike, region: string, table: PriceTable = PRICES): Estimate {
  const ctx = { table, region, resources: plan.resources };
  const resources = plan.resources.map((r) => priceResource(r, ctx)).filter((c): c is ResourceCost => !!c);
  const byPart = new Map<string, PartCost>();
  for (const cost of resources) {
    if (cost.items.length === 0) continue;
    const part = byPart.get(cost.part) ?? { part: cost.part, monthly: 0, resources: [] };
    part.monthly += cost.monthly;
    part.resources.push(cost);
    byPart.set(cost.part, part);
  }
  const used = new Map(resources.flatMap((c) => c.items.map((i) => [`${i.rate.key}@${c.region}`, i.rate] as const)));
  const rates = [...used.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    stack: plan.stack,
    project: plan.project,
    region,
    currency: "USD",
    pricesCompiled: table.compiled,
    monthly: resources.reduce((sum, c) => sum + c.monthly, 0),
    parts: [...byPart.values()].sort((a, b) => b.monthly - a.monthly || (a.part < b.part ? -1 : 1)),
    resources,
    unpriced: resources.filter((c) => c.unpriced.length > 0),
    usage: resources.filter((c) => c.usage.length > 0),
    free: resources.filter((c) => c.free).length,
    rates: {
      used: rates.length,
      standIns: rates.filter(([, r]) => r.standIn).map(([k]) => k),
      standInRegions: [...new Set(rates.filter(([, r]) => r.standIn).map(([, r]) => r.figureRegion))].sort(),
      unverified: rates.filter(([, r]) => r.unverified).map(([k]) => k),
    },
  };
}
