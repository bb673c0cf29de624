/**
 * The monitoring part's settings: `opsbook:alerts` (who is told), `thresholds` (the runbook table,
 * overridable value by value) and `customAlarms` (metrics the app publishes itself).
 */
import { z } from "zod";
import { inList, int, matching, num, oneOf, report, ON_VALID } from "../../lib/schema";
import { LOWER_IS_WORSE, THRESHOLDS, type ThresholdMetric } from "../../lib/thresholds";
import { customAlarms, describe } from "./alarmCatalogue";

/** CloudWatch's limit on an alarm's description (`AlarmDescription`, 1024 characters). */
export const ALARM_DESCRIPTION_MAX = 1024;

export const alertsSettings = z
  .strictObject({
    emails: z
      .array(z.email({ error: "an e-mail address" }), { error: "a list of e-mail addresses" })
      .default([])
      .describe("e-mail subscribers of both alarm topics"),
    httpsEndpoints: z
      .array(matching(/^https:\/\/\S+$/, "an https:// URL"), { error: "a list of https:// URLs" })
      .default([])
      .describe("HTTPS endpoints of a paging service, subscribed to the critical topic"),
  })
  .prefault({})
  .describe("where alarms go");

/** Upper bounds of each metric's threshold values. */
const MAXIMA: Record<ThresholdMetric, number> = {
  httpErrorRatePercent: 100,
  responseTimeP95Ms: 60000,
  cpuPercent: 100,
  memoryPercent: 100,
  diskPercent: 100,
  dbConnectionsPercent: 100,
  cacheHitRatePercent: 100,
  slowQueriesPerMinute: 100000,
  certificateDaysToExpiry: 365,
};

const thresholdPair = (metric: ThresholdMetric) =>
  z
    .strictObject({
      warning: num(0, MAXIMA[metric])
        .default(THRESHOLDS[metric].warning)
        .describe(`warning threshold${LOWER_IS_WORSE.has(metric) ? " (lower is worse)" : ""}`),
      critical: num(0, MAXIMA[metric])
        .default(THRESHOLDS[metric].critical)
        .describe(`critical threshold, ${LOWER_IS_WORSE.has(metric) ? "below" : "above"} the warning one`),
    })
    .superRefine((pair, ctx) => {
      const lower = LOWER_IS_WORSE.has(metric);
      if (!(lower ? pair.critical < pair.warning : pair.critical > pair.warning)) {
        report(
          ctx,
          ["critical"],
          pair.critical,
          `${lower ? "below" : "above"} the warning threshold (${pair.warning}): ${lower ? "lower" : "higher"} values are worse for ${metric}`,
        );
      }
    }, ON_VALID)
    .prefault({})
    .describe(`${LOWER_IS_WORSE.has(metric) ? "lower is worse; " : ""}critical beyond warning`);

export const thresholdsSettings = z
  .strictObject(
    Object.fromEntries(Object.keys(THRESHOLDS).map((m) => [m, thresholdPair(m as ThresholdMetric)])) as {
      [M in ThresholdMetric]: ReturnType<typeof thresholdPair>;
    },
  )
  .prefault({})
  .describe("alarm thresholds keyed by metric and severity; override one value and the rest keep the runbook's");

export type Thresholds = z.output<typeof thresholdsSettings>;

const customAlarm = z.strictObject({
  name: matching(
    /^[a-z][a-z0-9-]{0,39}$/,
    "lower-case letters, digits and '-', starting with a letter, at most 40 characters",
  ).describe("alarm name, unique among the custom alarms"),
  description: z
    .string({ error: "a sentence saying what broke and what to do" })
    .min(1, { error: "a sentence saying what broke and what to do" })
    .describe("what broke and what to do"),
  namespace: matching(/^[A-Za-z0-9./_#:-]{1,255}$/, "a CloudWatch namespace, e.g. Opsbook/App").describe(
    "CloudWatch namespace",
  ),
  metricName: matching(/^[A-Za-z0-9./_#:-]{1,255}$/, "a CloudWatch metric name, e.g. EventLoopLagP99").describe(
    "CloudWatch metric name",
  ),
  dimensions: z
    .record(z.string({ error: "a dimension name" }), z.string({ error: "a dimension value" }), {
      error: "a map of dimension name: value",
    })
    .default({})
    .describe("metric dimensions"),
  statistic: matching(
    /^(Average|Sum|Minimum|Maximum|SampleCount|p\d{1,2}(\.\d+)?)$/,
    "Average, Sum, Minimum, Maximum, SampleCount or a percentile like p99",
  )
    .default("Average")
    .describe("statistic over each period"),
  direction: oneOf(["above", "below"]).default("above").describe("`above`: higher is worse; `below`: lower is worse"),
  warning: num(-1e12, 1e12).describe("warning threshold"),
  critical: num(-1e12, 1e12).describe("critical threshold, beyond warning in `direction`"),
  periodSeconds: inList([10, 30, 60, 300, 900, 3600]).default(60).describe("seconds per period"),
  evaluationPeriods: int(1, 100).default(5).describe("periods beyond the threshold before the alarm fires"),
});

/**
 * Alarms on metrics the app publishes itself (R-alert-event-loop, R-alert-failed-jobs), at a warning
 * and a critical threshold like the built-in ones.
 */
export const customAlarmsSettings = z
  .array(customAlarm, { error: "a list of { name, description, namespace, metricName, warning, critical, ... }" })
  .superRefine((alarms, ctx) => {
    const names = new Set<string>();
    alarms.forEach((a, i) => {
      if (names.has(a.name)) report(ctx, [i, "name"], a.name, "a name no other custom alarm has");
      names.add(a.name);
      const ordered = a.direction === "above" ? a.critical > a.warning : a.critical < a.warning;
      if (!ordered) {
        report(
          ctx,
          [i, "critical"],
          a.critical,
          `${a.direction} the warning threshold (${a.warning}), since direction is "${a.direction}"`,
        );
      }
      // CloudWatch evaluates at most one day of periods shorter than an hour, and seven days of longer ones.
      const limit = a.periodSeconds < 3600 ? 86400 : 7 * 86400;
      if (a.periodSeconds * a.evaluationPeriods > limit) {
        report(
          ctx,
          [i, "evaluationPeriods"],
          a.evaluationPeriods,
          `at most ${Math.floor(limit / a.periodSeconds)} with periodSeconds ${a.periodSeconds} (CloudWatch evaluates at most ${limit / 86400} day${limit > 86400 ? "s" : ""})`,
          Math.floor(limit / a.periodSeconds),
        );
      }
      // The alarm's description is this text after the severity, metric, threshold and duration.
      const longest = Math.max(
        ...(["warning", "critical"] as const).map((severity) => describe(customAlarms([a])[0]!, severity).length),
      );
      if (longest > ALARM_DESCRIPTION_MAX) {
        report(
          ctx,
          [i, "description"],
          a.description,
          `at most ${a.description.length - (longest - ALARM_DESCRIPTION_MAX)} characters: the alarm's description adds the severity, metric, threshold and duration, and CloudWatch takes at most ${ALARM_DESCRIPTION_MAX}`,
        );
      }
    });
  }, ON_VALID)
  .default([])
  .describe("alarms on metrics the app publishes itself");

export type CustomAlarmSettings = z.output<typeof customAlarm>;
