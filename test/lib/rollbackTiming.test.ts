import { rollbackTiming, rollbackTimingProblems, type RollbackTimingInput } from "../../lib/rollbackTiming";

const runbook: RollbackTimingInput = {
  healthCheck: { intervalSeconds: 30, healthyThreshold: 2, unhealthyThreshold: 3 },
  rollback: { unhealthyForMinutes: 2, errorRateForMinutes: 1 },
  alarmPeriodSeconds: 60,
  healthCheckGracePeriodSeconds: 60,
  deregistrationDelaySeconds: 30,
};

describe("rollback timing (R-rollback-sla)", () => {
  test("the runbook's settings: starts within 4.5 min (3 checks of 30 s, 2 alarm minutes, 1 to evaluate), completes within 7", () => {
    expect(rollbackTiming(runbook)).toEqual({
      startsWithinSeconds: 90 + 120 + 60,
      completesWithinSeconds: 270 + 60 + 60 + 30,
    });
    expect(rollbackTimingProblems(rollbackTiming(runbook))).toEqual([]);
  });

  test.each<
    [string, Partial<RollbackTimingInput>, { startsWithinSeconds: number; completesWithinSeconds: number }, string[]]
  >([
    [
      "a slow health check (every 60 s, 5 failures) starts too late",
      { healthCheck: { intervalSeconds: 60, healthyThreshold: 2, unhealthyThreshold: 5 } },
      { startsWithinSeconds: 300 + 180, completesWithinSeconds: 480 + 60 + 120 + 30 },
      ["480 s to start, more than runbook 004's 300 s", "690 s to complete, more than runbook 004's 600 s"],
    ],
    [
      "a long error-rate trigger is the slower one",
      { rollback: { unhealthyForMinutes: 2, errorRateForMinutes: 5 } },
      { startsWithinSeconds: 360, completesWithinSeconds: 510 },
      ["360 s to start, more than runbook 004's 300 s"],
    ],
    [
      "a long drain finishes too late",
      { deregistrationDelaySeconds: 300, healthCheckGracePeriodSeconds: 120 },
      { startsWithinSeconds: 270, completesWithinSeconds: 270 + 120 + 60 + 300 },
      ["750 s to complete, more than runbook 004's 600 s"],
    ],
  ])("%s", (_, change, timing, problems) => {
    const t = rollbackTiming({ ...runbook, ...change });
    expect(t).toEqual(timing);
    expect(rollbackTimingProblems(t)).toEqual(problems);
  });
});
