/**
 * Command dispatch: `backup`, `restore-drill`, `bootstrap-roles` (R-db-roles), `maintenance-analyze` or
 * `maintenance-vacuum` (R-db-maintenance). Configuration is validated before anything else
 * happens; every failure ends in one error log line and a non-zero exit code.
 */
import { RDSClient } from "@aws-sdk/client-rds";
import type { S3Client } from "@aws-sdk/client-s3";
import { runBackup } from "./backup";
import { MAINTENANCE_COMMANDS, type MaintenanceTask } from "../../../lib/backupContract";
import { ConfigError, loadConfig, loadMaintenanceConfig, secretValues, type Env, type JobConfig } from "./config";
import type { JobDeps } from "./deps";
import { runRestoreDrill } from "./drill";
import { errorMessage } from "./errors";
import { createJsonLogger, redactingLogger, type Logger } from "./log";
import { createMetricsPublisher, type MetricsPublisher } from "./metrics";
import { runMaintenance } from "./maintenance";
import { bootstrapRoles, loadRolesConfig } from "./roles";
import { createS3Client, type AwsCredentials } from "./storage";

export const COMMANDS = [
  "backup",
  "restore-drill",
  "bootstrap-roles",
  MAINTENANCE_COMMANDS.analyze,
  MAINTENANCE_COMMANDS.vacuum,
] as const;
export type Command = (typeof COMMANDS)[number];

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Overrides for tests; production passes only the abort signal. */
export interface MainOptions {
  log?: Logger;
  metrics?: MetricsPublisher;
  /** Static credentials for a local S3 server; unset means the SDK's default chain. */
  credentials?: AwsCredentials;
  now?: () => Date;
  signal?: AbortSignal;
  /** Waits between the drill's RDS status polls. @default a timer */
  sleep?: (ms: number) => Promise<void>;
}

const isCommand = (value: string | undefined): value is Command => COMMANDS.some((c) => c === value);

/**
 * Runs one command.
 *
 * @param args the command line after the program name, e.g. ["backup"]
 * @param env the environment to read the configuration from
 * @returns the exit code: 0 done, 1 the job failed, 2 bad command line or configuration
 */
export async function main(args: readonly string[], env: Env, options: MainOptions = {}): Promise<number> {
  const [command, ...extra] = args;
  // Secrets are masked in every line, including error text quoted from libpq or the AWS SDK.
  const log = redactingLogger(options.log ?? createJsonLogger(command ?? "opsbook-backup"), secretValues(env));
  if (!isCommand(command) || extra.length > 0) {
    log.error(`usage: opsbook-backup <${COMMANDS.join("|")}> (got: ${JSON.stringify(args)})`);
    return EXIT.usage;
  }
  if (command === "bootstrap-roles") return runBootstrap(env, log, options.signal);
  const task = (Object.keys(MAINTENANCE_COMMANDS) as MaintenanceTask[]).find(
    (t) => MAINTENANCE_COMMANDS[t] === command,
  );
  if (task !== undefined) return runMaintenanceCommand(task, env, log, options);
  let config: JobConfig;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      log.error(error.message);
      return EXIT.usage;
    }
    throw error;
  }
  logStart(log, command, config);
  const s3 = createS3Client(config.storage, options.credentials);
  const rds = new RDSClient({
    region: config.storage.region,
    ...(options.credentials !== undefined && { credentials: options.credentials }),
  });
  try {
    const deps = buildDeps(config, s3, rds, log, options);
    if (command === "backup") {
      await runBackup(config, deps);
    } else {
      await runRestoreDrill(config, deps);
    }
    return EXIT.ok;
  } catch (error) {
    log.error(`${command} failed: ${errorMessage(error)}`);
    return EXIT.failed;
  } finally {
    s3.destroy();
    rds.destroy();
  }
}

/** The role bootstrap needs only the master connection and the role passwords, no bucket. */
async function runBootstrap(env: Env, log: Logger, signal: AbortSignal | undefined): Promise<number> {
  let config;
  try {
    config = loadRolesConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      log.error(error.message);
      return EXIT.usage;
    }
    throw error;
  }
  try {
    await bootstrapRoles(config, log, signal);
    return EXIT.ok;
  } catch (error) {
    log.error(`bootstrap-roles failed: ${errorMessage(error)}`);
    return EXIT.failed;
  }
}

/** ANALYZE or VACUUM (ANALYZE) and the slow-statement report (R-db-maintenance): the database and the metrics, no bucket. */
async function runMaintenanceCommand(
  task: MaintenanceTask,
  env: Env,
  log: Logger,
  options: MainOptions,
): Promise<number> {
  let config;
  try {
    config = loadMaintenanceConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      log.error(error.message);
      return EXIT.usage;
    }
    throw error;
  }
  const metrics = options.metrics ?? createMetricsPublisher(config.metrics, config.region, log, options.credentials);
  try {
    await runMaintenance(task, config, {
      metrics,
      log,
      now: options.now ?? (() => new Date()),
      ...(options.signal && { signal: options.signal }),
    });
    return EXIT.ok;
  } catch (error) {
    log.error(`${MAINTENANCE_COMMANDS[task]} failed: ${errorMessage(error)}`);
    return EXIT.failed;
  }
}

function buildDeps(config: JobConfig, s3: S3Client, rds: RDSClient, log: Logger, options: MainOptions): JobDeps {
  const metrics =
    options.metrics ?? createMetricsPublisher(config.metrics, config.storage.region, log, options.credentials);
  return {
    s3,
    rds,
    metrics,
    log,
    now: options.now ?? (() => new Date()),
    ...(options.signal && { signal: options.signal }),
    ...(options.sleep && { sleep: options.sleep }),
  };
}

/** The non-secret facts of this run, so a log line alone says what was attempted. */
function logStart(log: Logger, command: Command, config: JobConfig): void {
  const { postgres: pg, storage, metrics } = config;
  log.info(`${command} starting`, {
    database: pg.database,
    host: pg.host,
    port: pg.port,
    sslMode: pg.sslMode ?? "libpq default",
    bucket: storage.bucket,
    prefix: storage.prefix,
    region: storage.region,
    s3Endpoint: storage.endpoint,
    metrics: metrics.enabled ? metrics.namespace : "disabled",
    ...(config.drill && { drillSource: config.drill.sourceInstance, drillInstanceClass: config.drill.instanceClass }),
  });
}
