import { renameVariables, type ServiceConnection } from "../../lib/connection";
import { CORS_VARIABLE, USES } from "../../lib/appVariables";
import type { AppSecrets } from "./appSecrets";
import type { ServiceSettings } from "./settings";

/** Where a service's variables come from: the app role's connection, the cache's, the app secrets. */
export interface VariableSources {
  database: ServiceConnection;
  cache: ServiceConnection;
  appSecrets: Pick<AppSecrets, "connectionFor">;
}

/**
 * The connections a service receives: only what `uses` names (R-db-roles), its CORS origins, all
 * under the names `envNames` gives them (R-app-variables). The settings schema checked the names.
 */
export function serviceConnections(
  service: Pick<ServiceSettings, "uses" | "envNames" | "corsOrigins">,
  sources: VariableSources,
): ServiceConnection[] {
  const secretNames = service.uses.filter((u) => u !== USES.database && u !== USES.cache);
  const connections: ServiceConnection[] = [
    ...(secretNames.length > 0 ? [sources.appSecrets.connectionFor(secretNames)] : []),
    ...(service.uses.includes(USES.database) ? [sources.database] : []),
    ...(service.uses.includes(USES.cache) ? [sources.cache] : []),
    ...(service.corsOrigins.length > 0
      ? [
          {
            environment: { [CORS_VARIABLE]: service.corsOrigins.join(",") },
            secrets: {},
            secretArns: [],
            kmsKeyArns: [],
          },
        ]
      : []),
  ];
  return connections.map((c) => renameVariables(c, service.envNames));
}
