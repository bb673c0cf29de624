/**
 * The nightly backup: pg_dump in one consistent snapshot, streamed straight to S3, read back and
 * checked, and only then named as `latest.json`. A dump that fails anywhere before that point is
 * deleted, so a half-written archive can never be mistaken for a backup.
 */
import type { ChildProcess } from "node:child_process";
import { pipeline } from "node:stream/promises";
import type { JobConfig } from "./config";
import { describeExit, succeeded } from "./child";
import { publishAfterFailure, secondsSince, type JobDeps } from "./deps";
import { JobError, errorMessage } from "./errors";
import { backupKeys, latestKey, type BackupKeys } from "./keys";
import { type BackupManifest } from "./manifest";
import { CopyRowCounter, archiveShortfalls } from "./archive";
import { backupFailedMetrics, backupSucceededMetrics } from "./metrics";
import {
  openSnapshotSession,
  pgDumpVersion,
  startDataScript,
  startDump,
  type CountedTable,
  type SnapshotSession,
} from "./postgres";
import { checkBucket, deleteObject, objectSize, openObject, putJson, s3Url, uploadStream } from "./storage";
import { ByteTally, GuardedTally, feed } from "./streams";

/** What pg_dump wrote, as counted on its way to S3. */
interface Written {
  bytes: number;
  sha256: string;
}

/**
 * Runs one backup and publishes its metrics (`BackupSuccess` 0 on any failure).
 *
 * @returns the manifest now stored as `latest.json`
 * @throws {JobError} with the reason; `latest.json` is then unchanged
 */
export async function runBackup(config: JobConfig, deps: JobDeps): Promise<BackupManifest> {
  const startedAt = deps.now();
  let manifest: BackupManifest;
  try {
    manifest = await backUp(config, deps, startedAt);
  } catch (error) {
    await publishAfterFailure(deps, config.postgres.database, backupFailedMetrics());
    throw error;
  }
  const finishedAt = new Date(manifest.finishedAt);
  try {
    const metrics = backupSucceededMetrics(finishedAt, manifest.sizeBytes, secondsSince(deps, startedAt));
    await deps.metrics.publish(config.postgres.database, metrics, finishedAt);
  } catch (error) {
    throw new JobError(
      `the backup succeeded and latest.json points to ${manifest.dumpKey}, but publishing its metrics failed, so the backup-age alarm will not see it: ${errorMessage(error)}`,
      { cause: error },
    );
  }
  return manifest;
}

async function backUp(config: JobConfig, deps: JobDeps, startedAt: Date): Promise<BackupManifest> {
  const { postgres: pg, storage, childEnv: env } = config;
  const { log } = deps;
  await checkBucket(deps.s3, storage.bucket);
  const dumpVersion = await pgDumpVersion(env);
  const session = await openSnapshotSession(pg, env, deps.signal);
  log.info("snapshot exported", {
    snapshot: session.snapshotId,
    serverVersion: session.serverVersion,
    pgDump: dumpVersion,
    tables: session.tables.length,
  });

  const keys = backupKeys(storage.prefix, pg.database, startedAt);
  let manifest: BackupManifest;
  try {
    const written = await dumpWithinSession(config, deps, session, keys.dump);
    log.info("dump uploaded", { key: keys.dump, bytes: written.bytes, sha256: written.sha256 });
    await verifyStoredDump(config, deps, keys.dump, written, session.tables);
    log.info("dump verified", { key: keys.dump });
    manifest = {
      formatVersion: 1,
      database: pg.database,
      dumpKey: keys.dump,
      manifestKey: keys.manifest,
      sizeBytes: written.bytes,
      sha256: written.sha256,
      startedAt: startedAt.toISOString(),
      finishedAt: deps.now().toISOString(),
      pgDumpVersion: dumpVersion,
      serverVersion: session.serverVersion,
      tables: session.tables.map(({ schema, table, rows }) => ({ schema, table, rows })),
    };
    await putJson(deps.s3, storage.bucket, keys.manifest, manifest);
  } catch (error) {
    await removePartialBackup(config, deps, keys);
    throw error;
  }
  // Written last and on its own: if this fails, the verified dump stays (it is valid) and the
  // previous latest.json still points at the previous good backup.
  await putJson(deps.s3, storage.bucket, latestKey(storage.prefix, pg.database), manifest);
  log.info("backup complete", {
    key: keys.dump,
    bytes: manifest.sizeBytes,
    latest: latestKey(storage.prefix, pg.database),
  });
  return manifest;
}

/** Streams the dump, then ends the snapshot transaction whatever happened. */
async function dumpWithinSession(
  config: JobConfig,
  deps: JobDeps,
  session: SnapshotSession,
  key: string,
): Promise<Written> {
  try {
    return await streamDumpToS3(config, deps, session.snapshotId, key);
  } finally {
    await session
      .close()
      .catch((error: unknown) => deps.log.warn("closing the snapshot session failed", { error: errorMessage(error) }));
  }
}

/**
 * pg_dump's stdout goes through a {@link GuardedTally} into a multipart upload. The tally only ends
 * the stream once pg_dump has exited 0, so a pg_dump that dies mid-dump makes the upload fail
 * (and abort) instead of completing with a truncated archive.
 */
async function streamDumpToS3(config: JobConfig, deps: JobDeps, snapshotId: string, key: string): Promise<Written> {
  const { storage, childEnv: env } = config;
  const dump = startDump(env, snapshotId, deps.signal);
  const dumpSucceeded = dump.exit.then((exit) => {
    if (!succeeded(exit)) throw new JobError(`pg_dump failed: ${describeExit("pg_dump", exit)}`);
  });
  const guarded = new GuardedTally(dumpSucceeded);
  guarded.on("error", () => undefined); // reported below, from pg_dump's exit or the upload
  dump.process.stdout.pipe(guarded);

  let uploadError: unknown;
  try {
    await uploadStream(deps.s3, storage.bucket, key, guarded, storage.partSizeBytes);
  } catch (error) {
    uploadError = error;
  }
  const stoppedByUs = uploadError !== undefined && stopDump(dump.process);
  const exit = await dump.exit;
  if (deps.signal?.aborted) {
    throw new JobError("the backup was cancelled by a termination signal before it was verified");
  }
  if (!succeeded(exit) && !stoppedByUs) {
    if (uploadError !== undefined) {
      deps.log.warn(
        "the upload was abandoned; if it had started parts, the bucket's AbortIncompleteMultipartUpload rule removes them",
        {
          key,
          error: errorMessage(uploadError),
        },
      );
    }
    throw new JobError(
      `pg_dump failed, so nothing was kept at ${s3Url(storage.bucket, key)}: ${describeExit("pg_dump", exit)}`,
    );
  }
  if (uploadError !== undefined) {
    throw new JobError(`uploading the dump to ${s3Url(storage.bucket, key)} failed: ${errorMessage(uploadError)}`, {
      cause: uploadError,
    });
  }
  return { bytes: guarded.tally.bytes, sha256: guarded.tally.digest() };
}

/** Stops a pg_dump whose output nobody reads any more; true if it was still running. */
function stopDump(child: ChildProcess): boolean {
  if (child.exitCode !== null || child.signalCode !== null) {
    return false;
  }
  child.stdout?.unpipe();
  child.stdout?.resume();
  return child.kill("SIGTERM");
}

/**
 * Reads the stored object back, all of it (R-backup-integrity): its size must match; `pg_restore
 * --data-only` must read every data block and exit 0; the script it writes must hold, for every
 * counted table, a complete COPY block with exactly the rows counted in the dump's snapshot; and
 * the bytes read must have the sha256 of what pg_dump wrote. A pg_dump whose output was cut short
 * but which exited 0 fails here, before `latest.json` can move.
 */
async function verifyStoredDump(
  config: JobConfig,
  deps: JobDeps,
  key: string,
  written: Written,
  tables: readonly CountedTable[],
): Promise<void> {
  const { bucket } = config.storage;
  const url = s3Url(bucket, key);
  const size = await objectSize(deps.s3, bucket, key, "the uploaded dump");
  if (size !== written.bytes) {
    throw new JobError(`verification failed: ${url} holds ${size} bytes but pg_dump wrote ${written.bytes}`);
  }
  const body = await openObject(deps.s3, bucket, key, "the uploaded dump");
  const reader = startDataScript(config.childEnv, deps.signal);
  const rows = new CopyRowCounter();
  const counted = pipeline(reader.process.stdout, rows);
  const readBack = new ByteTally();
  try {
    await feed(body, reader.process.stdin, readBack, true);
  } catch (error) {
    reader.process.kill("SIGTERM");
    await counted.catch(() => undefined);
    throw new JobError(`verification failed: reading ${url} back failed: ${errorMessage(error)}`, { cause: error });
  }
  const [exit] = await Promise.all([reader.exit, counted]);
  if (deps.signal?.aborted) {
    throw new JobError("the backup was cancelled by a termination signal before it was verified");
  }
  if (!succeeded(exit)) {
    throw new JobError(
      `verification failed: pg_restore cannot read all the data of ${url}: ${describeExit("pg_restore", exit)}`,
    );
  }
  const sha256 = readBack.digest();
  if (readBack.bytes !== written.bytes || sha256 !== written.sha256) {
    throw new JobError(
      `verification failed: ${url} reads back as ${readBack.bytes} bytes with sha256 ${sha256}, but pg_dump wrote ${written.bytes} bytes with sha256 ${written.sha256}`,
    );
  }
  const shortfalls = archiveShortfalls(tables, rows.tables());
  if (shortfalls.length > 0) {
    throw new JobError(
      `verification failed: the data in ${url} does not match the rows counted in the dump's snapshot: ${shortfalls.join("; ")}`,
    );
  }
}

/** Deletes whatever part of a failed backup reached the bucket; a failure here is only logged. */
async function removePartialBackup(config: JobConfig, deps: JobDeps, keys: BackupKeys): Promise<void> {
  for (const key of [keys.dump, keys.manifest]) {
    try {
      await deleteObject(deps.s3, config.storage.bucket, key);
    } catch (error) {
      deps.log.error("could not delete the failed backup's object; delete it by hand", {
        key,
        error: errorMessage(error),
      });
    }
  }
}
