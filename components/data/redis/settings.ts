/**
 * `opsbook:redis`: the cache's settings, their defaults and the rules between them. The Redis
 * component takes the parsed result as its arguments.
 */
import { z } from "zod";
import { cacheEngineProblem } from "../../../lib/engines";
import { type Report, bool, hhmm, int, matching, oneOf, report, weeklyWindow, ON_VALID } from "../../../lib/schema";
import { dailyHourOverlaps } from "../../../lib/time";

export const redisSettings = z
  .strictObject({
    engine: oneOf(["redis", "valkey"])
      .default("redis")
      .describe("`redis` (Redis OSS 7.0 / 7.1) or `valkey` (7.2 and later) (R-cache-version)"),
    engineVersion: matching(/^\d+(\.\d+)?$/, 'a version, e.g. "7.1"')
      .default("7.1")
      .describe("major.minor: 7.0 or 7.1 for redis, 7.2 or later for valkey"),
    nodeType: matching(/^cache\.[a-z0-9]+\.[a-z0-9]+$/, "an ElastiCache node type, e.g. cache.t4g.small")
      .default("cache.t4g.small")
      .describe("ElastiCache node type"),
    nodes: int(1, 6)
      .default(2)
      .describe("a primary plus replicas; with 2 or more a replica takes over when the primary fails"),
    multiAz: bool().default(true).describe("nodes spread over zones, failing over across them; needs 2+ nodes"),
    snapshotRetentionDays: int(1, 35, " days").default(7).describe("days daily snapshots are kept"),
    snapshotWindowStart: hhmm
      .default("03:00")
      .describe("start of the daily one-hour snapshot window, local to `timeZone`"),
    maintenanceWindow: weeklyWindow
      .default("sun:05:00-sun:06:00")
      .describe("weekly maintenance window in UTC; must not overlap the snapshot window"),
  })
  .superRefine((rd, ctx) => {
    const engineProblem = cacheEngineProblem(rd.engine, rd.engineVersion);
    if (engineProblem) {
      report(ctx, ["engineVersion"], rd.engineVersion, engineProblem, rd.engine === "redis" ? "7.1" : undefined);
    }
    if (rd.multiAz && rd.nodes < 2) {
      report(
        ctx,
        ["nodes"],
        rd.nodes,
        "at least 2 when redis.multiAz is true (a primary and a replica in another zone)",
        2,
      );
    }
  }, ON_VALID)
  .prefault({})
  .describe("the ElastiCache replication group");

export type RedisSettings = z.output<typeof redisSettings>;

/** Rules that need the stack's time zone. Paths are relative to `opsbook:redis`. */
export function redisStackRules(rd: RedisSettings, stack: { timeZone: string }, add: Report): void {
  if (dailyHourOverlaps(rd.snapshotWindowStart, stack.timeZone, rd.maintenanceWindow)) {
    add(
      ["maintenanceWindow"],
      rd.maintenanceWindow,
      `a window that does not overlap the daily snapshot window (${rd.snapshotWindowStart} ${stack.timeZone}, one hour)`,
    );
  }
}
