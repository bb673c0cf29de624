/**
 * What the alarms of each real stack mean, proven on the whole plan (R-backup-rpo,
 * R-backup-restore-test): the RPO alarm, replayed against a year of the nightly schedule in the
 * stack's own zone, stays quiet through both clock changes and fires when a run is missed.
 */
import { readFileSync } from "fs";
import { join } from "path";
import { parse } from "yaml";
import { ofType, type RecordedResource } from "../helpers/mocks";
import type { Plan } from "../helpers/stack";
import { localDailyRunUtc, parseHhmm } from "../../lib/time";

const HOUR = 3_600_000;
const MINUTE = 60_000;

function stackFile(stack: string): { timeZone: string; dailyAt: string; maxRunMinutes: number } {
  const text = readFileSync(join(__dirname, "..", "..", `Pulumi.${stack}.yaml`), "utf8");
  const config = (parse(text) as { config: Record<string, unknown> }).config;
  const backup = (config["opsbook:backup"] ?? {}) as { dailyAt?: string; maxRunMinutes?: number };
  return {
    timeZone: config["opsbook:timeZone"] as string,
    dailyAt: backup.dailyAt ?? "02:00",
    maxRunMinutes: backup.maxRunMinutes ?? 120,
  };
}

function alarmOn(plan: Plan, metricName: string): RecordedResource {
  const alarms = ofType(plan.resources, "aws:cloudwatch/metricAlarm:MetricAlarm").filter(
    (a) => a.inputs.metricName === metricName,
  );
  expect(alarms).toHaveLength(1);
  return alarms[0]!;
}

/**
 * A model of CloudWatch evaluating `SampleCount < 1` over `periods` one-hour periods with missing
 * data breaching, counting complete periods only (stricter than CloudWatch, which may also count
 * the current one): the times, on a 5-minute grid, at which the alarm would be in ALARM.
 */
function alarmingTimes(successes: number[], periods: number, from: number, to: number): number[] {
  const buckets = new Set(successes.map((s) => Math.floor(s / HOUR)));
  const alarming: number[] = [];
  for (let t = from; t < to; t += 5 * MINUTE) {
    const current = Math.floor(t / HOUR);
    let seen = false;
    for (let b = current - periods; b < current && !seen; b++) seen = buckets.has(b);
    if (!seen) alarming.push(t);
  }
  return alarming;
}

/** A year of nightly runs from 2026-01-01, each finishing `runMinutes(day)` after its start. */
function nightlySuccesses(zone: string, dailyAt: string, runMinutes: (day: number) => number, skip?: number): number[] {
  const successes: number[] = [];
  for (let day = 0; day < 366; day++) {
    if (day === skip) continue;
    const date = new Date(Date.UTC(2026, 0, 1 + day));
    const start = localDailyRunUtc(
      zone,
      date.getUTCFullYear(),
      date.getUTCMonth() + 1,
      date.getUTCDate(),
      parseHhmm(dailyAt),
    );
    successes.push(start + runMinutes(day) * MINUTE);
  }
  return successes;
}

/** The alarm properties of one stack, over its plan (called from the stack's own test file). */
export function alarmProperties(getPlan: () => Plan, stack: string): void {
  const { timeZone, dailyAt, maxRunMinutes } = stackFile(stack);
  // From the first run's bucket on, to the end of the year: the alarm has had a full day of history.
  const from = Date.UTC(2026, 0, 3);
  const to = Date.UTC(2026, 11, 31);

  test(`the RPO alarm stays quiet a whole year of nightly runs in ${timeZone}, both clock changes and a fast run before a slow one included`, () => {
    const periods = alarmOn(getPlan(), "LastSuccessfulBackupTimestamp").inputs.evaluationPeriods as number;
    // Alternating fast and slow runs, starting either way, give every pair of days the worst case.
    for (const slowFirst of [0, 1]) {
      const runs = nightlySuccesses(timeZone, dailyAt, (day) => ((day + slowFirst) % 2 === 0 ? 1 : maxRunMinutes));
      expect(alarmingTimes(runs, periods, from, to).map((t) => new Date(t).toISOString())).toEqual([]);
    }
  });

  test("the replay can tell: a window of exactly 24 one-hour periods pages on the autumn clock change", () => {
    const runs = nightlySuccesses(timeZone, dailyAt, (day) => (day % 2 === 0 ? 1 : maxRunMinutes));
    expect(alarmingTimes(runs, 24, from, to).length).toBeGreaterThan(0);
  });

  test("the RPO alarm fires once a night's run is missed, within its window and an hour of the last success", () => {
    const periods = alarmOn(getPlan(), "LastSuccessfulBackupTimestamp").inputs.evaluationPeriods as number;
    const missed = 200;
    const runs = nightlySuccesses(timeZone, dailyAt, () => 10, missed);
    const lastBefore = runs[missed - 1]!;
    const alarming = alarmingTimes(runs, periods, from, to);
    expect(alarming.length).toBeGreaterThan(0);
    expect(alarming[0]! - lastBefore).toBeLessThanOrEqual((periods + 1) * HOUR);
    expect(periods).toBeLessThanOrEqual(168); // CloudWatch's limit for one-hour periods
  });

  test("a failed restore drill stays in ALARM until the next drill: hours without a drill keep the state", () => {
    const drill = alarmOn(getPlan(), "RestoreDrillSuccess");
    expect(drill.inputs).toMatchObject({ treatMissingData: "ignore", comparisonOperator: "LessThanThreshold" });
  });

  test("one event pages once: a single alarm per signal and target group sends to the critical topic", () => {
    const alarms = ofType(getPlan().resources, "aws:cloudwatch/metricAlarm:MetricAlarm");
    const paging = alarms.filter((a) => (a.inputs.alarmActions as string[]).some((arn) => arn.endsWith("-critical")));
    const signals = (a: RecordedResource): string[] => {
      const own = a.inputs.metricName ? [[a.inputs.metricName, a.inputs.dimensions]] : [];
      const queried = (
        (a.inputs.metricQueries ?? []) as Array<{ metric?: { metricName: string; dimensions: unknown } }>
      )
        .filter((q) => q.metric)
        .map((q) => [q.metric!.metricName, q.metric!.dimensions]);
      return [...own, ...queried].map((m) => JSON.stringify(m));
    };
    for (const metric of ["UnHealthyHostCount", "HTTPCode_Target_5XX_Count"]) {
      const byTarget = new Map<string, string[]>();
      for (const alarm of paging) {
        for (const signal of signals(alarm).filter((s) => s.includes(`"${metric}"`))) {
          byTarget.set(signal, [...(byTarget.get(signal) ?? []), alarm.inputs.name as string]);
        }
      }
      expect(byTarget.size).toBeGreaterThan(0);
      for (const names of byTarget.values()) {
        expect(names).toHaveLength(1);
      }
    }
    const rollback = alarms.filter((a) => (a.inputs.name as string).includes("-rollback-"));
    expect(rollback.length).toBeGreaterThan(0);
    for (const alarm of rollback) {
      expect(alarm.inputs.alarmActions).toEqual([expect.stringMatching(/-warning$/)]);
    }
  });

  test("no alarm watches one cache node's own hit rate, which an idle replica would trip", () => {
    const alarms = ofType(getPlan().resources, "aws:cloudwatch/metricAlarm:MetricAlarm");
    expect(alarms.filter((a) => a.inputs.metricName === "CacheHitRate")).toEqual([]);
    expect(alarms.filter((a) => (a.inputs.name as string).includes("cache-hit-rate"))).toHaveLength(2);
  });

  test("warning thresholds sit above the autoscaling targets", () => {
    const cpuWarning = alarmNamed(getPlan(), "-api-cpu-warning").inputs.threshold as number;
    const policies = ofType(getPlan().resources, "aws:appautoscaling/policy:Policy").filter((p) =>
      JSON.stringify(p.inputs).includes("ECSServiceAverageCPUUtilization"),
    );
    expect(policies.length).toBeGreaterThan(0);
    for (const policy of policies) {
      const target = (policy.inputs.targetTrackingScalingPolicyConfiguration as { targetValue: number }).targetValue;
      expect(target).toBeLessThan(cpuWarning);
    }
  });
}

function alarmNamed(plan: Plan, suffix: string): RecordedResource {
  const [alarm] = ofType(plan.resources, "aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) =>
    (a.inputs.name as string).endsWith(suffix),
  );
  expect(alarm).toBeDefined();
  return alarm!;
}
