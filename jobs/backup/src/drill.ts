/**
 * The restore drill: proves the newest backup can actually be restored, by restoring it into a
 * temporary RDS instance of its own (./drillInstance.ts) and comparing every table's row count
 * with the count taken when the dump was made. The production instance is only described: a
 * restore there would double its used storage every week (R-backup-restore-test). The time from
 * asking RDS for the instance to the last row count is the time to recover, held to the RTO
 * (R-backup-rto). A PostgreSQL without such an API (the in-cluster one, R-local-postgres) drills
 * into a throwaway database on its own server instead (DRILL_IN_SERVER).
 */
import { randomBytes } from "node:crypto";
import type { DrillConfig, JobConfig, PostgresConfig } from "./config";
import { describeExit, succeeded } from "./child";
import { publishAfterFailure, secondsSince, type JobDeps } from "./deps";
import {
  createDrillInstance,
  deleteDrillInstance,
  sweepLeftovers,
  type DrillInstance,
  type DrillInstanceDeps,
} from "./drillInstance";
import { JobError, errorMessage } from "./errors";
import { drillDatabaseName, latestKey } from "./keys";
import { compareRowCounts, describeDifferences, parseManifest, type BackupManifest } from "./manifest";
import { drillMetrics } from "./metrics";
import { countRows, createDatabase, dropDatabase, startRestore, type ChildEnv } from "./postgres";
import { objectSize, openObject, readText, s3Url } from "./storage";
import { ByteTally, feed } from "./streams";

export interface DrillResult {
  /** The drill's instance (deleted again), or the job's own server's host (DRILL_IN_SERVER). */
  instance: string;
  /** The throwaway database on it (already dropped). */
  database: string;
  dumpKey: string;
  timeToRecoverSeconds: number;
  tables: number;
}

/** Where the drill restores: the drill instance's connection, for psql and pg_restore. */
interface Target {
  pg: PostgresConfig;
  env: ChildEnv;
}

const sleepFor = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs one restore drill and publishes `RestoreDrillSuccess` and the time to recover.
 *
 * @throws {JobError} if the dump is missing, corrupted, cannot be restored, restores different row
 *   counts, or took longer than the RTO; or if the drill's instance cannot be created or deleted
 */
export async function runRestoreDrill(config: JobConfig, deps: JobDeps): Promise<DrillResult> {
  let result: DrillResult;
  try {
    result = await drill(config, deps);
  } catch (error) {
    await publishAfterFailure(deps, config.postgres.database, drillMetrics(false, undefined));
    throw error;
  }
  const rto = (config.drill ?? config.inServerDrill)!.rtoSeconds;
  const withinRto = result.timeToRecoverSeconds <= rto;
  try {
    await deps.metrics.publish(
      config.postgres.database,
      drillMetrics(withinRto, result.timeToRecoverSeconds),
      deps.now(),
    );
  } catch (error) {
    throw new JobError(`the restore drill passed, but publishing its metrics failed: ${errorMessage(error)}`, {
      cause: error,
    });
  }
  if (!withinRto) {
    throw new JobError(
      `the restore drill restored every row, but in ${Math.round(result.timeToRecoverSeconds)} s: over the RTO of ${rto} s (backup.rtoHours)`,
    );
  }
  return result;
}

/** The drill's instance, or none when the drill restores on the job's own server (DRILL_IN_SERVER). */
function requireDrill(config: JobConfig): DrillConfig | undefined {
  if (!config.drill && !config.inServerDrill) {
    throw new JobError(
      "restore-drill needs DRILL_SOURCE_INSTANCE, DRILL_INSTANCE_PREFIX, DRILL_INSTANCE_CLASS and DRILL_SECURITY_GROUP_ID (the task definition sets them), or DRILL_IN_SERVER=true for a server without an API to create instances: it restores into a database of its own, never into the database it backs up",
    );
  }
  return config.drill;
}

async function drill(config: JobConfig, deps: JobDeps): Promise<DrillResult> {
  const drillConfig = requireDrill(config);
  const { storage } = config;
  const latest = await readLatest(config, deps);
  const dumpUrl = s3Url(storage.bucket, latest.dumpKey);
  const size = await objectSize(deps.s3, storage.bucket, latest.dumpKey, "the dump named by latest.json");
  if (size !== latest.sizeBytes) {
    throw new JobError(
      `the dump is corrupted: ${dumpUrl} holds ${size} bytes but latest.json records ${latest.sizeBytes}`,
    );
  }
  const rds: DrillInstanceDeps = { rds: deps.rds, log: deps.log, now: deps.now, sleep: deps.sleep ?? sleepFor };
  if (drillConfig) await sweepLeftovers(drillConfig, rds);

  deps.log.info("restoring the latest backup", { key: latest.dumpKey, bytes: size, takenAt: latest.startedAt });
  const started = deps.now();
  let created: string | undefined;
  let database: string | undefined;
  let target: Target | undefined;
  // A flag, not `failure !== undefined`: whatever was thrown, even undefined, fails the drill.
  let failed = false;
  let failure: unknown;
  try {
    target = drillConfig
      ? targetOf(config, await createDrillInstance(drillConfig, rds, (identifier) => (created = identifier)))
      : ownServer(config);
    database = drillDatabaseName(deps.now(), randomBytes(2).toString("hex"));
    await createDatabase(target.pg, target.env, database);
    await restoreInto(config, deps, latest, database, target.env);
    const differences = compareRowCounts(latest.tables, await countRows(target.pg, target.env, database));
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
  if (target && database) await dropThrowaway(target, deps, database);
  if (created && drillConfig) await deleteInstance(drillConfig, deps, created, !failed);
  if (failed) {
    throw failure;
  }
  deps.log.info("restore drill passed", {
    key: latest.dumpKey,
    instance: created ?? config.postgres.host,
    tables: latest.tables.length,
    timeToRecoverSeconds,
  });
  return {
    instance: created ?? config.postgres.host,
    database: database!,
    dumpKey: latest.dumpKey,
    timeToRecoverSeconds,
    tables: latest.tables.length,
  };
}

/** The drill instance as libpq sees it: its endpoint and master user, TLS as the job's own setting says. */
function targetOf(config: JobConfig, instance: DrillInstance): Target {
  // RDS always creates the `postgres` database; the drill creates its own beside it.
  const pg: PostgresConfig = {
    host: instance.host,
    port: instance.port,
    database: "postgres",
    user: instance.user,
    sslMode: config.postgres.sslMode,
  };
  const env: ChildEnv = {
    ...config.childEnv,
    PGHOST: instance.host,
    PGPORT: String(instance.port),
    PGUSER: instance.user,
    PGPASSWORD: instance.password,
    PGDATABASE: pg.database,
  };
  return { pg, env };
}

/**
 * The job's own server, as the job's own role, which needs CREATEDB (the in-cluster drill runs as
 * the server's owner): the throwaway database is created beside the one it backs up and dropped
 * after, whatever happened (DRILL_IN_SERVER).
 */
function ownServer(config: JobConfig): Target {
  return { pg: config.postgres, env: config.childEnv };
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
async function restoreInto(
  config: JobConfig,
  deps: JobDeps,
  latest: BackupManifest,
  database: string,
  env: ChildEnv,
): Promise<void> {
  const { bucket } = config.storage;
  const dumpUrl = s3Url(bucket, latest.dumpKey);
  const body = await openObject(deps.s3, bucket, latest.dumpKey, "the dump named by latest.json");
  const stopReading = (): void => {
    body.destroy(new Error("cancelled by a termination signal"));
  };
  deps.signal?.addEventListener("abort", stopReading, { once: true });
  const restore = startRestore(env, database, deps.signal);
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

/** Drops the throwaway database before its instance goes; a failure is only logged, the instance is deleted anyway. */
async function dropThrowaway(target: Target, deps: JobDeps, database: string): Promise<void> {
  try {
    await dropDatabase(target.pg, target.env, database);
  } catch (error) {
    deps.log.warn(`could not drop the throwaway database ${database}; its instance is deleted next`, {
      error: errorMessage(error),
    });
  }
}

/**
 * Deletes the drill's instance, in every outcome. If that fails after a good restore the drill
 * fails, so someone deletes it (the next drill's sweep would too, after a few hours).
 */
async function deleteInstance(config: DrillConfig, deps: JobDeps, identifier: string, restorePassed: boolean) {
  try {
    await deleteDrillInstance(config, deps, identifier);
    deps.log.info("deleting the drill instance", { identifier });
  } catch (error) {
    const message = `could not delete the drill instance ${identifier}; delete it by hand (aws rds delete-db-instance --db-instance-identifier ${identifier} --skip-final-snapshot): ${errorMessage(error)}`;
    if (restorePassed) {
      throw new JobError(message, { cause: error });
    }
    deps.log.error(message);
  }
}
