/**
 * The record kept beside every dump and copied into `latest.json`: what the dump should contain
 * (row counts taken in the dump's own snapshot) and how to recognise it intact (size, sha256).
 */
import { JobError } from "./errors";

export interface TableRowCount {
  schema: string;
  table: string;
  rows: number;
}

export interface BackupManifest {
  formatVersion: 1;
  database: string;
  dumpKey: string;
  manifestKey: string;
  sizeBytes: number;
  /** Hex sha256 of the dump exactly as pg_dump wrote it. */
  sha256: string;
  /** ISO time the dump's snapshot was taken. */
  startedAt: string;
  /** ISO time the dump was verified. */
  finishedAt: string;
  pgDumpVersion: string;
  serverVersion: string;
  /** Every user table with its row count, sorted by schema then table. */
  tables: TableRowCount[];
}

export interface RowCountDifference {
  /** `schema.table` */
  table: string;
  /** Undefined when the table is not in the manifest. */
  expected: number | undefined;
  /** Undefined when the table is missing from the restored database. */
  actual: number | undefined;
}

/** `schema.table`, the way operators write it. */
export function qualifiedName(table: Pick<TableRowCount, "schema" | "table">): string {
  return `${table.schema}.${table.table}`;
}

/**
 * Differences between the row counts recorded at dump time and those found after a restore,
 * sorted by table name; empty when they agree exactly, including on the set of tables.
 */
export function compareRowCounts(
  expected: readonly TableRowCount[],
  actual: readonly TableRowCount[],
): RowCountDifference[] {
  const before = new Map(expected.map((t) => [qualifiedName(t), t.rows]));
  const after = new Map(actual.map((t) => [qualifiedName(t), t.rows]));
  const names = [...new Set([...before.keys(), ...after.keys()])].sort();
  return names
    .map((table) => ({ table, expected: before.get(table), actual: after.get(table) }))
    .filter((d) => d.expected !== d.actual);
}

/** One readable sentence per difference, joined with "; ". */
export function describeDifferences(differences: readonly RowCountDifference[]): string {
  return differences
    .map(({ table, expected, actual }) => {
      if (actual === undefined) {
        return `${table}: ${expected} rows at dump time, table missing after restore`;
      }
      if (expected === undefined) {
        return `${table}: not in the dump's manifest, ${actual} rows after restore`;
      }
      return `${table}: ${expected} rows at dump time, ${actual} after restore`;
    })
    .join("; ");
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
const isText = (value: unknown): value is string => typeof value === "string" && value.length > 0;

/**
 * Parses and checks a manifest (or `latest.json`), so a hand-edited or truncated file fails with
 * the field at fault instead of somewhere deep in the restore.
 *
 * @param text the object's body
 * @param source where it came from, e.g. `s3://bucket/postgres/app/latest.json`, for messages
 * @throws {JobError} naming the source and the first bad field
 */
export function parseManifest(text: string, source: string): BackupManifest {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new JobError(`${source} is not valid JSON: ${(error as Error).message}`);
  }
  const fail = (field: string, expectation: string): never => {
    throw new JobError(`${source} is not a usable backup manifest: ${field} must be ${expectation}`);
  };
  if (!isObject(data)) {
    return fail("the document", "a JSON object");
  }
  if (data.formatVersion !== 1) fail("formatVersion", "1");
  for (const field of [
    "database",
    "dumpKey",
    "manifestKey",
    "startedAt",
    "finishedAt",
    "pgDumpVersion",
    "serverVersion",
  ]) {
    if (!isText(data[field])) fail(field, "a non-empty string");
  }
  if (!isCount(data.sizeBytes)) fail("sizeBytes", "a non-negative integer");
  if (typeof data.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(data.sha256))
    fail("sha256", "64 lower-case hex digits");
  if (!Array.isArray(data.tables)) fail("tables", "an array");
  (data.tables as unknown[]).forEach((entry, index) => {
    const ok = isObject(entry) && isText(entry.schema) && isText(entry.table) && isCount(entry.rows);
    if (!ok) fail(`tables[${index}]`, "{ schema: string, table: string, rows: non-negative integer }");
  });
  return data as unknown as BackupManifest;
}
