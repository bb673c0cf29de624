import { connectionTarget, parseRowCounts } from "../src/postgres";

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
