import { backupKeys, drillDatabaseName, keyTimestamp, latestKey } from "../src/keys";

describe("key naming", () => {
  test("a dump and its manifest sit under the database and the UTC day", () => {
    expect(backupKeys("postgres", "app", new Date("2026-11-22T02:00:07.042Z"))).toEqual({
      dump: "postgres/app/2026/11/22/app-20261122T020007.042Z.dump",
      manifest: "postgres/app/2026/11/22/app-20261122T020007.042Z.manifest.json",
    });
  });

  test("the day comes from UTC, not the local time zone", () => {
    expect(backupKeys("backups/pg", "orders", new Date("2026-01-05T23:59:59.999-05:00")).dump).toBe(
      "backups/pg/orders/2026/01/06/orders-20260106T045959.999Z.dump",
    );
  });

  test("timestamps are zero-padded ISO 8601 basic format", () => {
    expect(keyTimestamp(new Date("2027-03-04T05:06:07.008Z"))).toBe("20270304T050607.008Z");
  });

  test("latest.json has one fixed key per database", () => {
    expect(latestKey("postgres", "app")).toBe("postgres/app/latest.json");
  });

  test("a drill database name is unique per run and needs no quoting", () => {
    expect(drillDatabaseName(new Date("2026-11-22T03:00:00.500Z"), "3fa9")).toBe("restore_drill_20261122t030000_3fa9");
  });
});
