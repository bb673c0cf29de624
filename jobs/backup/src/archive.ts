/**
 * Reading a whole archive back (R-backup-integrity): `pg_restore --data-only` turns every data
 * block of the dump into the SQL script it would run, and the rows of each `COPY ... FROM stdin;`
 * block are counted here as the script streams past. A dump cut short fails in pg_restore (the
 * data block it needed is not there) or, if it somehow does not, shows fewer rows than were
 * counted in the dump's snapshot. Only the table of contents would not notice either: in a dump
 * written to a pipe it comes first, complete, whatever follows.
 */
import { Writable, type WritableOptions } from "node:stream";
import { qualifiedName, type TableRowCount } from "./manifest";

const NEWLINE = 0x0a;
/** COPY text format ends a block with a line holding only `\.` (a data line never does: `\` is escaped). */
const END_OF_COPY = "\\.";
/** Enough of a COPY header line for its table name; columns beyond it are not needed. */
const HEADER_LIMIT = 64 * 1024;

/**
 * Parses the table of a `COPY <schema>.<table> (<columns>) FROM stdin;` line as pg_dump writes
 * it: each name bare (lower case, no keyword) or double-quoted with `""` for a quote.
 *
 * @returns the schema and table, or undefined if the line is no such COPY header
 */
export function parseCopyHeader(line: string): Pick<TableRowCount, "schema" | "table"> | undefined {
  if (!line.startsWith("COPY ") || !line.endsWith(" FROM stdin;")) return undefined;
  const schema = readIdentifier(line, 5);
  if (schema === undefined || line[schema.end] !== ".") return undefined;
  const table = readIdentifier(line, schema.end + 1);
  if (table === undefined || line[table.end] !== " ") return undefined;
  return { schema: schema.name, table: table.name };
}

function readIdentifier(line: string, start: number): { name: string; end: number } | undefined {
  if (line[start] !== '"') {
    const match = /^[^".\s]+/.exec(line.slice(start));
    return match ? { name: match[0], end: start + match[0].length } : undefined;
  }
  let name = "";
  for (let i = start + 1; i < line.length; i++) {
    if (line[i] !== '"') {
      name += line[i];
    } else if (line[i + 1] === '"') {
      name += '"';
      i++;
    } else {
      return { name, end: i + 1 };
    }
  }
  return undefined;
}

/**
 * A sink for pg_restore's script output that counts the data lines of every COPY block. It never
 * keeps a data line, only the first bytes of the line it is in, so memory stays flat however large
 * the database.
 */
export class CopyRowCounter extends Writable {
  private readonly counts = new Map<string, TableRowCount>();
  /** The table whose COPY block is being read, or undefined outside one. */
  private current: TableRowCount | undefined;
  /** The start of the current line (all of it outside COPY blocks, up to HEADER_LIMIT). */
  private line: Buffer[] = [];
  private lineBytes = 0;

  constructor(options?: WritableOptions) {
    super(options);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
      this.keep(chunk.subarray(start, end));
      this.endLine();
      start = end + 1;
    }
    this.keep(chunk.subarray(start));
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.lineBytes > 0) this.endLine();
    callback();
  }

  /**
   * Rows per table found in the archive. A table whose COPY block was started but never ended
   * (the script stopped inside it) is reported with the rows seen so far and `complete: false`.
   */
  tables(): (TableRowCount & { complete: boolean })[] {
    return [...this.counts.values()].map((t) => ({ ...t, complete: t !== this.current }));
  }

  private keep(bytes: Buffer): void {
    if (bytes.length === 0) return;
    // Inside a COPY block only the end marker matters, which is two bytes long.
    const limit = this.current === undefined ? HEADER_LIMIT : END_OF_COPY.length + 1;
    if (this.lineBytes < limit) this.line.push(bytes.subarray(0, limit - this.lineBytes));
    this.lineBytes += bytes.length;
  }

  private endLine(): void {
    const text = Buffer.concat(this.line).toString("utf8");
    const bytes = this.lineBytes;
    this.line = [];
    this.lineBytes = 0;
    if (this.current !== undefined) {
      if (bytes === END_OF_COPY.length && text === END_OF_COPY) {
        this.current = undefined;
      } else {
        this.current.rows++;
      }
      return;
    }
    const table = parseCopyHeader(text);
    if (table === undefined) return;
    const key = tableKey(table);
    const entry = this.counts.get(key) ?? { ...table, rows: 0 };
    this.counts.set(key, entry);
    this.current = entry;
  }
}

/** A map key that keeps `a.b`.`c` and `a`.`b.c` apart, unlike the dotted name. */
const tableKey = (t: Pick<TableRowCount, "schema" | "table">): string => JSON.stringify([t.schema, t.table]);

/**
 * What the archive lacks compared with the counts taken in the dump's snapshot: one sentence per
 * counted table whose data is missing, cut off or of another row count. Empty when every counted
 * table's data is there in full. Tables in the archive that were not counted (an extension's
 * configuration tables) are not a loss and are ignored.
 */
export function archiveShortfalls(
  counted: readonly TableRowCount[],
  found: readonly (TableRowCount & { complete: boolean })[],
): string[] {
  const byKey = new Map(found.map((t) => [tableKey(t), t]));
  return counted.flatMap((expected) => {
    const name = qualifiedName(expected);
    const actual = byKey.get(tableKey(expected));
    if (actual === undefined) return [`${name}: ${expected.rows} rows counted, no data in the archive`];
    if (!actual.complete) return [`${name}: ${expected.rows} rows counted, data cut off after ${actual.rows}`];
    if (actual.rows !== expected.rows) return [`${name}: ${expected.rows} rows counted, ${actual.rows} in the archive`];
    return [];
  });
}
