/**
 * The price table (`prices.json`): on-demand rates with their sources, checked when it is loaded so
 * that a rate without a source, or a source that is not listed, fails at once instead of pricing a
 * stack with a figure nobody can trace (R-cost-review).
 */
import { z } from "zod";
import raw from "./prices.json";

const regional = z.strictObject({ usd: z.number().min(0), source: z.string() });

const rateSchema = z.strictObject({
  usd: z.number().min(0),
  /** What one unit is: "instance-hour", "GB-month", ... */
  per: z.string().min(1),
  source: z.string(),
  /** The region the figure is for; "all" when the source says the price is the same everywhere. */
  figureRegion: z.string().min(1),
  /** vCPUs of an instance class (RDS Proxy bills per vCPU of its target). */
  vcpu: z.number().int().positive().optional(),
  /** Figures for a region the default figure is not for. */
  byRegion: z.record(z.string(), regional).optional(),
});

const tableSchema = z
  .strictObject({
    compiled: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    currency: z.literal("USD"),
    hoursPerMonth: z.number().positive(),
    basis: z.string().min(1),
    regions: z.array(z.string()).min(1),
    sources: z.record(z.string(), z.strictObject({ title: z.string(), url: z.url(), dated: z.string() })),
    rates: z.record(z.string(), rateSchema),
  })
  .superRefine((table, ctx) => {
    for (const [key, rate] of Object.entries(table.rates)) {
      for (const source of [rate.source, ...Object.values(rate.byRegion ?? {}).map((r) => r.source)]) {
        if (!(source in table.sources))
          ctx.addIssue({
            code: "custom",
            path: ["rates", key, "source"],
            message: `names source "${source}", which is not in "sources"`,
          });
      }
    }
  });

export type PriceTable = z.infer<typeof tableSchema>;
export type RateKey = string;

/** Parses a price table; throws naming the entry and the problem. */
export function parsePriceTable(input: unknown): PriceTable {
  const parsed = tableSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`);
    throw new Error(`tools/cost/prices.json is not a valid price table:\n  ${problems.join("\n  ")}`);
  }
  return parsed.data;
}

/** The committed table. */
export const PRICES: PriceTable = parsePriceTable(raw);

/** A rate as it applies in one region. */
export interface AppliedRate {
  key: RateKey;
  usd: number;
  per: string;
  source: string;
  /** True when the figure is for another region (a stand-in, usually us-east-1). */
  standIn: boolean;
  /** The region the figure is for ("all": the same everywhere). */
  figureRegion: string;
  /** True when no stored source backs the figure. */
  unverified: boolean;
}

/** The rate `key` in `region`, or undefined when the table has no such rate. */
export function rateIn(table: PriceTable, key: RateKey, region: string): AppliedRate | undefined {
  const rate = table.rates[key];
  if (!rate) return undefined;
  const local = rate.byRegion?.[region];
  const source = local?.source ?? rate.source;
  return {
    key,
    usd: local?.usd ?? rate.usd,
    per: rate.per,
    source,
    standIn: !local && rate.figureRegion !== "all" && rate.figureRegion !== region,
    figureRegion: local ? region : rate.figureRegion,
    unverified: source === "none",
  };
}
