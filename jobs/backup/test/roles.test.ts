/**
 * The role bootstrap against a real PostgreSQL server, through the entry point the image runs.
 * The bootstrap connects as a stand-in for the RDS master user: not a superuser, but CREATEROLE
 * and CREATEDB and the owner of the database, which is what RDS gives the master user.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { DATABASE_ROLES, DATABASE_ROLE_PURPOSES, rolePasswordEnv } from "../../../lib/databaseRoles";
import { main, EXIT } from "../src/main";
import { bootstrapSql, loadRolesConfig, scramVerifier } from "../src/roles";
import { ConfigError } from "../src/config";
import { startTestPostgres, type TestPostgres } from "./support/postgres";
import { RecordingLogger, RecordingPublisher, steppingClock } from "./support/recorders";
import { S3RVER_CREDENTIALS, startTestS3, type TestS3 } from "./support/s3";

const run = promisify(execFile);
const DATABASE = "app";
const MASTER = "rds_master_standin";
const MASTER_PASSWORD = "master-password-0123456789";

let pg: TestPostgres;

const passwords = (suffix: string) =>
  Object.fromEntries(DATABASE_ROLE_PURPOSES.map((p) => [p, `${p}Password${suffix}0123456789abcdef`])) as Record<
    (typeof DATABASE_ROLE_PURPOSES)[number],
    string
  >;

function bootstrapEnv(pw: Record<string, string>): Record<string, string> {
  return {
    ...pg.env(DATABASE),
    PGUSER: MASTER,
    PGPASSWORD: MASTER_PASSWORD,
    ...Object.fromEntries(DATABASE_ROLE_PURPOSES.map((p) => [rolePasswordEnv(p), pw[p]!])),
  };
}

async function bootstrap(pw: Record<string, string>): Promise<{ code: number; log: RecordingLogger }> {
  const log = new RecordingLogger();
  const code = await main(["bootstrap-roles"], bootstrapEnv(pw), { log });
  return { code, log };
}

/** Runs SQL as `role` with its password; resolves to the output, rejects with psql's error. */
async function as(role: string, password: string, sql: string, database = DATABASE): Promise<string> {
  const args = ["--no-psqlrc", "--quiet", "--no-align", "--tuples-only", "--set", "ON_ERROR_STOP=1", "--command", sql];
  const { stdout } = await run(join(pg.binDir, "psql"), args, {
    env: { ...pg.env(database), PGUSER: role, PGPASSWORD: password },
    timeout: 30_000,
  });
  return stdout.trim();
}

/** The error psql reports for `sql` as `role`, or "" if it succeeded. */
async function refusal(role: string, password: string, sql: string): Promise<string> {
  try {
    await as(role, password, sql);
    return "";
  } catch (error) {
    return String((error as { stderr?: string }).stderr ?? error);
  }
}

beforeAll(async () => {
  pg = await startTestPostgres();
  await pg.sql(`CREATE ROLE ${MASTER} LOGIN CREATEROLE CREATEDB PASSWORD '${MASTER_PASSWORD}'`);
  await pg.sql(`CREATE DATABASE ${DATABASE} OWNER ${MASTER}`);
  // On RDS the master user may create pg_stat_statements, which the bootstrap does; here only the
  // superuser may, so it exists before, and the bootstrap's CREATE EXTENSION IF NOT EXISTS finds it.
  await pg.sql("CREATE EXTENSION pg_stat_statements", DATABASE);
  // A table from before the roles existed, created by the master user as the apps used to.
  await as(
    MASTER,
    MASTER_PASSWORD,
    "CREATE TABLE legacy (id serial PRIMARY KEY, note text); INSERT INTO legacy (note) VALUES ('old');",
  );
  // An extension the master user owns (as on RDS, where it creates pg_stat_statements), with a
  // function and a view of the master user's among its members: they stay the extension's.
  await as(
    MASTER,
    MASTER_PASSWORD,
    "CREATE EXTENSION pgcrypto; CREATE FUNCTION ext_member() RETURNS int LANGUAGE sql AS 'SELECT 1'; CREATE VIEW ext_view AS SELECT 1 AS one; ALTER EXTENSION pgcrypto ADD FUNCTION ext_member(); ALTER EXTENSION pgcrypto ADD VIEW ext_view;",
  );
}, 60_000);

afterAll(async () => {
  await pg?.stop();
}, 30_000);

const first = passwords("A");
const { app, migrate, backup, drill, maintenance } = DATABASE_ROLES;

describe("bootstrap-roles", () => {
  test("creates the roles with the given passwords", async () => {
    const { code, log } = await bootstrap(first);
    expect(log.errors()).toEqual([]);
    expect(code).toBe(EXIT.ok);
    for (const p of DATABASE_ROLE_PURPOSES) {
      await expect(as(DATABASE_ROLES[p], first[p], "SELECT current_user")).resolves.toBe(DATABASE_ROLES[p]);
    }
    const attributes = await pg.sql(
      `SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolinherit FROM pg_roles WHERE rolname IN ('${app}', '${migrate}', '${backup}', '${drill}', '${maintenance}') ORDER BY rolname`,
    );
    expect(attributes.split("\n")).toEqual([
      `${app}|f|f|f|f`,
      `${backup}|f|f|f|t`,
      `${drill}|f|t|f|t`,
      `${maintenance}|f|f|f|f`,
      `${migrate}|f|f|f|f`,
    ]);
  });

  test("stores SCRAM verifiers only: the passwords themselves never reach the server", async () => {
    const stored = await pg.sql(`SELECT rolpassword FROM pg_authid WHERE rolname = '${app}'`);
    expect(stored).toMatch(/^SCRAM-SHA-256\$4096:/);
    expect(
      bootstrapSql(Object.fromEntries(DATABASE_ROLE_PURPOSES.map((p) => [p, scramVerifier(first[p])])) as never),
    ).not.toContain(first.app);
  });

  test("the migration role owns the schema and the tables created before, and can run DDL", async () => {
    await expect(pg.sql("SELECT nspowner::regrole FROM pg_namespace WHERE nspname = 'public'", DATABASE)).resolves.toBe(
      migrate,
    );
    await expect(pg.sql("SELECT tableowner FROM pg_tables WHERE tablename = 'legacy'", DATABASE)).resolves.toBe(
      migrate,
    );
    await as(
      migrate,
      first.migrate,
      "CREATE TABLE orders (id bigserial PRIMARY KEY, total int NOT NULL); ALTER TABLE legacy ADD COLUMN extra int;",
    );
  });

  test("an extension's objects keep their owner: the bootstrap hands only the app's own objects to the migration role", async () => {
    await expect(
      pg.sql(
        "SELECT (SELECT proowner::regrole FROM pg_proc WHERE proname = 'ext_member') || ',' || (SELECT relowner::regrole FROM pg_class WHERE relname = 'ext_view')",
        DATABASE,
      ),
    ).resolves.toBe(`${MASTER},${MASTER}`);
  });

  test("the maintenance role may switch to the tables' owner and to pg_read_all_stats, and inherits neither", async () => {
    await expect(
      pg.sql(
        `SELECT string_agg(b.rolname, ',' ORDER BY b.rolname) FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid WHERE m.member = '${maintenance}'::regrole`,
        DATABASE,
      ),
    ).resolves.toBe(`${migrate},pg_read_all_stats`);
    expect(await refusal(maintenance, first.maintenance, "SELECT count(*) FROM legacy")).toMatch(/permission denied/);
  });

  test("the app role reads and writes the migration role's tables, and cannot change the schema", async () => {
    await as(
      app,
      first.app,
      "INSERT INTO orders (total) VALUES (10), (20); UPDATE orders SET total = 11 WHERE total = 10;",
    );
    await as(app, first.app, "DELETE FROM orders WHERE total = 20; INSERT INTO legacy (note) VALUES ('new');");
    await expect(as(app, first.app, "SELECT total FROM orders")).resolves.toBe("11");
    await expect(as(app, first.app, "SELECT count(*) FROM legacy")).resolves.toBe("2");
    expect(await refusal(app, first.app, "CREATE TABLE mine (id int)")).toMatch(/permission denied for schema public/);
    expect(await refusal(app, first.app, "DROP TABLE orders")).toMatch(/must be owner of table orders/);
    expect(await refusal(app, first.app, "ALTER TABLE orders ADD COLUMN x int")).toMatch(
      /must be owner of table orders/,
    );
    expect(await refusal(app, first.app, "TRUNCATE orders")).toMatch(/permission denied for table orders/);
    expect(await refusal(app, first.app, "CREATE SCHEMA other")).toMatch(/permission denied for database app/);
  });

  test("the backup role reads everything and writes nothing", async () => {
    await expect(as(backup, first.backup, "SELECT count(*) FROM orders")).resolves.toBe("1");
    await expect(as(backup, first.backup, "SELECT count(*) FROM legacy")).resolves.toBe("2");
    expect(await refusal(backup, first.backup, "INSERT INTO orders (total) VALUES (1)")).toMatch(/permission denied/);
    expect(await refusal(backup, first.backup, "DELETE FROM legacy")).toMatch(/permission denied/);
    expect(await refusal(backup, first.backup, "CREATE TABLE b (id int)")).toMatch(/permission denied/);
    expect(await refusal(backup, first.backup, "CREATE DATABASE b")).toMatch(/permission denied to create database/);
  });

  test("the backup role can take the job's dump (pg_dump --format=custom)", async () => {
    const { stdout } = await run(join(pg.binDir, "pg_dump"), ["--format=custom", "--no-password"], {
      env: { ...pg.env(DATABASE), PGUSER: backup, PGPASSWORD: first.backup },
      encoding: "buffer",
      maxBuffer: 64 * 1024 * 1024,
      timeout: 30_000,
    });
    expect(stdout.subarray(0, 5).toString()).toBe("PGDMP");
  });

  // The restore drill no longer restores into this server: it restores into an RDS instance of its own,
  // with a master user it creates (integration.test.ts, drillInstance.test.ts).
  test("the backup job dumps as the backup role", async () => {
    let s3: TestS3 | undefined;
    try {
      s3 = await startTestS3(["roles-backups"]);
      const run = async (command: "backup", role: string, password: string) => {
        const log = new RecordingLogger();
        const env = {
          ...pg.env(DATABASE),
          PGUSER: role,
          PGPASSWORD: password,
          BACKUP_BUCKET: "roles-backups",
          AWS_REGION: "us-east-1",
          S3_ENDPOINT: s3!.endpoint,
        };
        const code = await main([command], env, {
          log,
          metrics: new RecordingPublisher(),
          credentials: S3RVER_CREDENTIALS,
          now: steppingClock("2026-12-01T02:00:00Z"),
        });
        return { code, errors: log.errors() };
      };
      await expect(run("backup", backup, first.backup)).resolves.toEqual({ code: EXIT.ok, errors: [] });
    } finally {
      await s3?.stop();
    }
  }, 120_000);

  test("the drill role may create a database of its own but not read the app's data", async () => {
    expect(await refusal(drill, first.drill, "SELECT count(*) FROM orders")).toMatch(/permission denied/);
    await as(drill, first.drill, "CREATE DATABASE drill_scratch TEMPLATE template0");
    await as(drill, first.drill, "DROP DATABASE drill_scratch");
  });

  test("roles outside the four cannot connect to the database", async () => {
    await pg.sql("CREATE ROLE outsider LOGIN PASSWORD 'outsider-password'");
    expect(await refusal("outsider", "outsider-password", "SELECT 1")).toMatch(
      /permission denied for database "?app"?/,
    );
  });

  test("a second run with the same passwords changes nothing and keeps every grant", async () => {
    const grants = () =>
      pg.sql(
        "SELECT string_agg(format('%s %s %s', grantee, table_name, privilege_type), ',' ORDER BY grantee, table_name, privilege_type) FROM information_schema.role_table_grants WHERE table_schema = 'public'",
        DATABASE,
      );
    const before = await grants();
    const { code } = await bootstrap(first);
    expect(code).toBe(EXIT.ok);
    expect(await grants()).toBe(before);
    await expect(as(app, first.app, "SELECT count(*) FROM orders")).resolves.toBe("1");
  });

  test("new passwords (a rotation) replace the old ones", async () => {
    const second = passwords("B");
    const { code } = await bootstrap(second);
    expect(code).toBe(EXIT.ok);
    await expect(as(app, second.app, "SELECT current_user")).resolves.toBe(app);
    expect(await refusal(app, first.app, "SELECT 1")).toMatch(/password authentication failed/);
  });

  test("a failing statement leaves nothing half-done", async () => {
    // Without CREATEROLE the first CREATE ROLE fails; the transaction rolls back the rest.
    await pg.sql("CREATE ROLE weak LOGIN PASSWORD 'weak-password'; GRANT CONNECT ON DATABASE app TO weak");
    await pg.sql(`REVOKE ALL ON DATABASE app FROM ${drill}; DROP ROLE ${drill}`);
    const log = new RecordingLogger();
    const code = await main(
      ["bootstrap-roles"],
      { ...bootstrapEnv(first), PGUSER: "weak", PGPASSWORD: "weak-password" },
      { log },
    );
    expect(code).toBe(EXIT.failed);
    expect(log.errors().join("\n")).toMatch(/creating the database roles failed on 127\.0\.0\.1:\d+\/app/);
    await expect(pg.sql(`SELECT count(*) FROM pg_roles WHERE rolname = '${drill}'`)).resolves.toBe("0");
    // The rotation's passwords still hold: no ALTER ROLE of the failed run survived.
    await expect(as(app, passwords("B").app, "SELECT current_user")).resolves.toBe(app);
    await expect(bootstrap(first)).resolves.toMatchObject({ code: EXIT.ok });
  });
});

describe("loadRolesConfig", () => {
  test("names every missing or short password and masks the values", () => {
    const env = { PGHOST: "db", PGDATABASE: "app", PGUSER: "master", [rolePasswordEnv("app")]: "short-secret" };
    let error: unknown;
    try {
      loadRolesConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain(`${rolePasswordEnv("app")}="****" (masked) is invalid (password of ${app})`);
    expect(message).toContain(`${rolePasswordEnv("migrate")}=(not set) is invalid`);
    expect(message).not.toContain("short-secret");
  });
});

describe("scramVerifier", () => {
  // The server accepting these verifiers for password logins (above) is the proof they are right.
  test("is salted: the same password gives a new verifier each time, the same salt the same one", () => {
    const salt = Buffer.alloc(16, 7);
    expect(scramVerifier("pencil-pencil-pencil")).not.toBe(scramVerifier("pencil-pencil-pencil"));
    expect(scramVerifier("pencil-pencil-pencil", salt)).toBe(scramVerifier("pencil-pencil-pencil", salt));
    expect(scramVerifier("pencil-pencil-pencil", salt)).toMatch(
      /^SCRAM-SHA-256\$4096:BwcHBwcHBwcHBwcHBwcHBw==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/,
    );
  });
});
