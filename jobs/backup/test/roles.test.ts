/**
 * The role bootstrap against a real PostgreSQL server, through the entry point the image runs.
 * The bootstrap connects as a stand-in for the RDS master user: not a superuser, but CREATEROLE
 * and CREATEDB and the owner of the database, which is what RDS gives the master user.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  DATABASE_ROLES,
  DATABASE_ROLE_PURPOSES,
  ROLE_SLOTS,
  loginRole,
  rolePasswordEnv,
  slotGeneration,
  type DatabaseRolePurpose,
  type RoleSlot,
} from "../../../lib/databaseRoles";
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

// Each test runs psql against the real server several times: seconds each on a loaded machine.
jest.setTimeout(30_000);

type Passwords = Record<DatabaseRolePurpose, Record<RoleSlot, string>>;

/**
 * The passwords the stack generates at rotation `generation` of every purpose: a login role's
 * password changes only with the generation at which it last became active (lib/databaseRoles.ts).
 */
const passwords = (generation: number): Passwords =>
  Object.fromEntries(
    DATABASE_ROLE_PURPOSES.map((p) => [
      p,
      Object.fromEntries(
        ROLE_SLOTS.map((slot) => [slot, `${p}-${slot}-generation${slotGeneration(generation, slot)}-0123456789abcdef`]),
      ),
    ]),
  ) as Passwords;

function bootstrapEnv(pw: Passwords): Record<string, string> {
  return {
    ...pg.env(DATABASE),
    PGUSER: MASTER,
    PGPASSWORD: MASTER_PASSWORD,
    ...Object.fromEntries(
      DATABASE_ROLE_PURPOSES.flatMap((p) => ROLE_SLOTS.map((slot) => [rolePasswordEnv(p, slot), pw[p][slot]])),
    ),
  };
}

async function bootstrap(pw: Passwords): Promise<{ code: number; log: RecordingLogger }> {
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
  // The single login role of earlier versions, which becomes the group of its two login roles.
  await pg.sql(`CREATE ROLE ${DATABASE_ROLES.backup} LOGIN PASSWORD 'legacy-backup-password'`);
}, 60_000);

afterAll(async () => {
  await pg?.stop();
}, 30_000);

const first = passwords(0);
const { app, migrate, backup, maintenance } = DATABASE_ROLES;
/** The login roles the tasks use at generation 0 (slot a), and the other ones (slot b). */
const login = (purpose: DatabaseRolePurpose, slot: RoleSlot = "a") => loginRole(purpose, slot);

describe("bootstrap-roles", () => {
  test("creates a NOLOGIN group per purpose and two login roles that act as it", async () => {
    const groups = Object.values(DATABASE_ROLES).sort();
    const { code, log } = await bootstrap(first);
    expect(log.errors()).toEqual([]);
    expect(code).toBe(EXIT.ok);
    for (const p of DATABASE_ROLE_PURPOSES)
      for (const slot of ROLE_SLOTS)
        await expect(as(login(p, slot), first[p][slot], "SELECT session_user || ' as ' || current_user")).resolves.toBe(
          `${login(p, slot)} as ${DATABASE_ROLES[p]}`,
        );
    const attributes = await pg.sql(
      `SELECT string_agg(format('%s %s %s %s', rolname, rolcanlogin, rolcreatedb, rolcreaterole), ',' ORDER BY rolname) FROM pg_roles WHERE rolname ~ '^(${groups.join("|")})(_[ab])?$'`,
    );
    expect(attributes.split(",")).toEqual(groups.flatMap((g) => [`${g} f f f`, `${g}_a t f f`, `${g}_b t f f`]));
  });

  test("the single login role of earlier versions is now the group: it cannot log in", async () => {
    expect(await refusal(backup, "legacy-backup-password", "SELECT 1")).toMatch(
      /not permitted to log in|password authentication failed/,
    );
  });

  test("stores SCRAM verifiers only: the passwords themselves never reach the server", async () => {
    const stored = await pg.sql(`SELECT rolpassword FROM pg_authid WHERE rolname = '${login("app")}'`);
    expect(stored).toMatch(/^SCRAM-SHA-256\$4096:/);
    const verifiers = Object.fromEntries(
      DATABASE_ROLE_PURPOSES.map((p) => [p, { a: scramVerifier(first[p].a), b: scramVerifier(first[p].b) }]),
    ) as Passwords;
    expect(bootstrapSql(verifiers)).not.toContain(first.app.a);
  });

  test("the migration role owns the schema and the tables created before, and either login runs DDL as it", async () => {
    await expect(pg.sql("SELECT nspowner::regrole FROM pg_namespace WHERE nspname = 'public'", DATABASE)).resolves.toBe(
      migrate,
    );
    await expect(pg.sql("SELECT tableowner FROM pg_tables WHERE tablename = 'legacy'", DATABASE)).resolves.toBe(
      migrate,
    );
    await as(
      login("migrate", "a"),
      first.migrate.a,
      "CREATE TABLE orders (id bigserial PRIMARY KEY, total int NOT NULL); ALTER TABLE legacy ADD COLUMN extra int;",
    );
    // Owned by the group, not by the login that ran the migration: the other login alters it.
    await expect(pg.sql("SELECT tableowner FROM pg_tables WHERE tablename = 'orders'", DATABASE)).resolves.toBe(
      migrate,
    );
    await as(
      login("migrate", "b"),
      first.migrate.b,
      "ALTER TABLE orders ADD COLUMN note text; ALTER TABLE orders DROP COLUMN note;",
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
    const inherits = await pg.sql(`SELECT rolinherit FROM pg_roles WHERE rolname = '${maintenance}'`);
    expect(inherits).toBe("f");
    await expect(
      pg.sql(
        `SELECT string_agg(b.rolname, ',' ORDER BY b.rolname) FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid WHERE m.member = '${maintenance}'::regrole`,
        DATABASE,
      ),
    ).resolves.toBe(`${migrate},pg_read_all_stats`);
    for (const slot of ROLE_SLOTS) {
      const [user, pw] = [login("maintenance", slot), first.maintenance[slot]];
      expect(await refusal(user, pw, "SELECT count(*) FROM legacy")).toMatch(/permission denied/);
      // SET ROLE through the group's memberships, as the job does for ANALYZE and the report.
      await expect(as(user, pw, `SET ROLE ${migrate}; ANALYZE legacy; SELECT current_user`)).resolves.toBe(migrate);
      await expect(as(user, pw, "SET ROLE pg_read_all_stats; SELECT current_user")).resolves.toBe("pg_read_all_stats");
    }
  });

  test("the app role reads and writes the migration role's tables, and cannot change the schema", async () => {
    const [user, pw] = [login("app"), first.app.a];
    await as(user, pw, "INSERT INTO orders (total) VALUES (10), (20); UPDATE orders SET total = 11 WHERE total = 10;");
    await as(user, pw, "DELETE FROM orders WHERE total = 20; INSERT INTO legacy (note) VALUES ('new');");
    await expect(as(user, pw, "SELECT total FROM orders")).resolves.toBe("11");
    await expect(as(login("app", "b"), first.app.b, "SELECT count(*) FROM legacy")).resolves.toBe("2");
    expect(await refusal(user, pw, "CREATE TABLE mine (id int)")).toMatch(/permission denied for schema public/);
    expect(await refusal(user, pw, "DROP TABLE orders")).toMatch(/must be owner of table orders/);
    expect(await refusal(user, pw, "ALTER TABLE orders ADD COLUMN x int")).toMatch(/must be owner of table orders/);
    expect(await refusal(user, pw, "TRUNCATE orders")).toMatch(/permission denied for table orders/);
    expect(await refusal(user, pw, "CREATE SCHEMA other")).toMatch(/permission denied for database app/);
  });

  test("the backup role reads everything and writes nothing", async () => {
    const [user, pw] = [login("backup"), first.backup.a];
    await expect(as(user, pw, "SELECT count(*) FROM orders")).resolves.toBe("1");
    await expect(as(user, pw, "SELECT count(*) FROM legacy")).resolves.toBe("2");
    expect(await refusal(user, pw, "INSERT INTO orders (total) VALUES (1)")).toMatch(/permission denied/);
    expect(await refusal(user, pw, "DELETE FROM legacy")).toMatch(/permission denied/);
    expect(await refusal(user, pw, "CREATE TABLE b (id int)")).toMatch(/permission denied/);
    expect(await refusal(user, pw, "CREATE DATABASE b")).toMatch(/permission denied to create database/);
  });

  test("the backup role can take the job's dump (pg_dump --format=custom)", async () => {
    const { stdout } = await run(join(pg.binDir, "pg_dump"), ["--format=custom", "--no-password"], {
      env: { ...pg.env(DATABASE), PGUSER: login("backup"), PGPASSWORD: first.backup.a },
      encoding: "buffer",
      maxBuffer: 64 * 1024 * 1024,
      timeout: 30_000,
    });
    expect(stdout.subarray(0, 5).toString()).toBe("PGDMP");
  });

  // The restore drill does not restore into this server: it restores into an RDS instance of its
  // own, with a master user it creates (integration.test.ts, drillInstance.test.ts).
  test("the backup job dumps as the backup role", async () => {
    let s3: TestS3 | undefined;
    try {
      s3 = await startTestS3(["roles-backups"]);
      const log = new RecordingLogger();
      const env = {
        ...pg.env(DATABASE),
        PGUSER: login("backup"),
        PGPASSWORD: first.backup.a,
        BACKUP_BUCKET: "roles-backups",
        AWS_REGION: "us-east-1",
        S3_ENDPOINT: s3.endpoint,
      };
      const code = await main(["backup"], env, {
        log,
        metrics: new RecordingPublisher(),
        credentials: S3RVER_CREDENTIALS,
        now: steppingClock("2026-12-01T02:00:00Z"),
      });
      expect({ code, errors: log.errors() }).toEqual({ code: EXIT.ok, errors: [] });
    } finally {
      await s3?.stop();
    }
  }, 120_000);

  test("roles outside these, the groups included, cannot connect to the database", async () => {
    await pg.sql("CREATE ROLE outsider LOGIN PASSWORD 'outsider-password'");
    expect(await refusal("outsider", "outsider-password", "SELECT 1")).toMatch(
      /permission denied for database "?app"?/,
    );
    await expect(
      pg.sql(`SELECT count(*) FROM pg_roles WHERE rolname IN ('${app}', '${migrate}', '${backup}') AND rolcanlogin`),
    ).resolves.toBe("0");
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
    await expect(as(login("app"), first.app.a, "SELECT count(*) FROM orders")).resolves.toBe("1");
  });

  test("a rotation sets a new password on the inactive login only: both work until the next rotation", async () => {
    const second = passwords(1);
    expect(second.app.a).toBe(first.app.a);
    expect(second.app.b).not.toBe(first.app.b);
    // Tasks still on login a (generation 0) and the redeployed ones on login b (generation 1).
    expect((await bootstrap(second)).code).toBe(EXIT.ok);
    await expect(as(login("app", "a"), first.app.a, "SELECT count(*) FROM orders")).resolves.toBe("1");
    await expect(as(login("app", "b"), second.app.b, "SELECT count(*) FROM orders")).resolves.toBe("1");
    expect(await refusal(login("app", "b"), first.app.b, "SELECT 1")).toMatch(/password authentication failed/);

    // The next rotation renews login a: generation 0's tasks, long redeployed, can no longer log in.
    const third = passwords(2);
    expect((await bootstrap(third)).code).toBe(EXIT.ok);
    expect(await refusal(login("app", "a"), first.app.a, "SELECT 1")).toMatch(/password authentication failed/);
    await expect(as(login("app", "a"), third.app.a, "SELECT current_user")).resolves.toBe(app);
    await expect(as(login("app", "b"), second.app.b, "SELECT current_user")).resolves.toBe(app);
  });

  test("a failing statement leaves nothing half-done", async () => {
    // Without CREATEROLE the first CREATE ROLE fails; the transaction rolls back the rest.
    const gone = login("backup", "b");
    await pg.sql("CREATE ROLE weak LOGIN PASSWORD 'weak-password'; GRANT CONNECT ON DATABASE app TO weak");
    await pg.sql(`DROP ROLE ${gone}`);
    const log = new RecordingLogger();
    const code = await main(
      ["bootstrap-roles"],
      { ...bootstrapEnv(passwords(4)), PGUSER: "weak", PGPASSWORD: "weak-password" },
      { log },
    );
    expect(code).toBe(EXIT.failed);
    expect(log.errors().join("\n")).toMatch(/creating the database roles failed on 127\.0\.0\.1:\d+\/app/);
    await expect(pg.sql(`SELECT count(*) FROM pg_roles WHERE rolname = '${gone}'`)).resolves.toBe("0");
    // Generation 2's passwords still hold: no ALTER ROLE of the failed run survived.
    await expect(as(login("app", "a"), passwords(2).app.a, "SELECT current_user")).resolves.toBe(app);
    await expect(bootstrap(passwords(2))).resolves.toMatchObject({ code: EXIT.ok });
    await expect(as(gone, passwords(2).backup.b, "SELECT current_user")).resolves.toBe(backup);
  });
});

describe("loadRolesConfig", () => {
  test("names every missing or short password and masks the values", () => {
    const env = { PGHOST: "db", PGDATABASE: "app", PGUSER: "master", [rolePasswordEnv("app", "a")]: "short-secret" };
    let error: unknown;
    try {
      loadRolesConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain(`${rolePasswordEnv("app", "a")}="****" (masked) is invalid (password of ${app}_a)`);
    for (const p of DATABASE_ROLE_PURPOSES)
      expect(message).toContain(
        `${rolePasswordEnv(p, "b")}=(not set) is invalid (password of ${p === "app" ? app : DATABASE_ROLES[p]}_b)`,
      );
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
