/**
 * The variables the platform hands a service, by what the service declares in `services[].uses`
 * (R-db-roles, R-app-variables). The settings check `services[].envNames` against these names;
 * the data components' connections provide exactly them (the stack tests compare both).
 */

import { ROLE_ROTATION_VARIABLE } from "./databaseRoles";

/** `uses` entries that are not app secret names. */
export const USES = { database: "database", cache: "cache" } as const;

/** From `uses: [database]`: the app role's connection. */
export const DATABASE_VARIABLES = {
  environment: ["DB_HOST", "DB_PORT", "DB_NAME", "DB_SSLMODE", "DB_POOL_MIN", "DB_POOL_MAX", ROLE_ROTATION_VARIABLE],
  secrets: ["DB_USER", "DB_PASSWORD", "DATABASE_URL"],
} as const;

/**
 * From `uses: [database]` with `postgres.readReplicas.count` > 0: the replicas' hosts, comma-separated
 * (R-db-read-replicas). Among the connection's plain variables, before the rotation label.
 */
export const READ_HOST_VARIABLE = "DB_READ_HOST";

/** From `uses: [cache]`. */
export const CACHE_VARIABLES = {
  environment: ["REDIS_HOST", "REDIS_PORT", "REDIS_TLS"],
  secrets: ["REDIS_AUTH_TOKEN", "REDIS_URL"],
} as const;

/** Set with any app secret: changes with `appSecrets.rotation`, so the tasks restart with new values. */
export const APP_SECRETS_ROTATION_VARIABLE = "APP_ROTATION_LABEL";

/** From `services[].corsOrigins`, comma-separated. */
export const CORS_VARIABLE = "CORS_ORIGINS";

/**
 * Every variable the platform gives a service with these `uses` and CORS origins (and, with
 * `readReplicas`, the database's read replicas), in injection order.
 */
export function providedVariables(
  uses: readonly string[],
  corsOrigins: readonly string[],
  readReplicas = false,
): string[] {
  const secrets = uses.filter((u) => u !== USES.database && u !== USES.cache);
  const database: string[] = [...DATABASE_VARIABLES.environment];
  if (readReplicas) database.splice(database.indexOf(ROLE_ROTATION_VARIABLE), 0, READ_HOST_VARIABLE);
  return [
    ...(secrets.length > 0 ? [APP_SECRETS_ROTATION_VARIABLE, ...secrets] : []),
    ...(uses.includes(USES.database) ? [...database, ...DATABASE_VARIABLES.secrets] : []),
    ...(uses.includes(USES.cache) ? [...CACHE_VARIABLES.environment, ...CACHE_VARIABLES.secrets] : []),
    ...(corsOrigins.length > 0 ? [CORS_VARIABLE] : []),
  ];
}
