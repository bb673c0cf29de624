import * as pulumi from "@pulumi/pulumi";
import { BACKUP_ENV } from "./backupContract";

/**
 * What a service needs to reach a backing store: plain settings as environment variables, and
 * credentials as ECS `secrets` that the task's execution role reads from Secrets Manager at start.
 * Data components expose one; the service component injects every one it is given.
 */
export interface ServiceConnection {
  /** Plain settings, e.g. `DB_HOST`, `DB_PORT`, `REDIS_TLS`. Never credentials. */
  environment: Record<string, pulumi.Input<string>>;
  /**
   * Environment variable -> ECS `valueFrom`: a secret ARN, or `<arn>:<json-key>::` for one key of
   * a JSON secret.
   */
  secrets: Record<string, pulumi.Input<string>>;
  /** ARNs of the secrets above, for `secretsmanager:GetSecretValue` on the execution role. */
  secretArns: pulumi.Input<string>[];
  /** KMS keys that encrypt those secrets, for `kms:Decrypt` on the execution role. */
  kmsKeyArns: pulumi.Input<string>[];
  /**
   * The resources that put the secrets' values in place (their `SecretVersion`s): whatever reads a
   * value itself (the Kubernetes Secrets) waits for them, so a stack's first `up` never reads a
   * secret that has no version yet.
   */
  secretVersions?: pulumi.Resource[];
  /**
   * Credentials the program generated itself (the in-cluster data tier's passwords, R-local-postgres):
   * variable -> value, written as they are into the workload's Kubernetes Secret. Only Kubernetes
   * workloads read them; there is no Secrets Manager secret behind them.
   */
  secretValues?: Record<string, pulumi.Input<string>>;
}

/** libpq's names (which pg_dump and psql read) for the DB_* settings a database connection hands services. */
const LIBPQ_NAMES: Record<string, string> = {
  DB_HOST: BACKUP_ENV.host,
  DB_PORT: BACKUP_ENV.port,
  DB_NAME: BACKUP_ENV.database,
  DB_USER: BACKUP_ENV.user,
  DB_PASSWORD: BACKUP_ENV.password,
};

/**
 * A database connection as libpq's environment (PGHOST, ...), with the server's certificate and
 * name verified (`verify-full`: the reader must carry the CA bundle).
 */
export function libpqConnection(c: ServiceConnection): ServiceConnection {
  const pick = (from: Record<string, pulumi.Input<string>>) =>
    Object.fromEntries(
      Object.entries(from)
        .filter(([k]) => k in LIBPQ_NAMES)
        .map(([k, v]) => [LIBPQ_NAMES[k]!, v]),
    );
  // No rotation label: the backup job and the bootstrap run as new tasks each time, which read
  // the current passwords when they start (R-db-roles).
  return {
    environment: { ...pick(c.environment), [BACKUP_ENV.sslMode]: "verify-full" },
    secrets: pick(c.secrets),
    secretArns: c.secretArns,
    kmsKeyArns: c.kmsKeyArns,
    ...(c.secretVersions && { secretVersions: c.secretVersions }),
    ...(c.secretValues ? { secretValues: pick(c.secretValues) } : {}),
  };
}

/**
 * The connection with its variables renamed (`services[].envNames`: platform name -> the app's
 * name); names not in `names` stay as they are. The secrets it reads stay the same.
 */
export function renameVariables(c: ServiceConnection, names: Readonly<Record<string, string>>): ServiceConnection {
  const rename = (from: Record<string, pulumi.Input<string>>) =>
    Object.fromEntries(Object.entries(from).map(([k, v]) => [names[k] ?? k, v]));
  return {
    ...c,
    environment: rename(c.environment),
    secrets: rename(c.secrets),
    ...(c.secretValues ? { secretValues: rename(c.secretValues) } : {}),
  };
}

/**
 * The apps' DATABASE_URL (R-app-variables): TLS required. The login passwords are generated
 * without special characters, so none needs escaping in the URL.
 */
export function postgresUrl(a: {
  user: pulumi.Input<string>;
  password: pulumi.Input<string>;
  host: pulumi.Input<string>;
  port: pulumi.Input<number>;
  database: pulumi.Input<string>;
}): pulumi.Output<string> {
  return pulumi.interpolate`postgresql://${a.user}:${a.password}@${a.host}:${a.port}/${a.database}?sslmode=require`;
}

/** The apps' REDIS_URL (R-app-variables): TLS (`rediss://`) with the AUTH token, which is letters and digits only. */
export function redisUrl(a: {
  token: pulumi.Input<string>;
  host: pulumi.Input<string>;
  port: pulumi.Input<number>;
}): pulumi.Output<string> {
  return pulumi.interpolate`rediss://:${a.token}@${a.host}:${a.port}`;
}
