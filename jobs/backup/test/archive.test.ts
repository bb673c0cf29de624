import { CopyRowCounter, archiveShortfalls, parseCopyHeader } from "../src/archive";

// Shape of `pg_restore --data-only --file=-` output (PostgreSQL 15/16): comments and SET lines,
// then one COPY block per table, names quoted as pg_dump's fmtId quotes them.
const SCRIPT = `--
-- PostgreSQL database dump
--

SET statement_timeout = 0;
SELECT pg_catalog.set_config('search_path', '', false);

--
-- Data for Name: invoices; Type: TABLE DATA; Schema: billing; Owner: admin
--

COPY billing.invoices (id, customer_id, cents) FROM stdin;
1\t2\t100
2\t3\t200
\\.


--
-- Data for Name: audit log; Type: TABLE DATA; Schema: public; Owner: admin
--

COPY public."audit log" (id, entry) FROM stdin;
1\tline one\\nline two
2\t\\\\.
3\t"quoted"
\\.


COPY public.empty_table (id) FROM stdin;
\\.


--
-- PostgreSQL database dump complete
--
`;

/** Feeds `text` to a counter in chunks of `size` bytes, as a pipe would deliver it. */
async function count(text: string, size: number): Promise<ReturnType<CopyRowCounter["tables"]>> {
  const counter = new CopyRowCounter();
  const bytes = Buffer.from(text, "utf8");
  for (let i = 0; i < bytes.length; i += size) {
    await new Promise<void>((resolve, reject) =>
      counter.write(bytes.subarray(i, i + size), (error) => (error ? reject(error) : resolve())),
    );
  }
  await new Promise<void>((resolve) => counter.end(resolve));
  return counter.tables();
}

describe("parseCopyHeader", () => {
  test.each([
    ["COPY billing.invoices (id, cents) FROM stdin;", { schema: "billing", table: "invoices" }],
    ['COPY public."audit log" (id) FROM stdin;', { schema: "public", table: "audit log" }],
    ['COPY "My.Schema"."say ""hi""" (id) FROM stdin;', { schema: "My.Schema", table: 'say "hi"' }],
    ['COPY public."user" (id) FROM stdin;', { schema: "public", table: "user" }],
  ])("reads %s", (line, table) => {
    expect(parseCopyHeader(line)).toEqual(table);
  });

  test.each([
    "1\tCOPY a.b (x) FROM stdin;",
    "COPY a.b (x) TO stdout;",
    "COPY nodot (x) FROM stdin;",
    'COPY a."unterminated (x) FROM stdin;',
  ])("ignores %s", (line) => {
    expect(parseCopyHeader(line)).toBeUndefined();
  });
});

describe("CopyRowCounter", () => {
  const expected = [
    { schema: "billing", table: "invoices", rows: 2, complete: true },
    { schema: "public", table: "audit log", rows: 3, complete: true },
    { schema: "public", table: "empty_table", rows: 0, complete: true },
  ];

  test.each([1, 7, 64, 1 << 20])("counts the data lines of every COPY block, in chunks of %d bytes", async (size) => {
    expect(await count(SCRIPT, size)).toEqual(expected);
  });

  test("a script that stops inside a COPY block reports that table as cut off", async () => {
    const cut = SCRIPT.slice(0, SCRIPT.indexOf('3\t"quoted"'));
    expect(await count(cut, 5)).toEqual([
      { schema: "billing", table: "invoices", rows: 2, complete: true },
      { schema: "public", table: "audit log", rows: 2, complete: false },
    ]);
  });

  test("a data line longer than any buffer is counted once and not kept", async () => {
    const big = "x".repeat(300_000);
    const script = `COPY public.blobs (b) FROM stdin;\n${big}\n${big}\n\\.\n`;
    expect(await count(script, 4096)).toEqual([{ schema: "public", table: "blobs", rows: 2, complete: true }]);
  });
});

describe("archiveShortfalls", () => {
  const found = [
    { schema: "public", table: "customers", rows: 250, complete: true },
    { schema: "public", table: "audit log", rows: 1, complete: false },
    { schema: "billing", table: "invoices", rows: 999, complete: true },
    { schema: "public", table: "extension_config", rows: 4, complete: true },
  ];

  test("is empty when every counted table's data is there in full", () => {
    expect(archiveShortfalls([{ schema: "public", table: "customers", rows: 250 }], found)).toEqual([]);
  });

  test("names each counted table whose data is missing, cut off or short", () => {
    const counted = [
      { schema: "billing", table: "invoices", rows: 1000 },
      { schema: "public", table: "audit log", rows: 3 },
      { schema: "public", table: "customers", rows: 250 },
      { schema: "public", table: "ghost", rows: 0 },
    ];
    expect(archiveShortfalls(counted, found)).toEqual([
      "billing.invoices: 1000 rows counted, 999 in the archive",
      "public.audit log: 3 rows counted, data cut off after 1",
      "public.ghost: 0 rows counted, no data in the archive",
    ]);
  });

  test("a dot inside a name does not make two tables one", () => {
    const counted = [{ schema: "a.b", table: "c", rows: 1 }];
    expect(archiveShortfalls(counted, [{ schema: "a", table: "b.c", rows: 1, complete: true }])).toEqual([
      "a.b.c: 1 rows counted, no data in the archive",
    ]);
  });
});
