import type { RDSClient } from "@aws-sdk/client-rds";
import type { S3Client } from "@aws-sdk/client-s3";
import type { Logger } from "./log";
import type { Metric, MetricsPublisher } from "./metrics";
import { errorMessage } from "./errors";

/** What a command needs from the outside world; tests pass local stand-ins. */
export interface JobDeps {
  s3: S3Client;
  /** RDS, for the drill's own instance: it describes the source, and creates and deletes only drill instances. */
  rds: RDSClient;
  metrics: MetricsPublisher;
  log: Logger;
  now: () => Date;
  /** Aborted when the task is asked to stop (SIGTERM): children are terminated and cleanup runs. */
  signal?: AbortSignal;
  /** Waits between RDS status polls. @default a timer */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Publishes metrics after a failure. A second failure here must not hide the first, so it is
 * only logged; the missing data point still trips the backup-age alarm.
 */
export async function publishAfterFailure(
  deps: Pick<JobDeps, "metrics" | "log" | "now">,
  database: string,
  metrics: readonly Metric[],
): Promise<void> {
  try {
    await deps.metrics.publish(database, metrics, deps.now());
  } catch (error) {
    deps.log.error("publishing the failure metrics failed too", { error: errorMessage(error) });
  }
}

/** Seconds elapsed since `start`, by the injected clock. */
export function secondsSince(deps: Pick<JobDeps, "now">, start: Date): number {
  return (deps.now().getTime() - start.getTime()) / 1000;
}
