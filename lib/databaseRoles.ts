/**
 * What the database roles component (components/data/postgres/roles.ts) and the role bootstrap
 * (jobs/backup, command `bootstrap-roles`) agree on: the roles, what each may do, and the
 * environment the bootstrap task definition sets (R-db-roles). The job bundles this file with
 * esbuild, so it imports nothing.
 */

/** The schema the app's tables live in: the migration role owns it, the app role reads and writes it. */
export const APP_SCHEMA = "public";

/** The roles the bootstrap creates, by purpose. */
export const DATABASE_ROLES = {
  /** The services: CONNECT, USAGE on the schema, DML on its tables and sequences; no DDL. */
  app: "opsbook_app",
  /** The migration task: owns the schema and everything in it (DDL). */
  migrate: "opsbook_migrate",
  /** The backup job: `pg_read_all_data`, nothing it can write. */
  backup: "opsbook_backup",
  /** The restore drill: CREATEDB for its throwaway database, no access to the app's data. */
  drill: "opsbook_drill",
  /**
   * The maintenance job (R-db-maintenance): CONNECT only, NOINHERIT; it switches (SET ROLE) to the
   * tables' owner, or to `pg_maintain` from PostgreSQL 17, for ANALYZE and VACUUM, and to
   * `pg_read_all_stats` for the slow-statement report. As itself it reads and writes nothing.
   */
  maintenance: "opsbook_maintenance",
} as const;

export type DatabaseRolePurpose = keyof typeof DATABASE_ROLES;

export const DATABASE_ROLE_PURPOSES = Object.keys(DATABASE_ROLES) as DatabaseRolePurpose[];

/**
 * Environment variable of the bootstrap task holding the password of a role (an ECS secret). The
 * PG* variables hold the master user's connection: the bootstrap is its only user.
 */
export function rolePasswordEnv(purpose: DatabaseRolePurpose): string {
  return `OPSBOOK_ROLE_${purpose.toUpperCase()}_PASSWORD`;
}

/** Keys of a role's Secrets Manager secret (JSON), which the task definitions pick with `<arn>:<key>::`. */
export const ROLE_SECRET_KEYS = {
  username: "username",
  password: "password",
  /** `postgresql://<role>:<password>@<host>:<port>/<database>?sslmode=require` (the apps' DATABASE_URL). */
  url: "url",
} as const;

/** The bootstrap task's command: a command of the backup job's image. */
export const BOOTSTRAP_COMMAND = "bootstrap-roles";

/** Plain variable of every task using a role: it changes with `postgres.roleRotation`, so those tasks redeploy. */
export const ROLE_ROTATION_VARIABLE = "DB_ROLE_ROTATION";
