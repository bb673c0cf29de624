/**
 * Everything that talks to PostgreSQL, all through the libpq programs (psql, pg_dump,
 * pg_restore) so that PGSSLMODE, PGSSLROOTCERT, PGPASSFILE and friends mean exactly what the
 * libpq documentation says, and the password only ever travels in the environment.
 */
import { randomBytes } from "node:crypto";
import type { PostgresConfig } from "./config";
import { describeExit, runToCompletion, startChild, succeeded, type Child, type ChildExit } from "./child";
import { JobError } from "./errors";
import type { TableRowCount } from "./manifest";

export type ChildEnv = Readonly<Record<string, string>>;

/** psql flags: no ~/.psqlrc, no prompts, unaligned tuples only, stop at the first error. */
const PSQL_FLAGS = [
  "--no-psqlrc",
  "--no-password",
  "--quiet",
  "--no-align",
  "--tuples-only",
  "--set",
  "ON_ERROR_STOP=1",
];

/** pg_dump gives up instead of queueing forever behind a migration's exclusive lock. */
const LOCK_WAIT_TIMEOUT = "120s";

/** A counted table and its OID. */
export interface CountedTable extends TableRowCount {
  oid: number;
}

/**
 * Row counts of every user table as one JSON array of [schema, table, rows, oid]. Ordinary tables
 * only (partitioned parents hold no rows of their own; their partitions are counted), skipping
 * catalogs, other sessions' temporary tables and tables owned by extensions, which pg_dump does
 * not dump as data either. Counting with query_to_xml keeps it one statement, so it can run
 * inside the snapshot's transaction without PL/pgSQL.
 */
export const ROW_COUNT_SQL = `SELECT coalesce(json_agg(json_build_array(n.nspname, c.relname,
  (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text::bigint,
  c.oid::bigint
) ORDER BY n.nspname, c.relname), '[]'::json)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND c.relpersistence <> 't'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e');`;

/** An SQL identifier, quoted so that any name, even one with quotes or capitals, stays one identifier. */
export const ident = (value: string): string => `"${value.replace(/"/g, '""')}"`;

/** An SQL string literal; the server's standard_conforming_strings (on since 9.1) leaves backslashes alone. */
export const literal = (value: string): string => `'${value.replace(/'/g, "''")}'`;

/**
 * `host:port/database`, for messages. The role is left out: in ECS it arrives as a secret.
 */
export function connectionTarget(pg: PostgresConfig, database = pg.database): string {
  return `${pg.host}:${pg.port}/${database}`;
}

/**
 * Parses the output of {@link ROW_COUNT_SQL}.
 *
 * @throws {JobError} if it is not the expected JSON shape
 */
export function parseRowCounts(output: string): CountedTable[] {
  let rows: unknown;
  try {
    rows = JSON.parse(output);
  } catch {
    throw new JobError(`unexpected row count output from psql: ${output.slice(0, 200)}`);
  }
  if (!Array.isArray(rows)) {
    throw new JobError(`unexpected row count output from psql: ${output.slice(0, 200)}`);
  }
  return rows.map((row: unknown) => {
    const [schema, table, count, oid] = Array.isArray(row) ? (row as unknown[]) : [];
    if (
      typeof schema !== "string" ||
      typeof table !== "string" ||
      !Number.isSafeInteger(count) ||
      !Number.isSafeInteger(oid)
    ) {
      throw new JobError(`unexpected row count entry from psql: ${JSON.stringify(row)}`);
    }
    return { schema, table, rows: count as number, oid: oid as number };
  });
}

/** What went wrong talking to the server, telling "could not connect" (psql exit 2) apart. */
function psqlFailure(pg: PostgresConfig, database: string, exit: ChildExit, doing: string): JobError {
  if (exit.code === 2) {
    return new JobError(
      `cannot connect to PostgreSQL at ${connectionTarget(pg, database)}: ${describeExit("psql", exit)}`,
    );
  }
  return new JobError(`${doing} failed on ${connectionTarget(pg, database)}: ${describeExit("psql", exit)}`);
}

/**
 * Runs one SQL command with psql and returns its unaligned output.
 *
 * @param database the database to connect to (the configured one unless given)
 */
export async function runSql(
  pg: PostgresConfig,
  env: ChildEnv,
  sql: string,
  doing: string,
  database = pg.database,
): Promise<string> {
  const child = startChild("psql", [...PSQL_FLAGS, "--command", sql], {
    env: { ...env, PGDATABASE: database },
    stdout: "capture",
  });
  child.process.stdin.end();
  const exit = await child.exit;
  if (!succeeded(exit)) {
    throw psqlFailure(pg, database, exit, doing);
  }
  return child.stdout().trim();
}

/** Row counts of every user table in `database`, outside any snapshot (used after a restore). */
export async function countRows(pg: PostgresConfig, env: ChildEnv, database: string): Promise<CountedTable[]> {
  return parseRowCounts(await runSql(pg, env, ROW_COUNT_SQL, "counting rows", database));
}

/**
 * An open REPEATABLE READ transaction whose snapshot is exported for pg_dump, with the row counts
 * taken in that same snapshot: the counts describe exactly the data in the dump, even while the
 * application keeps writing.
 */
export interface SnapshotSession {
  readonly snapshotId: string;
  readonly serverVersion: string;
  readonly tables: readonly CountedTable[];
  /** Commits and disconnects; call after pg_dump has exited. */
  close(): Promise<void>;
}

/**
 * Opens the snapshot session. It doubles as the connection check: nothing is uploaded if the
 * database cannot be reached.
 *
 * @throws {JobError} "cannot connect to PostgreSQL at ..." or the failing SQL's error
 */
export async function openSnapshotSession(
  pg: PostgresConfig,
  env: ChildEnv,
  signal?: AbortSignal,
): Promise<SnapshotSession> {
  const marker = `--opsbook-${randomBytes(6).toString("hex")}--`;
  const child = startChild("psql", PSQL_FLAGS, { env, stdout: "capture", ...(signal && { signal }) });
  // The timeouts are lifted for this transaction only: it must outlive the whole dump, and a
  // server default (statement_timeout, idle_in_transaction_session_timeout) would cut it short.
  child.process.stdin.write(
    [
      "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;",
      "SET LOCAL statement_timeout = 0;",
      "SET LOCAL idle_in_transaction_session_timeout = 0;",
      "SELECT pg_export_snapshot(), current_setting('server_version');",
      `\\echo ${marker}`,
      ROW_COUNT_SQL,
      `\\echo ${marker}`,
      "",
    ].join("\n"),
  );
  const output = await waitForOutput(child, marker, 2);
  if (output === undefined) {
    child.process.kill("SIGTERM");
    throw psqlFailure(pg, pg.database, await child.exit, "taking the snapshot and row counts");
  }
  const [head = "", counts = ""] = output.split(`${marker}\n`);
  const [snapshotId = "", serverVersion = ""] = head.trim().split("|");
  let tables: CountedTable[];
  try {
    tables = parseRowCounts(counts.trim());
  } catch (error) {
    child.process.kill("SIGTERM");
    throw error;
  }
  return { snapshotId, serverVersion, tables, close: () => closeSession(child) };
}

/** Resolves with stdout once `marker` has been printed `times` times, or undefined if psql exits first. */
function waitForOutput(child: Child, marker: string, times: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const check = (): void => {
      const output = child.stdout();
      if (output.split(`${marker}\n`).length > times) {
        child.process.stdout.off("data", check);
        resolve(output);
      }
    };
    child.process.stdout.on("data", check);
    child.exit.then(
      () => resolve(undefined),
      () => resolve(undefined),
    );
  });
}

async function closeSession(child: Child): Promise<void> {
  child.process.stdin.end("COMMIT;\n");
  const exit = await child.exit;
  if (!succeeded(exit)) {
    // pg_dump imported the snapshot when it started, so the dump does not depend on this.
    throw new JobError(`closing the snapshot session failed: ${describeExit("psql", exit)}`);
  }
}

/** The pg_dump version line, e.g. "pg_dump (PostgreSQL) 16.4", recorded in the manifest. */
export async function pgDumpVersion(env: ChildEnv): Promise<string> {
  return (await runToCompletion("pg_dump", ["--version"], { env }, "pg_dump --version failed")).trim();
}

/**
 * Starts `pg_dump --format=custom` of the configured database in the exported snapshot, writing
 * the archive to stdout for the caller to stream.
 */
export function startDump(env: ChildEnv, snapshotId: string, signal?: AbortSignal): Child {
  const args = [
    "--format=custom",
    "--no-password",
    `--snapshot=${snapshotId}`,
    `--lock-wait-timeout=${LOCK_WAIT_TIMEOUT}`,
  ];
  return startChild("pg_dump", args, { env, stdout: "stream", ...(signal && { signal }) });
}

/**
 * Starts `pg_restore --data-only` from stdin to a script on stdout, for the caller to stream: it
 * reads and decompresses every data block of the archive, which `--list` (the table of contents
 * only) does not. No database is involved.
 */
export function startDataScript(env: ChildEnv, signal?: AbortSignal): Child {
  return startChild("pg_restore", ["--data-only", "--file=-"], { env, stdout: "stream", ...(signal && { signal }) });
}

/**
 * Starts a restore from stdin into `database`. Owners and grants are skipped because the drill's
 * role need not be able to take on the production roles; the first error stops the restore so the
 * message points at the cause, not at a cascade.
 */
export function startRestore(env: ChildEnv, database: string, signal?: AbortSignal): Child {
  const args = ["--dbname", database, "--no-password", "--exit-on-error", "--no-owner", "--no-privileges"];
  return startChild("pg_restore", args, { env, ...(signal && { signal }) });
}

/** Creates an empty database from template0, so nothing from template1 collides with the dump. */
export async function createDatabase(pg: PostgresConfig, env: ChildEnv, name: string): Promise<void> {
  await runSql(pg, env, `CREATE DATABASE ${ident(name)} TEMPLATE template0;`, `creating database ${name}`);
}

/** Drops a database even if a connection lingers (PostgreSQL 13+). */
export async function dropDatabase(pg: PostgresConfig, env: ChildEnv, name: string): Promise<void> {
  await runSql(pg, env, `DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE);`, `dropping database ${name}`);
}
