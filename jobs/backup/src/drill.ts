/**
 * The restore drill: proves the newest backup can actually be restored, by restoring it into a
 * throwaway database and comparing every table's row count with the count taken when the dump
 * was made. Its duration is the time to recover (R-backup-rto).
 */
import { randomBytes } from "node:crypto";
import type { JobConfig } from "./config";
import { describeExit, succeeded } from "./child";
import { publishAfterFailure, secondsSince, type JobDeps } from "./deps";
import { JobError, errorMessage } from "./errors";
import { drillDatabaseName, latestKey } from "./keys";
import { compareRowCounts, describeDifferences, parseManifest, type BackupManifest } from "./manifest";
import { drillMetrics } from "./metrics";
import { countRows, createDatabase, dropDatabase, startRestore } from "./postgres";
import { objectSize, openObject, readText, s3Url } from "./storage";
import { ByteTally, feed } from "./streams";

export interface DrillResult {
  /** The throwaway database (already dropped). */
  database: string;
  dumpKey: string;
  timeToRecoverSeconds: number;
  tables: number;
}

/**
 * Runs one restore drill and publishes `RestoreDrillSuccess` (and, on success, the time to recover).
 *
 * @throws {JobError} if the dump is missing, corrupted, cannot be restored or restores different row counts
 */
export async function runRestoreDrill(config: JobConfig, deps: JobDeps): Promise<DrillResult> {
  let result: DrillResult;
  try {
    result = await drill(config, deps);
  } catch (error) {
    await publishAfterFailure(deps, config.postgres.database, drillMetrics(false, undefined));
    throw error;
  }
  try {
    await deps.metrics.publish(config.postgres.database, drillMetrics(true, result.timeToRecoverSeconds), deps.now());
  } catch (error) {
    throw new JobError(`the restore drill passed, but publishing its metrics failed: ${errorMessage(error)}`, {
      cause: error,
    });
  }
  return result;
}

async function drill(config: JobConfig, deps: JobDeps): Promise<DrillResult> {
  const { postgres: pg, storage, childEnv: env } = config;
  const latest = await readLatest(config, deps);
  const dumpUrl = s3Url(storage.bucket, latest.dumpKey);
  const size = await objectSize(deps.s3, storage.bucket, latest.dumpKey, "the dump named by latest.json");
  if (size !== latest.sizeBytes) {
    throw new JobError(
      `the dump is corrupted: ${dumpUrl} holds ${size} bytes but latest.json records ${latest.sizeBytes}`,
    );
  }
  deps.log.info("restoring the latest backup", { key: latest.dumpKey, bytes: size, takenAt: latest.startedAt });

  const database = drillDatabaseName(deps.now(), randomBytes(2).toString("hex"));
  const started = deps.now();
  await createDatabase(pg, env, database);
  // A flag, not `failure !== undefined`: whatever was thrown, even undefined, fails the drill.
  let failed = false;
  let failure: unknown;
  try {
    await restoreInto(config, deps, latest, database);
    const differences = compareRowCounts(latest.tables, await countRows(pg, env, database));
    if (differences.length > 0) {
      throw new JobError(
        `row counts after restoring ${dumpUrl} differ from those recorded at dump time: ${describeDifferences(differences)}`,
      );
    }
  } catch (error) {
    failed = true;
    failure = error;
  }
  const timeToRecoverSeconds = secondsSince(deps, started);
  await dropThrowaway(config, deps, database, !failed);
  if (failed) {
    throw failure;
  }
  deps.log.info("restore drill passed", { key: latest.dumpKey, tables: latest.tables.length, timeToRecoverSeconds });
  return { database, dumpKey: latest.dumpKey, timeToRecoverSeconds, tables: latest.tables.length };
}

async function readLatest(config: JobConfig, deps: JobDeps): Promise<BackupManifest> {
  const { bucket, prefix } = config.storage;
  const key = latestKey(prefix, config.postgres.database);
  const text = await readText(
    deps.s3,
    bucket,
    key,
    "the pointer to the latest verified backup (written only after a backup passed verification)",
  );
  const latest = parseManifest(text, s3Url(bucket, key));
  if (latest.database !== config.postgres.database) {
    throw new JobError(
      `${s3Url(bucket, key)} describes database "${latest.database}", not "${config.postgres.database}"`,
    );
  }
  return latest;
}

/**
 * Streams the dump from S3 into pg_restore while hashing it. The whole object is read even if
 * pg_restore stops early, so the message can tell a corrupted dump (sha256 differs from
 * latest.json) from a restore problem with an intact dump.
 */
async function restoreInto(config: JobConfig, deps: JobDeps, latest: BackupManifest, database: string): Promise<void> {
  const { bucket } = config.storage;
  const dumpUrl = s3Url(bucket, latest.dumpKey);
  const body = await openObject(deps.s3, bucket, latest.dumpKey, "the dump named by latest.json");
  const stopReading = (): void => {
    body.destroy(new Error("cancelled by a termination signal"));
  };
  deps.signal?.addEventListener("abort", stopReading, { once: true });
  const restore = startRestore(config.childEnv, database, deps.signal);
  const tally = new ByteTally();
  try {
    await feed(body, restore.process.stdin, tally, true);
  } catch (error) {
    restore.process.kill("SIGTERM");
    await restore.exit.catch(() => undefined);
    throw new JobError(`reading ${dumpUrl} from S3 failed during the restore: ${errorMessage(error)}`, {
      cause: error,
    });
  } finally {
    deps.signal?.removeEventListener("abort", stopReading);
  }
  const exit = await restore.exit;
  const sha256 = tally.digest();
  if (sha256 !== latest.sha256) {
    const restoreOutcome = succeeded(exit) ? "pg_restore did not notice" : describeExit("pg_restore", exit);
    throw new JobError(
      `the dump is corrupted: ${dumpUrl} has sha256 ${sha256} but latest.json records ${latest.sha256} (${restoreOutcome})`,
    );
  }
  if (!succeeded(exit)) {
    throw new JobError(
      `restoring ${dumpUrl} into ${database} failed although the dump matches its recorded sha256: ${describeExit("pg_restore", exit)}`,
    );
  }
}

/** Drops the throwaway database; if that fails after a good restore, the drill fails so someone cleans up. */
async function dropThrowaway(
  config: JobConfig,
  deps: JobDeps,
  database: string,
  restorePassed: boolean,
): Promise<void> {
  try {
    await dropDatabase(config.postgres, config.childEnv, database);
  } catch (error) {
    const message = `could not drop the throwaway database ${database}; drop it by hand: ${errorMessage(error)}`;
    if (restorePassed) {
      throw new JobError(message, { cause: error });
    }
    deps.log.error(message);
  }
}
