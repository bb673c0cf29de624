/**
 * What the database roles component (components/data/postgres/roles.ts) and the role bootstrap
 * (jobs/backup, command `bootstrap-roles`) agree on: the roles, what each may do, and the
 * environment the bootstrap task definition sets (R-db-roles). The job bundles this file with
 * esbuild, so it imports nothing.
 */

/** The schema the app's tables live in: the migration role owns it, the app role reads and writes it. */
export const APP_SCHEMA = "public";

/**
 * The roles the bootstrap creates, by purpose: the one table a role is defined in. Each is a
 * NOLOGIN group role that owns the grants; its two login roles ({@link loginRole}) alternate
 * (R-db-role-rotation).
 */
export const DATABASE_ROLES = {
  /** The services: CONNECT, USAGE on the schema, DML on its tables and sequences; no DDL. */
  app: "opsbook_app",
  /** The migration task: owns the schema and everything in it (DDL). */
  migrate: "opsbook_migrate",
  /** The backup job and the restore drill: `pg_read_all_data`, nothing it can write. */
  backup: "opsbook_backup",
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
 * The two login roles of every purpose (the "alternating users" rotation strategy): a rotation
 * gives the inactive one a new password and switches the tasks to it, while the previously active
 * one keeps its password, and so its running tasks their new connections, until the next rotation.
 */
export const ROLE_SLOTS = ["a", "b"] as const;

export type RoleSlot = (typeof ROLE_SLOTS)[number];

/** The login role of `purpose` in `slot`: `opsbook_app_a`. */
export function loginRole(purpose: DatabaseRolePurpose, slot: RoleSlot): string {
  return `${DATABASE_ROLES[purpose]}_${slot}`;
}

/** The slot the tasks use at rotation `generation` (`postgres.roleRotation.<purpose>`): a for even, b for odd. */
export function activeSlot(generation: number): RoleSlot {
  return generation % 2 === 0 ? "a" : "b";
}

/**
 * The generation at which `slot` last became active, at rotation `generation`: the key of its
 * password, which changes only when the slot becomes active again. -1 for b before the first
 * rotation (it has a password, never used yet).
 */
export function slotGeneration(generation: number, slot: RoleSlot): number {
  return activeSlot(generation) === slot ? generation : generation - 1;
}

/**
 * Environment variable of the bootstrap task holding the password of a login role (an ECS
 * secret). The PG* variables hold the master user's connection: the bootstrap is its only user.
 */
export function rolePasswordEnv(purpose: DatabaseRolePurpose, slot: RoleSlot): string {
  return `OPSBOOK_ROLE_${purpose.toUpperCase()}_${slot.toUpperCase()}_PASSWORD`;
}

/** Keys of a login role's Secrets Manager secret (JSON), which the task definitions pick with `<arn>:<key>::`. */
export const ROLE_SECRET_KEYS = {
  username: "username",
  password: "password",
  /** `postgresql://<role>:<password>@<host>:<port>/<database>?sslmode=require` (the apps' DATABASE_URL). */
  url: "url",
} as const;

/** The bootstrap task's command: a command of the backup job's image. */
export const BOOTSTRAP_COMMAND = "bootstrap-roles";

/** Plain variable of every task using a role: its rotation generation, so a rotation shows in the task's settings. */
export const ROLE_ROTATION_VARIABLE = "DB_ROLE_ROTATION";

/** The generations as one label, `app=0,migrate=0,backup=0`: it changes with any rotation. */
export function rotationLabel(rotation: Record<DatabaseRolePurpose, number>): string {
  return DATABASE_ROLE_PURPOSES.map((p) => `${p}=${rotation[p]}`).join(",");
}
