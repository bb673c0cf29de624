/**
 * How long an automatic rollback takes (R-rollback-sla): the worst case from a bad deploy to the
 * start and to the end of the ECS rollback, derived from the declared health check, rollback alarm
 * periods, health check grace period and deregistration delay. Pure: the stack output
 * `rollbackTiming` and its tests use it.
 */

/** The watch after a deploy (R-deploy-post-watch, runbooks 001 and 004): 5 minutes, 15 after a hotfix. */
export const POST_DEPLOY_WATCH_MINUTES = { deploy: 5, hotfix: 15 } as const;

/** Runbook 004: a rollback starts within 5 minutes and completes within 10. */
export const ROLLBACK_LIMITS = { startsWithinSeconds: 5 * 60, completesWithinSeconds: 10 * 60 } as const;

/** CloudWatch evaluates an alarm after its period's data arrives: allow one more period. */
const EVALUATION_DELAY_PERIODS = 1;

export interface RollbackTimingInput {
  healthCheck: { intervalSeconds: number; healthyThreshold: number; unhealthyThreshold: number };
  /** The service's rollback alarms: minutes of unhealthy targets, minutes of 5xx, each of 60 s periods. */
  rollback: { unhealthyForMinutes: number; errorRateForMinutes: number };
  alarmPeriodSeconds: number;
  /** Time ECS gives a new task to pass its first health checks. */
  healthCheckGracePeriodSeconds: number;
  /** Time the load balancer drains a deregistered target. */
  deregistrationDelaySeconds: number;
}

export interface RollbackTiming {
  startsWithinSeconds: number;
  completesWithinSeconds: number;
}

/**
 * Worst case start: the slower of the two alarm triggers. New tasks that fail their health checks
 * turn unhealthy after `unhealthyThreshold` checks, then the unhealthy-targets alarm needs
 * `unhealthyForMinutes` breaching periods and one more for evaluation; tasks that answer 5xx trip
 * the error-rate alarm after `errorRateForMinutes` periods and one more.
 * Completion: the previous tasks start (within the grace period), pass `healthyThreshold` checks,
 * and the bad tasks drain (the deregistration delay).
 */
export function rollbackTiming(i: RollbackTimingInput): RollbackTiming {
  const unhealthy =
    i.healthCheck.unhealthyThreshold * i.healthCheck.intervalSeconds +
    (i.rollback.unhealthyForMinutes + EVALUATION_DELAY_PERIODS) * i.alarmPeriodSeconds;
  const errors = (i.rollback.errorRateForMinutes + EVALUATION_DELAY_PERIODS) * i.alarmPeriodSeconds;
  const startsWithinSeconds = Math.max(unhealthy, errors);
  const recovery =
    i.healthCheckGracePeriodSeconds +
    i.healthCheck.healthyThreshold * i.healthCheck.intervalSeconds +
    i.deregistrationDelaySeconds;
  return { startsWithinSeconds, completesWithinSeconds: startsWithinSeconds + recovery };
}

/** The limits of runbook 004 that `t` exceeds, as sentences; empty when it keeps them. */
export function rollbackTimingProblems(t: RollbackTiming): string[] {
  const problems: string[] = [];
  if (t.startsWithinSeconds > ROLLBACK_LIMITS.startsWithinSeconds) {
    problems.push(
      `${t.startsWithinSeconds} s to start, more than runbook 004's ${ROLLBACK_LIMITS.startsWithinSeconds} s`,
    );
  }
  if (t.completesWithinSeconds > ROLLBACK_LIMITS.completesWithinSeconds) {
    problems.push(
      `${t.completesWithinSeconds} s to complete, more than runbook 004's ${ROLLBACK_LIMITS.completesWithinSeconds} s`,
    );
  }
  return problems;
}
