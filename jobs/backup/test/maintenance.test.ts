/**
 * The maintenance commands (R-db-maintenance) against a real PostgreSQL server that preloads
 * pg_stat_statements, as the stack's parameter group does, through the entry point the image
 * runs: the roles come from the real bootstrap, the job connects as the maintenance role.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { BACKUP_METRIC, MAINTENANCE_COMMANDS } from "../../../lib/backupContract";
import {
  DATABASE_ROLES,
  DATABASE_ROLE_PURPOSES,
  ROLE_SLOTS,
  loginRole,
  rolePasswordEnv,
} from "../../../lib/databaseRoles";
import { loadMaintenanceConfig, ConfigError } from "../src/config";
import { JobError } from "../src/errors";
import { EXIT, main } from "../src/main";
import { maintenanceScript, parseSlowStatements, STATEMENT_TEXT_LIMIT } from "../src/maintenance";
import { startTestPostgres, type TestPostgres } from "./support/postgres";
import { RecordingLogger, RecordingPublisher, steppingClock } from "./support/recorders";

const run = promisify(execFile);
const DATABASE = "app";
const MASTER = "rds_master_standin";
const MASTER_PASSWORD = "master-password-0123456789";
/** The login roles the tasks use at rotation generation 0 (slot a); each acts as its purpose's group role. */
const app = loginRole("app", "a");
const migrate = loginRole("migrate", "a");
const maintenance = loginRole("maintenance", "a");
/** The group roles: the objects' owner, and the role pg_stat_statements records. */
const GROUP = DATABASE_ROLES;
/** Slot a's passwords, which the tests connect with; slot b gets its own. */
const PASSWORDS = Object.fromEntries(DATABASE_ROLE_PURPOSES.map((p) => [p, `${p}Password0123456789abcdef`])) as Record<
  (typeof DATABASE_ROLE_PURPOSES)[number],
  string
>;

let pg: TestPostgres;

async function as(role: string, password: string, sql: string): Promise<string> {
  const args = ["--no-psqlrc", "--quiet", "--no-align", "--tuples-only", "--set", "ON_ERROR_STOP=1", "--command", sql];
  const { stdout } = await run(join(pg.binDir, "psql"), args, {
    env: { ...pg.env(DATABASE), PGUSER: role, PGPASSWORD: password },
    timeout: 30_000,
  });
  return stdout.trim();
}

async function refusal(role: string, password: string, sql: string): Promise<string> {
  try {
    await as(role, password, sql);
    return "";
  } catch (error) {
    return String((error as { stderr?: string }).stderr ?? error);
  }
}

/** The task definition's environment: the maintenance role's connection and the metrics' namespace. */
function maintenanceEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ...pg.env(DATABASE),
    PGUSER: maintenance,
    PGPASSWORD: PASSWORDS.maintenance,
    AWS_REGION: "eu-west-1",
    METRICS_NAMESPACE: "Opsbook/Backup/test",
    MAINTENANCE_SLOW_STATEMENTS: "5",
    ...overrides,
  };
}

async function maintain(command: string, env = maintenanceEnv()) {
  const log = new RecordingLogger();
  const metrics = new RecordingPublisher();
  const code = await main([command], env, { log, metrics, now: steppingClock("2026-12-06T03:00:00Z") });
  return { code, log, metrics };
}

const reltuples = (table: string) =>
  pg.sql(`SELECT reltuples::bigint FROM pg_class WHERE oid = 'public.${table}'::regclass`, DATABASE);

beforeAll(async () => {
  pg = await startTestPostgres({ shared_preload_libraries: "pg_stat_statements" });
  await pg.sql(`CREATE ROLE ${MASTER} LOGIN CREATEROLE CREATEDB PASSWORD '${MASTER_PASSWORD}'`);
  await pg.sql(`CREATE DATABASE ${DATABASE} OWNER ${MASTER}`);
  // RDS's master user creates it in the bootstrap; here only the superuser may.
  await pg.sql("CREATE EXTENSION pg_stat_statements", DATABASE);
  const log = new RecordingLogger();
  const code = await main(
    ["bootstrap-roles"],
    {
      ...pg.env(DATABASE),
      PGUSER: MASTER,
      PGPASSWORD: MASTER_PASSWORD,
      ...Object.fromEntries(
        DATABASE_ROLE_PURPOSES.flatMap((p) =>
          ROLE_SLOTS.map((slot) => [rolePasswordEnv(p, slot), slot === "a" ? PASSWORDS[p] : `${PASSWORDS[p]}-b`]),
        ),
      ),
    },
    { log },
  );
  expect({ code, errors: log.errors() }).toEqual({ code: EXIT.ok, errors: [] });
  // The app's tables, as the migrations create them, and the app's traffic.
  await as(migrate, PASSWORDS.migrate, "CREATE TABLE orders (id bigserial PRIMARY KEY, total int NOT NULL)");
  await as(app, PASSWORDS.app, "INSERT INTO orders (total) SELECT g FROM generate_series(1, 5000) g");
  await as(app, PASSWORDS.app, "SELECT count(*) FROM orders WHERE total > 4000");
  await as(app, PASSWORDS.app, "SELECT pg_sleep(0.2), count(*) FROM orders WHERE total < 10");
}, 60_000);

afterAll(async () => {
  await pg?.stop();
}, 30_000);

describe("maintenance-analyze", () => {
  test("analyzes the app's tables, reports the slowest statements as JSON lines, and publishes its success", async () => {
    expect(await reltuples("orders")).toBe("-1"); // never analyzed
    const { code, log, metrics } = await maintain(MAINTENANCE_COMMANDS.analyze);
    expect({ code, errors: log.errors() }).toEqual({ code: EXIT.ok, errors: [] });
    expect(await reltuples("orders")).toBe("5000");

    const report = log.lines.filter((e) => e.message === "slow statement").map((e) => e.fields ?? {});
    // The bootstrap and the app's statements alone are more than five: the report stops at MAINTENANCE_SLOW_STATEMENTS.
    expect(report).toHaveLength(5);
    expect(report.map((s) => s.rank)).toEqual(report.map((_, i) => i + 1));
    // The slowest is the app's pg_sleep, its constants replaced by placeholders.
    expect(report[0]).toMatchObject({ database: DATABASE, role: GROUP.app, calls: 1 });
    expect(String(report[0]!.query)).toMatch(/^SELECT pg_sleep\(\$1\), count\(\*\) FROM orders WHERE total < \$2$/);
    expect(Number(report[0]!.meanMs)).toBeGreaterThanOrEqual(200);
    const means = report.map((s) => Number(s.meanMs));
    expect(means).toEqual([...means].sort((a, b) => b - a));

    expect(metrics.publications).toEqual([
      {
        database: DATABASE,
        metrics: [
          { name: BACKUP_METRIC.analyzeSuccess, value: 1, unit: "Count" },
          {
            name: BACKUP_METRIC.lastSuccessfulAnalyzeTimestamp,
            value: expect.any(Number) as number,
            unit: "Seconds",
          },
        ],
        at: expect.any(Date) as Date,
      },
    ]);
  }, 60_000);

  test("a run that cannot connect fails, names the target, and publishes the failure", async () => {
    const { code, log, metrics } = await maintain(
      MAINTENANCE_COMMANDS.analyze,
      maintenanceEnv({ PGPASSWORD: "wrong-password-0123456789" }),
    );
    expect(code).toBe(EXIT.failed);
    expect(log.errors().join("\n")).toMatch(
      /maintenance-analyze failed: cannot connect to PostgreSQL at 127\.0\.0\.1:/,
    );
    expect(log.errors().join("\n")).not.toContain("wrong-password-0123456789");
    expect(metrics.publications.map((p) => p.metrics)).toEqual([
      [{ name: BACKUP_METRIC.analyzeSuccess, value: 0, unit: "Count" }],
    ]);
  }, 30_000);

  test("a role that may not switch to a maintainer is refused before anything runs", async () => {
    const { code, log, metrics } = await maintain(
      MAINTENANCE_COMMANDS.analyze,
      maintenanceEnv({ PGUSER: app, PGPASSWORD: PASSWORDS.app }),
    );
    expect(code).toBe(EXIT.failed);
    expect(log.errors().join("\n")).toContain(
      `${app} on 127.0.0.1:${pg.port}/app is a member of none of pg_maintain, ${GROUP.migrate}`,
    );
    expect(metrics.publications.map((p) => p.metrics)).toEqual([
      [{ name: BACKUP_METRIC.analyzeSuccess, value: 0, unit: "Count" }],
    ]);
  }, 30_000);
});

describe("maintenance-vacuum", () => {
  test("vacuums the app's tables (the visibility map fills) and publishes its success", async () => {
    await as(app, PASSWORDS.app, "DELETE FROM orders WHERE total % 2 = 0");
    const allVisible = () =>
      pg.sql("SELECT relallvisible FROM pg_class WHERE oid = 'public.orders'::regclass", DATABASE);
    expect(await allVisible()).toBe("0");
    const { code, log, metrics } = await maintain(MAINTENANCE_COMMANDS.vacuum);
    expect({ code, errors: log.errors() }).toEqual({ code: EXIT.ok, errors: [] });
    expect(Number(await allVisible())).toBeGreaterThan(0);
    expect(await reltuples("orders")).toBe("2500"); // VACUUM (ANALYZE) analyzed too
    expect(log.lines.filter((e) => e.message === "slow statement")).toHaveLength(5);
    expect(metrics.publications.map((p) => p.metrics.map((m) => [m.name, m.value]))).toEqual([
      [
        [BACKUP_METRIC.vacuumSuccess, 1],
        [BACKUP_METRIC.lastSuccessfulAnalyzeTimestamp, expect.any(Number)],
      ],
    ]);
  }, 60_000);
});

describe("the maintenance role", () => {
  test("cannot read or write the app's data, nor change its tables", async () => {
    const pw = PASSWORDS.maintenance;
    expect(await refusal(maintenance, pw, "SELECT count(*) FROM orders")).toMatch(/permission denied for table orders/);
    expect(await refusal(maintenance, pw, "INSERT INTO orders (total) VALUES (1)")).toMatch(/permission denied/);
    expect(await refusal(maintenance, pw, "UPDATE orders SET total = 0")).toMatch(/permission denied/);
    expect(await refusal(maintenance, pw, "DELETE FROM orders")).toMatch(/permission denied/);
    expect(await refusal(maintenance, pw, "TRUNCATE orders")).toMatch(/permission denied/);
    expect(await refusal(maintenance, pw, "DROP TABLE orders")).toMatch(/must be owner of table orders/);
    expect(await refusal(maintenance, pw, "CREATE TABLE mine (id int)")).toMatch(/permission denied for schema public/);
    await expect(as(app, PASSWORDS.app, "SELECT count(*) FROM orders")).resolves.toBe("2500");
  });

  test("without SET ROLE it may not analyze or read other roles' statements either", async () => {
    const pw = PASSWORDS.maintenance;
    // ANALYZE of a table one may not maintain is skipped with a warning: the row estimate stays.
    await as(app, PASSWORDS.app, "INSERT INTO orders (total) SELECT g FROM generate_series(1, 100) g");
    const before = await reltuples("orders");
    await as(maintenance, pw, "ANALYZE orders");
    expect(await reltuples("orders")).toBe(before);
    await expect(
      as(
        maintenance,
        pw,
        "SELECT count(*) FROM pg_stat_statements WHERE userid <> current_user::regrole AND query <> '<insufficient privilege>'",
      ),
    ).resolves.toBe("0");
  });
});

describe("the script and its parts", () => {
  test("switches to the maintainer for the maintenance only, and to pg_read_all_stats for the report", () => {
    const script = maintenanceScript("vacuum", GROUP.migrate, 7);
    expect(script.split("\n").slice(0, 5)).toEqual([
      `SET ROLE "${GROUP.migrate}";`,
      "VACUUM (ANALYZE);",
      "RESET ROLE;",
      "SET ROLE pg_read_all_stats;",
      "SELECT json_build_object(",
    ]);
    expect(script).toContain(`left(s.query, ${STATEMENT_TEXT_LIMIT})`);
    expect(script).toContain("LIMIT 7;");
  });

  test("the report parser refuses a line that is not a statement", () => {
    expect(() => parseSlowStatements('{"rank":1,"calls":"x"}')).toThrow(/calls is not a number/);
    expect(() => parseSlowStatements("WARNING:  something else\n")).toThrow(JobError);
    expect(() => parseSlowStatements("WARNING:  something else\n")).toThrow(
      "the slow-statement report printed a line that is not a JSON object (expected one per statement, as the report's SELECT builds): WARNING:  something else",
    );
    expect(() => parseSlowStatements("null")).toThrow(/printed a line that is not a JSON object .*: null$/);
    expect(parseSlowStatements("")).toEqual([]);
  });

  test("the configuration names every bad variable, and needs no bucket", () => {
    expect(() => loadMaintenanceConfig({ PGHOST: "db", PGDATABASE: "app", MAINTENANCE_SLOW_STATEMENTS: "0" })).toThrow(
      ConfigError,
    );
    let message = "";
    try {
      loadMaintenanceConfig({ PGHOST: "db", PGDATABASE: "app", MAINTENANCE_SLOW_STATEMENTS: "0" });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain("PGUSER is not set");
    expect(message).toContain("AWS_REGION is not set");
    expect(message).toContain('MAINTENANCE_SLOW_STATEMENTS="0" is invalid');
    expect(message).not.toContain("BACKUP_BUCKET");
    expect(loadMaintenanceConfig(maintenanceEnv()).slowStatements).toBe(5);
  });
});
