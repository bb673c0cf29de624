import { connectionTarget, parseRowCounts, tablesWithoutDataEntry } from "../src/postgres";

// Shape of `pg_restore --list` output (PostgreSQL 15/16): names are printed unquoted; the third
// number of an entry is the object's OID.
const LISTING = `;
; Archive created at 2026-11-22 03:21:28 UTC
;     dbname: app
;     Format: CUSTOM
;
; Selected TOC Entries:
;
6; 2615 16387 SCHEMA - billing admin
215; 1259 16384 TABLE public customers admin
216; 1259 16388 TABLE public audit log admin
217; 1259 16390 TABLE billing invoices admin
3343; 0 16384 TABLE DATA public customers admin
3344; 0 16388 TABLE DATA public audit log admin
3190; 2606 16392 CONSTRAINT public customers customers_pkey admin
`;

describe("tablesWithoutDataEntry", () => {
  test("finds the tables whose data the archive does not contain, by OID", () => {
    const tables = [
      { schema: "billing", table: "invoices", rows: 10, oid: 16390 },
      { schema: "public", table: "audit log", rows: 3, oid: 16388 },
      { schema: "public", table: "customers", rows: 250, oid: 16384 },
    ];
    expect(tablesWithoutDataEntry(LISTING, tables)).toEqual([
      { schema: "billing", table: "invoices", rows: 10, oid: 16390 },
    ]);
  });

  test("a name that is a prefix of another table's name with a space is not mistaken for it", () => {
    const tables = [{ schema: "public", table: "audit", rows: 1, oid: 16400 }];
    expect(tablesWithoutDataEntry(LISTING, tables)).toEqual(tables);
  });

  test("table-definition and constraint lines with the same OID do not count as data", () => {
    const tables = [{ schema: "billing", table: "invoices", rows: 10, oid: 16390 }];
    const listing =
      "217; 1259 16390 TABLE billing invoices admin\n3190; 2606 16390 CONSTRAINT billing invoices invoices_pkey admin\n";
    expect(tablesWithoutDataEntry(listing, tables)).toEqual(tables);
  });
});

describe("parseRowCounts", () => {
  test("reads psql's JSON array of [schema, table, rows, oid]", () => {
    expect(parseRowCounts('[["billing", "invoices", 1000, 16390], \n ["public", "audit log", 3, 16388]]')).toEqual([
      { schema: "billing", table: "invoices", rows: 1000, oid: 16390 },
      { schema: "public", table: "audit log", rows: 3, oid: 16388 },
    ]);
  });

  test("an empty database has no tables", () => {
    expect(parseRowCounts("[]")).toEqual([]);
  });

  test.each([
    ["not JSON", "ERROR", "unexpected row count output from psql: ERROR"],
    ["an object", "{}", "unexpected row count output from psql: {}"],
    ["a count as text", '[["public", "t", "3", 1]]', 'unexpected row count entry from psql: ["public","t","3",1]'],
    ["no OID", '[["public", "t", 3]]', 'unexpected row count entry from psql: ["public","t",3]'],
  ])("rejects %s", (_case, output, message) => {
    expect(() => parseRowCounts(output)).toThrow(new Error(message));
  });
});

describe("connectionTarget", () => {
  test("says host, port and database, not the role (a secret in ECS)", () => {
    const pg = { host: "db.internal", port: 5432, database: "app", user: "backup", sslMode: undefined };
    expect(connectionTarget(pg)).toBe("db.internal:5432/app");
    expect(connectionTarget(pg, "restore_drill_x")).toBe("db.internal:5432/restore_drill_x");
  });
});
