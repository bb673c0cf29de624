import { readFileSync } from "fs";
import { join } from "path";
import { configRows, withReference } from "../../tools/docs";

describe("npm run docs", () => {
  test("the README's config reference is what the settings schemas generate", () => {
    const readme = readFileSync(join(__dirname, "../../README.md"), "utf8");
    expect(withReference(readme)).toBe(readme);
  });

  test("rows carry each key's default and description, from the part that owns it", () => {
    const row = (key: string) => configRows().find((r) => r.key === key);
    expect(row("postgres.backupRetentionDays")).toEqual({
      key: "postgres.backupRetentionDays",
      default: "`30`",
      meaning: "days of automated backups: the point-in-time recovery horizon (R-backup-retention)",
    });
    expect(row("healthCheck.intervalSeconds")?.default).toBe("`30`");
    expect(row("backup.dailyAt")?.default).toBe("`02:00`");
    expect(row("services[].name")?.default).toBe("required");
    expect(row("thresholds.cacheHitRatePercent.critical")?.default).toBe("`50`");
    expect(configRows().filter((r) => r.meaning === "")).toEqual([]);
  });

  test("a README without the markers is an error that names them", () => {
    expect(() => withReference("# no markers\n")).toThrow("README.md has no config reference markers");
  });
});
