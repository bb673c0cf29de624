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

/** From `uses: [cache]`. */
export const CACHE_VARIABLES = {
  environment: ["REDIS_HOST", "REDIS_PORT", "REDIS_TLS"],
  secrets: ["REDIS_AUTH_TOKEN", "REDIS_URL"],
} as const;

/** Set with any app secret: changes with `appSecrets.rotation`, so the tasks restart with new values. */
export const APP_SECRETS_ROTATION_VARIABLE = "APP_ROTATION_LABEL";

/** From `services[].corsOrigins`, comma-separated. */
export const CORS_VARIABLE = "CORS_ORIGINS";

/** Every variable the platform gives a service with these `uses` and CORS origins, in injection order. */
export function providedVariables(uses: readonly string[], corsOrigins: readonly string[]): string[] {
  const secrets = uses.filter((u) => u !== USES.database && u !== USES.cache);
  return [
    ...(secrets.length > 0 ? [APP_SECRETS_ROTATION_VARIABLE, ...secrets] : []),
    ...(uses.includes(USES.database) ? [...DATABASE_VARIABLES.environment, ...DATABASE_VARIABLES.secrets] : []),
    ...(uses.includes(USES.cache) ? [...CACHE_VARIABLES.environment, ...CACHE_VARIABLES.secrets] : []),
    ...(corsOrigins.length > 0 ? [CORS_VARIABLE] : []),
  ];
}
