import {
  compareRowCounts,
  describeDifferences,
  parseManifest,
  type BackupManifest,
  type TableRowCount,
} from "../src/manifest";

const TABLES: TableRowCount[] = [
  { schema: "billing", table: "invoices", rows: 1000 },
  { schema: "public", table: "customers", rows: 250 },
  { schema: "public", table: "empty", rows: 0 },
];

const MANIFEST: BackupManifest = {
  formatVersion: 1,
  database: "app",
  dumpKey: "postgres/app/2026/11/22/app-20261122T020000.000Z.dump",
  manifestKey: "postgres/app/2026/11/22/app-20261122T020000.000Z.manifest.json",
  sizeBytes: 123456,
  sha256: "a".repeat(64),
  startedAt: "2026-11-22T02:00:00.000Z",
  finishedAt: "2026-11-22T02:03:10.000Z",
  pgDumpVersion: "pg_dump (PostgreSQL) 16.4",
  serverVersion: "16.4",
  tables: TABLES,
};

/** The message `fn` throws; fails the test if it does not throw. */
function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected an error");
}

describe("compareRowCounts", () => {
  test("identical counts in any order have no differences", () => {
    expect(compareRowCounts(TABLES, [...TABLES].reverse())).toEqual([]);
  });

  test("reports changed, missing and unexpected tables, sorted by name", () => {
    const restored: TableRowCount[] = [
      { schema: "public", table: "customers", rows: 249 },
      { schema: "public", table: "empty", rows: 0 },
      { schema: "public", table: "surprise", rows: 2 },
    ];
    expect(compareRowCounts(TABLES, restored)).toEqual([
      { table: "billing.invoices", expected: 1000, actual: undefined },
      { table: "public.customers", expected: 250, actual: 249 },
      { table: "public.surprise", expected: undefined, actual: 2 },
    ]);
  });

  test("an empty table that vanished is a difference, not a match on zero", () => {
    expect(compareRowCounts([{ schema: "public", table: "empty", rows: 0 }], [])).toEqual([
      { table: "public.empty", expected: 0, actual: undefined },
    ]);
  });
});

describe("describeDifferences", () => {
  test("one sentence per difference", () => {
    expect(
      describeDifferences([
        { table: "billing.invoices", expected: 1000, actual: undefined },
        { table: "public.customers", expected: 250, actual: 249 },
        { table: "public.surprise", expected: undefined, actual: 2 },
      ]),
    ).toBe(
      "billing.invoices: 1000 rows at dump time, table missing after restore; " +
        "public.customers: 250 rows at dump time, 249 after restore; " +
        "public.surprise: not in the dump's manifest, 2 rows after restore",
    );
  });
});

describe("parseManifest", () => {
  const source = "s3://bucket/postgres/app/latest.json";

  test("accepts a manifest and returns it unchanged", () => {
    expect(parseManifest(JSON.stringify(MANIFEST), source)).toEqual(MANIFEST);
  });

  test.each([
    ["an array", "[]", `${source} is not a usable backup manifest: the document must be a JSON object`],
    [
      "a future format",
      JSON.stringify({ ...MANIFEST, formatVersion: 2 }),
      `${source} is not a usable backup manifest: formatVersion must be 1`,
    ],
    [
      "no dump key",
      JSON.stringify({ ...MANIFEST, dumpKey: "" }),
      `${source} is not a usable backup manifest: dumpKey must be a non-empty string`,
    ],
    [
      "a negative size",
      JSON.stringify({ ...MANIFEST, sizeBytes: -1 }),
      `${source} is not a usable backup manifest: sizeBytes must be a non-negative integer`,
    ],
    [
      "an upper-case sha256",
      JSON.stringify({ ...MANIFEST, sha256: "A".repeat(64) }),
      `${source} is not a usable backup manifest: sha256 must be 64 lower-case hex digits`,
    ],
    [
      "a fractional row count",
      JSON.stringify({ ...MANIFEST, tables: [TABLES[0], { schema: "public", table: "x", rows: 1.5 }] }),
      `${source} is not a usable backup manifest: tables[1] must be { schema: string, table: string, rows: non-negative integer }`,
    ],
  ])("rejects %s with the field at fault", (_case, text, message) => {
    expect(messageOf(() => parseManifest(text, source))).toBe(message);
  });

  test("rejects text that is not JSON, naming the object", () => {
    // The parser's own wording differs between Node versions; only the prefix is ours.
    expect(messageOf(() => parseManifest("{", source))).toMatch(
      /^s3:\/\/bucket\/postgres\/app\/latest\.json is not valid JSON: ./,
    );
  });
});
