/**
 * An estimate as text (a terminal, the README) or JSON (CI). The text groups resources of a type
 * within a part and shows the arithmetic (quantity × rate), so a reader can check every figure
 * against the price table.
 */
import type { Estimate } from "./estimate";
import { type CostItem, money, type ResourceCost } from "./price";

/** Cents, for JSON: no float noise in the output. */
export function cents(usd: number): number {
  return Math.round(usd * 100) / 100;
}

function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function quantity(n: number): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: 3 });
}

/** Items of several resources with the same label and rate, summed. */
function sumItems(costs: readonly ResourceCost[]): CostItem[] {
  const byLine = new Map<string, CostItem>();
  for (const item of costs.flatMap((c) => c.items)) {
    const key = `${item.label}|${item.rate.key}|${item.rate.usd}`;
    const seen = byLine.get(key);
    byLine.set(
      key,
      seen ? { ...seen, quantity: seen.quantity + item.quantity, monthly: seen.monthly + item.monthly } : item,
    );
  }
  return [...byLine.values()];
}

function mark(item: CostItem): string {
  return item.rate.unverified ? " (no stored source)" : item.rate.standIn ? ` (${item.rate.figureRegion} figure)` : "";
}

/** The usage-based charges, one line per type and charge. */
function usageLines(estimate: Estimate): string[] {
  const byLine = new Map<string, number>();
  for (const c of estimate.usage)
    for (const u of c.usage) byLine.set(`${c.type}|${u}`, (byLine.get(`${c.type}|${u}`) ?? 0) + 1);
  return [...byLine].map(([key, n]) => {
    const [type, what] = key.split("|");
    return `  ${n > 1 ? `${n} × ` : ""}${type}: ${what}`;
  });
}

export function renderEstimateText(estimate: Estimate): string {
  const priced = estimate.resources.filter((c) => c.items.length > 0).length;
  const lines = [
    `${estimate.project || "stack"} / ${estimate.stack} (${estimate.region}): ${money(estimate.monthly)} a month, on-demand, price table of ${estimate.pricesCompiled}`,
    `  ${count(priced, "resource")} priced, ${estimate.free} with no charge of their own, ${estimate.unpriced.length} not (fully) priced, ${estimate.usage.length} with usage-based charges left out`,
    "",
    "By part:",
    ...estimate.parts.map((p) => `  ${p.part.padEnd(20)} ${money(p.monthly).padStart(12)}`),
    `  ${"total".padEnd(20)} ${money(estimate.monthly).padStart(12)}`,
  ];
  for (const part of estimate.parts) {
    lines.push("", `${part.part}  ${money(part.monthly)}`);
    const byType = new Map<string, ResourceCost[]>();
    for (const c of part.resources) byType.set(c.type, [...(byType.get(c.type) ?? []), c]);
    for (const [type, costs] of byType) {
      const total = costs.reduce((s, c) => s + c.monthly, 0);
      const who = costs.length === 1 ? `${type}  ${costs[0]!.name}` : `${costs.length} × ${type}`;
      lines.push(`  ${money(total).padStart(10)}  ${who}`);
      for (const item of sumItems(costs))
        lines.push(
          `              ${item.label}: ${quantity(item.quantity)} ${item.unit} × $${item.rate.usd}${mark(item)} = ${money(item.monthly)}`,
        );
      for (const note of new Set(costs.flatMap((c) => c.notes))) lines.push(`              note: ${note}`);
    }
  }
  if (estimate.unpriced.length > 0) {
    lines.push("", "Not priced (left out of the total):");
    for (const c of estimate.unpriced) lines.push(`  ${c.type}  ${c.name}: ${c.unpriced.join("; ")}`);
  }
  if (estimate.usage.length > 0)
    lines.push("", "Usage-based charges left out (they depend on traffic and data):", ...usageLines(estimate));
  const { used, standIns, standInRegions, unverified } = estimate.rates;
  lines.push(
    "",
    `Rates: ${used} used from tools/cost/prices.json; ${standIns.length} are figures for another region${standInRegions.length > 0 ? ` (${standInRegions.join(", ")})` : ""} standing in for ${estimate.region}, so the total is low by the regional premium; ${unverified.length} have no stored source${unverified.length > 0 ? ` (${unverified.map((k) => k.split("@")[0]).join(", ")})` : ""}. Account free tiers are not deducted.`,
  );
  return lines.join("\n");
}

/** Everything in the estimate, amounts in cents. */
export function estimateJson(estimate: Estimate): unknown {
  const resource = (c: ResourceCost) => ({
    urn: c.urn,
    type: c.type,
    name: c.name,
    part: c.part,
    region: c.region,
    monthly: cents(c.monthly),
    items: c.items.map((i) => ({
      label: i.label,
      quantity: i.quantity,
      unit: i.unit,
      rate: i.rate.key,
      usd: i.rate.usd,
      standIn: i.rate.standIn,
      unverified: i.rate.unverified,
      monthly: cents(i.monthly),
    })),
    usage: c.usage,
    unpriced: c.unpriced,
    notes: c.notes,
  });
  return {
    stack: estimate.stack,
    project: estimate.project,
    region: estimate.region,
    currency: estimate.currency,
    pricesCompiled: estimate.pricesCompiled,
    monthly: cents(estimate.monthly),
    parts: estimate.parts.map((p) => ({ part: p.part, monthly: cents(p.monthly) })),
    resources: estimate.resources.filter((c) => c.items.length > 0).map(resource),
    unpriced: estimate.unpriced.map((c) => ({ urn: c.urn, type: c.type, name: c.name, reasons: c.unpriced })),
    usage: estimate.usage.map((c) => ({ urn: c.urn, type: c.type, name: c.name, charges: c.usage })),
    free: estimate.free,
    rates: estimate.rates,
  };
}
