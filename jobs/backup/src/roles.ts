/**
 * The role bootstrap (R-db-roles): the one program that uses the RDS master credentials. It
 * creates or updates the roles of lib/databaseRoles.ts with the passwords the stack generated, so
 * that nothing else ever connects as the master user. Idempotent: a second run with the same
 * passwords leaves the same grants; with new passwords (a rotation) it sets them.
 *
 * Every purpose is a NOLOGIN group role that holds the grants, with two login roles that are its
 * members and act as it (R-db-role-rotation): a rotation sets a new password on the inactive one
 * only, so the tasks still on the other keep opening connections until the next rotation.
 *
 * Passwords reach the server only as SCRAM-SHA-256 verifiers computed here: a statement log
 * (`log_statement = ddl`) then records no password, and nothing secret is on a command line.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import {
  APP_SCHEMA,
  DATABASE_ROLES,
  DATABASE_ROLE_PURPOSES,
  ROLE_SLOTS,
  loginRole,
  rolePasswordEnv,
} from "../../../lib/databaseRoles";
import type { DatabaseRolePurpose, RoleSlot } from "../../../lib/databaseRoles";
import { BACKUP_ENV } from "../../../lib/backupContract";
import { describeExit, startChild, succeeded } from "./child";
import { ConfigError, childEnvironment, DEFAULTS, showValue, type Env } from "./config";
import { JobError } from "./errors";
import { ident, literal } from "./postgres";
import type { Logger } from "./log";

/** PostgreSQL's default iteration count for SCRAM-SHA-256 (`scram_iterations`). */
const SCRAM_ITERATIONS = 4096;
/** The stack generates 40 characters; fewer than this is not a generated password. */
const MIN_PASSWORD_LENGTH = 16;
/** Printable ASCII without spaces: SASLprep leaves it unchanged, so the verifier matches what clients send. */
const PASSWORD = /^[\x21-\x7e]+$/;

export interface RolesConfig {
  /** `host:port/database` of the master connection, for messages. */
  target: string;
  /** Every login role's password, by purpose and slot. */
  passwords: Record<DatabaseRolePurpose, Record<RoleSlot, string>>;
  /** The PG* environment (master user) for psql. Never log it. */
  childEnv: Readonly<Record<string, string>>;
}

/**
 * Reads the bootstrap's environment: the master connection as PG* variables and one password per
 * login role ({@link rolePasswordEnv}).
 *
 * @throws {ConfigError} naming every missing or invalid variable (passwords masked)
 */
export function loadRolesConfig(env: Env): RolesConfig {
  const problems: string[] = [];
  for (const name of [BACKUP_ENV.host, BACKUP_ENV.database, BACKUP_ENV.user]) {
    if (!env[name]) problems.push(`${name} is not set (the master user's connection). Allowed: a non-empty value.`);
  }
  const passwords = {} as Record<DatabaseRolePurpose, Record<RoleSlot, string>>;
  for (const purpose of DATABASE_ROLE_PURPOSES) {
    passwords[purpose] = {} as Record<RoleSlot, string>;
    for (const slot of ROLE_SLOTS) {
      const name = rolePasswordEnv(purpose, slot);
      const value = env[name];
      if (value === undefined || value.length < MIN_PASSWORD_LENGTH || !PASSWORD.test(value)) {
        problems.push(
          `${name}=${value === undefined ? "(not set)" : showValue(name, value)} is invalid (password of ${loginRole(purpose, slot)}). Allowed: at least ${MIN_PASSWORD_LENGTH} printable ASCII characters without spaces, as the stack generates them.`,
        );
      } else passwords[purpose][slot] = value;
    }
  }
  const port = Number(env[BACKUP_ENV.port] ?? DEFAULTS.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    problems.push(`${BACKUP_ENV.port}=${JSON.stringify(env[BACKUP_ENV.port])} is invalid. Allowed: 1 to 65535.`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    target: `${env[BACKUP_ENV.host]}:${port}/${env[BACKUP_ENV.database]}`,
    passwords,
    childEnv: childEnvironment(env, port),
  };
}

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802, RFC 7677):
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`. PostgreSQL stores a password given
 * in this form as is.
 */
export function scramVerifier(password: string, salt = randomBytes(16), iterations = SCRAM_ITERATIONS): string {
  const salted = pbkdf2Sync(Buffer.from(password, "utf8"), salt, iterations, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest();
  const serverKey = createHmac("sha256", salted).update("Server Key").digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

/**
 * The bootstrap script, run in one transaction: either every role and grant is in place
 * afterwards or nothing changed. Run by the master user, which owns the database. `verifiers`
 * holds each login role's password verifier, by purpose and slot.
 */
export function bootstrapSql(verifiers: Record<DatabaseRolePurpose, Record<RoleSlot, string>>): string {
  const r = DATABASE_ROLES;
  const schema = ident(APP_SCHEMA);
  // Only a superuser may say NOSUPERUSER, NOREPLICATION or NOBYPASSRLS, and the master user is
  // none: CREATE ROLE's defaults give them, and a role found with any of them is refused.
  const ensure = (name: string) => `
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(name)}) THEN
    CREATE ROLE ${ident(name)};
  ELSIF EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(name)} AND (rolsuper OR rolreplication OR rolbypassrls)) THEN
    RAISE EXCEPTION 'role % exists with SUPERUSER, REPLICATION or BYPASSRLS; drop it or remove those attributes first', ${literal(name)};
  END IF;
END $$;`;
  // The group holds the attributes and, below, every grant; it cannot log in (R-db-role-rotation).
  // Each login role is a member that inherits them, and acts as the group (`SET role`), so what a
  // migration creates is the group's whichever login ran it, and the default privileges apply.
  const role = (purpose: DatabaseRolePurpose, attributes: string) =>
    [
      ensure(r[purpose]),
      `ALTER ROLE ${ident(r[purpose])} WITH NOLOGIN NOCREATEROLE ${attributes} PASSWORD NULL;`,
      ...ROLE_SLOTS.flatMap((slot) => {
        const login = ident(loginRole(purpose, slot));
        return [
          ensure(loginRole(purpose, slot)),
          `ALTER ROLE ${login} WITH LOGIN INHERIT NOCREATEDB NOCREATEROLE PASSWORD ${literal(verifiers[purpose][slot])};`,
          `GRANT ${ident(r[purpose])} TO ${login};`,
          `ALTER ROLE ${login} SET role = ${literal(r[purpose])};`,
        ];
      }),
    ].join("\n");
  const app = ident(r.app);
  const migrate = ident(r.migrate);
  return `SET LOCAL client_min_messages = warning;
${role("app", "NOCREATEDB NOINHERIT")}
${role("migrate", "NOCREATEDB NOINHERIT")}
${role("backup", "NOCREATEDB INHERIT")}
${role("maintenance", "NOCREATEDB NOINHERIT")}
-- The master user acts for the migration role below (ownership, default privileges): it must be a member.
GRANT ${migrate} TO CURRENT_USER;
GRANT pg_read_all_data TO ${ident(r.backup)};
-- R-db-maintenance: NOINHERIT, so as itself it reads and writes nothing; the job switches (SET ROLE)
-- to pg_read_all_stats for the slow-statement report, and for ANALYZE and VACUUM to pg_maintain
-- (PostgreSQL 17+) or, before 17, to the tables' owner: no narrower privilege allows VACUUM there.
GRANT pg_read_all_stats TO ${ident(r.maintenance)};
DO $$ BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'pg_maintain') THEN
    GRANT pg_maintain TO ${ident(r.maintenance)};
    REVOKE ${migrate} FROM ${ident(r.maintenance)};
  ELSE
    GRANT ${migrate} TO ${ident(r.maintenance)};
  END IF;
END $$;
-- The report's source; it also needs shared_preload_libraries (the parameter group sets it).
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
-- Only these roles' logins (and the master user, the owner) may connect; nobody else may create objects.
DO $$ BEGIN
  EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO ${r.app}, ${r.migrate}, ${r.backup}, ${r.maintenance}', current_database());
  EXECUTE format('GRANT CREATE ON DATABASE %I TO ${r.migrate}', current_database());
END $$;
REVOKE CREATE ON SCHEMA ${schema} FROM PUBLIC;
ALTER SCHEMA ${schema} OWNER TO ${migrate};
-- Objects the master user created before the roles existed (earlier migrations) pass to the
-- migration role, so later migrations can alter them.
DO $$
DECLARE o record;
BEGIN
  FOR o IN
    SELECT c.relname, c.relkind FROM pg_class c
    WHERE c.relnamespace = ${literal(APP_SCHEMA)}::regnamespace AND c.relowner = CURRENT_USER::regrole
      AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
      -- A sequence owned by a column changes owner with its table; an extension's objects stay its own.
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.deptype IN ('a', 'i', 'e'))
  LOOP
    EXECUTE format('ALTER %s %I.%I OWNER TO ${r.migrate}',
      CASE o.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                     WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, ${literal(APP_SCHEMA)}, o.relname);
  END LOOP;
  FOR o IN
    SELECT t.typname FROM pg_type t
    WHERE t.typnamespace = ${literal(APP_SCHEMA)}::regnamespace AND t.typowner = CURRENT_USER::regrole
      AND t.typtype IN ('e', 'd')
  LOOP
    EXECUTE format('ALTER TYPE %I.%I OWNER TO ${r.migrate}', ${literal(APP_SCHEMA)}, o.typname);
  END LOOP;
  FOR o IN
    SELECT p.oid::regprocedure AS routine FROM pg_proc p
    WHERE p.pronamespace = ${literal(APP_SCHEMA)}::regnamespace AND p.proowner = CURRENT_USER::regrole
      AND p.prokind IN ('f', 'p')
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('ALTER ROUTINE %s OWNER TO ${r.migrate}', o.routine);
  END LOOP;
END $$;
GRANT USAGE ON SCHEMA ${schema} TO ${app};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ${app};
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA ${schema} TO ${app};
-- Tables and sequences the migrations create from now on are the app's to read and write.
ALTER DEFAULT PRIVILEGES FOR ROLE ${migrate} IN SCHEMA ${schema} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${app};
ALTER DEFAULT PRIVILEGES FOR ROLE ${migrate} IN SCHEMA ${schema} GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO ${app};
`;
}

/** Where the bootstrap ended up, for its log line. */
export interface BootstrapResult {
  roles: string[];
}

/**
 * Runs the bootstrap script with psql (script on stdin, one transaction, stop at the first error).
 *
 * @throws {JobError} if psql cannot connect or any statement fails (nothing is changed then)
 */
export async function bootstrapRoles(config: RolesConfig, log: Logger, signal?: AbortSignal): Promise<BootstrapResult> {
  const verifiers = Object.fromEntries(
    DATABASE_ROLE_PURPOSES.map((p) => [
      p,
      Object.fromEntries(ROLE_SLOTS.map((slot) => [slot, scramVerifier(config.passwords[p][slot])])),
    ]),
  ) as Record<DatabaseRolePurpose, Record<RoleSlot, string>>;
  const child = startChild(
    "psql",
    ["--no-psqlrc", "--no-password", "--quiet", "--single-transaction", "--set", "ON_ERROR_STOP=1", "--file=-"],
    { env: config.childEnv, ...(signal && { signal }) },
  );
  child.process.stdin.end(bootstrapSql(verifiers));
  const exit = await child.exit;
  if (!succeeded(exit)) {
    const doing = exit.code === 2 ? "connecting as the master user" : "creating the database roles";
    throw new JobError(`${doing} failed on ${config.target}: ${describeExit("psql", exit)}`);
  }
  const roles = DATABASE_ROLE_PURPOSES.flatMap((p) => [DATABASE_ROLES[p], ...ROLE_SLOTS.map((s) => loginRole(p, s))]);
  log.info("database roles are in place", { target: config.target, roles: roles.join(", "), schema: APP_SCHEMA });
  return { roles };
}
