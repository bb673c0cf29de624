/**
 * The job's whole configuration, read once from environment variables and validated before any
 * side effect. Every problem is reported at once, each naming the variable, its value (masked when
 * secret) and what is allowed, so one failed start is enough to fix the task definition.
 */
import {
  BACKUP_ENV,
  DEFAULT_METRICS_NAMESPACE,
  DEFAULT_SLOW_STATEMENTS,
  DUMP_PREFIX,
  RTO,
} from "../../../lib/backupContract";

export type Env = Readonly<Record<string, string | undefined>>;

export const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** Where the database is. The password is not here: it only ever travels in the child environment. */
export interface PostgresConfig {
  host: string;
  port: number;
  database: string;
  user: string;
  /** Unset means libpq's own default ("prefer"). */
  sslMode: SslMode | undefined;
}

export interface StorageConfig {
  bucket: string;
  /** Key prefix without leading or trailing slash, e.g. "postgres". */
  prefix: string;
  region: string;
  /** Override for S3-compatible servers; unset means AWS S3. */
  endpoint: string | undefined;
  forcePathStyle: boolean;
  /** Multipart part size; memory use is about four parts. */
  partSizeBytes: number;
}

export interface MetricsConfig {
  enabled: boolean;
  namespace: string;
  /** Override for a local CloudWatch-compatible endpoint; unset means AWS CloudWatch. */
  endpoint: string | undefined;
  /** Set: push to this Prometheus Pushgateway instead of CloudWatch (namespace and endpoint unused). */
  pushgatewayUrl: string | undefined;
}

/**
 * The restore drill's own instance (R-backup-restore-test): what to copy, what to call it, how big,
 * and behind which security group. Set only for the drill, by the task definition.
 */
export interface DrillConfig {
  /** The production instance: described (engine version, parameter group, key, subnets), never modified. */
  sourceInstance: string;
  /** Every drill instance is named `<prefix>-...`; the job refuses to create or delete anything else. */
  instancePrefix: string;
  instanceClass: string;
  securityGroupId: string;
  /** The runbook's RTO: a drill slower than this fails (R-backup-rto). */
  rtoSeconds: number;
  /** How long the new instance may take to become available. */
  createTimeoutMinutes: number;
}

/**
 * The restore drill into a throwaway database on the job's own server (DRILL_IN_SERVER): for an
 * in-cluster PostgreSQL with no API to create an instance. The job's own role creates and drops it,
 * which takes CREATEDB: the in-cluster drill connects as the server's owner.
 */
export interface InServerDrillConfig {
  rtoSeconds: number;
}

export interface JobConfig {
  postgres: PostgresConfig;
  storage: StorageConfig;
  metrics: MetricsConfig;
  /** The drill's instance; undefined unless DRILL_SOURCE_INSTANCE is set (the backup does not need it). */
  drill: DrillConfig | undefined;
  /** Set by DRILL_IN_SERVER=true instead of the drill's instance. */
  inServerDrill: InServerDrillConfig | undefined;
  /**
   * The environment for pg_dump, pg_restore and psql. It carries PGPASSWORD, which is why the
   * password never appears on a command line; never log this object.
   */
  childEnv: Readonly<Record<string, string>>;
}

/** Thrown by {@link loadConfig}; `problems` holds one sentence per bad variable, in reading order. */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(
      `invalid configuration (${problems.length} ${problems.length === 1 ? "problem" : "problems"}): ${problems.join(" ")}`,
    );
    this.name = "ConfigError";
    this.problems = problems;
  }
}

export const DEFAULTS = {
  port: 5432,
  prefix: DUMP_PREFIX,
  partSizeMiB: 16,
  metricsNamespace: DEFAULT_METRICS_NAMESPACE,
  /** libpq waits for the OS TCP timeout (minutes) without it; an unreachable host should fail fast. */
  connectTimeoutSeconds: "10",
  applicationName: "opsbook-backup",
  /** Runbook 001: recover within 4 h. */
  rtoSeconds: RTO.defaultHours * 3600,
  /** RDS usually creates a small instance in 10-20 min; twice the worst seen, then give up. */
  drillCreateTimeoutMinutes: 60,
} as const;

const MIB = 1024 * 1024;
/** S3 refuses multipart parts under 5 MiB; 512 MiB x 10,000 parts covers any dump we expect. */
const PART_SIZE_MIB = { min: 5, max: 512 } as const;
const SECRET_NAME = /PASSWORD|SECRET|TOKEN/i;
/** Passed through to children besides every PG* variable, so libpq options such as PGSSLROOTCERT work. */
const CHILD_PASSTHROUGH = ["PATH", "HOME", "LANG", "LC_ALL", "TZ"] as const;

interface Rule<T> {
  /** What the variable is for, shown in every message about it. */
  purpose: string;
  /** What values are accepted, in words. */
  allowed: string;
  parse(value: string): T | undefined;
}

/** Collects problems instead of stopping at the first, so the operator sees them all at once. */
class EnvReader {
  readonly problems: string[] = [];

  constructor(private readonly env: Env) {}

  required<T>(name: string, rule: Rule<T>): T | undefined {
    const raw = this.env[name];
    if (raw === undefined || raw === "") {
      this.problems.push(
        `${name} is ${raw === undefined ? "not set" : "empty"} (${rule.purpose}). Allowed: ${rule.allowed}.`,
      );
      return undefined;
    }
    return this.parse(name, raw, rule);
  }

  /** An empty value counts as unset unless `emptyIsAnError`, for secrets that resolved to nothing. */
  optional<T>(name: string, rule: Rule<T>, fallback: T, emptyIsAnError = false): T {
    const raw = this.env[name];
    if (raw === undefined || (raw === "" && !emptyIsAnError)) {
      return fallback;
    }
    return this.parse(name, raw, rule) ?? fallback;
  }

  private parse<T>(name: string, raw: string, rule: Rule<T>): T | undefined {
    const value = rule.parse(raw);
    if (value === undefined) {
      this.problems.push(`${name}=${showValue(name, raw)} is invalid (${rule.purpose}). Allowed: ${rule.allowed}.`);
    }
    return value;
  }
}

/** Values shorter than this are not masked in logs: masking "pw" everywhere would garble messages. */
const MIN_MASKED_LENGTH = 4;

/**
 * The values of every variable whose name suggests a secret (PGPASSWORD, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN, ...), for the logger to mask wherever they might appear.
 */
export function secretValues(env: Env): string[] {
  return Object.entries(env)
    .filter(([name, value]) => SECRET_NAME.test(name) && value !== undefined && value.length >= MIN_MASKED_LENGTH)
    .map(([, value]) => value as string);
}

/** Shows a value in an error message, masking anything whose name suggests a secret. */
export function showValue(name: string, value: string): string {
  if (SECRET_NAME.test(name)) {
    return value === "" ? '"" (masked)' : '"****" (masked)';
  }
  return JSON.stringify(value);
}

const matching =
  (pattern: RegExp) =>
  (value: string): string | undefined =>
    pattern.test(value) ? value : undefined;

const integerBetween =
  (min: number, max: number) =>
  (value: string): number | undefined => {
    if (!/^\d+$/.test(value)) {
      return undefined;
    }
    const parsed = Number(value);
    return parsed >= min && parsed <= max ? parsed : undefined;
  };

const boolean = (value: string): boolean | undefined =>
  value === "true" ? true : value === "false" ? false : undefined;

const httpUrl = (value: string): string | undefined => {
  try {
    const url = new URL(value);
    const plain = (url.protocol === "http:" || url.protocol === "https:") && url.username === "" && url.password === "";
    return plain ? value : undefined;
  } catch {
    return undefined;
  }
};

const RULES = {
  host: {
    purpose: "PostgreSQL host",
    allowed: "a host name, an IP address or a unix-socket directory, without spaces",
    parse: matching(/^\S+$/),
  },
  port: { purpose: "PostgreSQL port", allowed: "an integer from 1 to 65535", parse: integerBetween(1, 65535) },
  database: {
    purpose: "the database to back up; it is also part of the S3 keys",
    allowed: "1-63 characters of A-Z, a-z, 0-9, '_' and '-', not starting with '-'",
    parse: matching(/^[A-Za-z0-9_][A-Za-z0-9_-]{0,62}$/),
  },
  user: { purpose: "PostgreSQL role to connect as", allowed: "a role name without spaces", parse: matching(/^\S+$/) },
  password: {
    purpose: "PostgreSQL password",
    allowed: "a non-empty password, or leave it unset to use another libpq method such as PGPASSFILE",
    parse: matching(/^.+$/s),
  },
  sslMode: {
    purpose: "libpq TLS mode",
    allowed: SSL_MODES.join(", "),
    parse: (value: string): SslMode | undefined => SSL_MODES.find((mode) => mode === value),
  },
  bucket: {
    purpose: "the S3 bucket that holds the dumps",
    allowed: "an S3 bucket name: 3-63 characters of a-z, 0-9, '.' and '-', starting and ending with a letter or digit",
    parse: matching(/^(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/),
  },
  prefix: {
    purpose: "S3 key prefix for the dumps",
    allowed:
      "segments of A-Z, a-z, 0-9, '_' and '-' joined by single '/', no leading or trailing '/', at most 200 characters",
    parse: matching(/^(?=.{1,200}$)[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/),
  },
  region: {
    purpose: "AWS region of the bucket and the metrics",
    allowed: "an AWS region code such as eu-west-1",
    parse: matching(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/),
  },
  s3Endpoint: {
    purpose: "S3-compatible endpoint override",
    allowed: "an http:// or https:// URL without credentials, e.g. http://127.0.0.1:4569",
    parse: httpUrl,
  },
  forcePathStyle: { purpose: "path-style S3 addressing", allowed: "true or false", parse: boolean },
  partSize: {
    purpose: "multipart upload part size in MiB",
    allowed: `an integer from ${PART_SIZE_MIB.min} to ${PART_SIZE_MIB.max}`,
    parse: integerBetween(PART_SIZE_MIB.min, PART_SIZE_MIB.max),
  },
  metricsEnabled: { purpose: "publish CloudWatch metrics", allowed: "true or false", parse: boolean },
  namespace: {
    purpose: "CloudWatch namespace of the metrics",
    allowed: "1-255 characters of A-Z, a-z, 0-9, '.', '-', '_', '/', '#' and ':', not starting with 'AWS/'",
    parse: matching(/^(?!AWS\/)[A-Za-z0-9.\-_/#:]{1,255}$/),
  },
  pushgatewayUrl: {
    purpose: "Prometheus Pushgateway to push the metrics to instead of CloudWatch",
    allowed: "an http:// or https:// URL without credentials, e.g. http://pushgateway.monitoring:9091",
    parse: httpUrl,
  },
  cloudWatchEndpoint: {
    purpose: "CloudWatch endpoint override",
    allowed: "an http:// or https:// URL without credentials",
    parse: httpUrl,
  },
  drillSource: {
    purpose: "the RDS instance the restore drill copies its settings from, only ever described",
    allowed: "an RDS instance identifier: 1-63 lower-case letters, digits and single hyphens, starting with a letter",
    parse: matching(/^[a-z](?!.*--)[a-z0-9-]{0,61}[a-z0-9]$/),
  },
  drillPrefix: {
    purpose: "identifier prefix of the restore drill's temporary instances",
    allowed: "1-42 lower-case letters, digits and single hyphens, starting with a letter (21 characters are added)",
    parse: matching(/^[a-z](?:(?!.*--)[a-z0-9-]{0,40}[a-z0-9])?$/),
  },
  drillClass: {
    purpose: "instance class of the restore drill's temporary instance",
    allowed: "an RDS instance class, e.g. db.t4g.medium",
    parse: matching(/^db\.[a-z0-9]+\.[a-z0-9]+$/),
  },
  drillSecurityGroup: {
    purpose: "security group of the restore drill's temporary instance",
    allowed: "a security group id, e.g. sg-0123456789abcdef0",
    parse: matching(/^[A-Za-z0-9-]{1,64}$/),
  },
  drillInServer: {
    purpose: "restore drill into a throwaway database on the job's own server instead of an instance of its own",
    allowed: "true or false",
    parse: boolean,
  },
  drillRto: {
    purpose: "the RTO in seconds the restore drill's time to recover is held to",
    // Seconds from a minute: finer than the settings' hours, the same longest RTO.
    allowed: `an integer from 60 to ${RTO.maxHours * 3600}`,
    parse: integerBetween(60, RTO.maxHours * 3600),
  },
} satisfies Record<string, Rule<unknown>>;

/**
 * Reads and validates the job's environment.
 *
 * @param env the process environment (or a test's stand-in for it)
 * @returns the typed configuration, with defaults applied
 * @throws {ConfigError} listing every missing or invalid variable
 */
export function loadConfig(env: Env): JobConfig {
  const read = new EnvReader(env);
  const postgres = readPostgres(read);
  const bucket = read.required(BACKUP_ENV.bucket, RULES.bucket);
  const prefix = read.optional(BACKUP_ENV.prefix, RULES.prefix, DEFAULTS.prefix);
  const region = read.required(BACKUP_ENV.region, RULES.region);
  const s3Endpoint = read.optional(BACKUP_ENV.s3Endpoint, RULES.s3Endpoint, undefined);
  const forcePathStyle = read.optional(BACKUP_ENV.forcePathStyle, RULES.forcePathStyle, s3Endpoint !== undefined);
  const partSizeMiB = read.optional(BACKUP_ENV.partSizeMiB, RULES.partSize, DEFAULTS.partSizeMiB);
  const metrics = readMetrics(read);
  const drillSource = read.optional(BACKUP_ENV.drillSourceInstance, RULES.drillSource, undefined);
  const drill = drillSource === undefined ? undefined : readDrill(read, drillSource);
  // Whether the source is set, not whether the drill's instance is complete: an incomplete one
  // beside DRILL_IN_SERVER is still both at once.
  const inServerDrill = readInServerDrill(read, drillSource !== undefined);

  if (postgres === undefined || bucket === undefined || region === undefined || read.problems.length > 0) {
    throw new ConfigError(read.problems);
  }
  return {
    postgres,
    storage: { bucket, prefix, region, endpoint: s3Endpoint, forcePathStyle, partSizeBytes: partSizeMiB * MIB },
    metrics,
    drill,
    inServerDrill,
    childEnv: childEnvironment(env, postgres.port),
  };
}

/**
 * The connection variables every command reads; undefined if a required one is missing. The
 * password is only checked: it reaches libpq through the child environment.
 */
function readPostgres(read: EnvReader): PostgresConfig | undefined {
  const host = read.required(BACKUP_ENV.host, RULES.host);
  const port = read.optional(BACKUP_ENV.port, RULES.port, DEFAULTS.port);
  const database = read.required(BACKUP_ENV.database, RULES.database);
  const user = read.required(BACKUP_ENV.user, RULES.user);
  read.optional(BACKUP_ENV.password, RULES.password, undefined, true);
  const sslMode = read.optional(BACKUP_ENV.sslMode, RULES.sslMode, undefined);
  if (host === undefined || database === undefined || user === undefined) return undefined;
  return { host, port, database, user, sslMode };
}

/** Where the metrics go: CloudWatch (or a stand-in for it), or a Pushgateway. */
function readMetrics(read: EnvReader): MetricsConfig {
  const enabled = read.optional(BACKUP_ENV.metricsEnabled, RULES.metricsEnabled, true);
  const namespace = read.optional(BACKUP_ENV.metricsNamespace, RULES.namespace, DEFAULTS.metricsNamespace);
  const endpoint = read.optional(BACKUP_ENV.cloudWatchEndpoint, RULES.cloudWatchEndpoint, undefined);
  const pushgatewayUrl = read.optional(BACKUP_ENV.pushgatewayUrl, RULES.pushgatewayUrl, undefined);
  return { enabled, namespace, endpoint, pushgatewayUrl };
}

/** With the drill's source set: everything the drill's instance needs. */
function readDrill(read: EnvReader, sourceInstance: string): DrillConfig | undefined {
  const instancePrefix = read.required(BACKUP_ENV.drillInstancePrefix, RULES.drillPrefix);
  const instanceClass = read.required(BACKUP_ENV.drillInstanceClass, RULES.drillClass);
  const securityGroupId = read.required(BACKUP_ENV.drillSecurityGroup, RULES.drillSecurityGroup);
  const rtoSeconds = readRto(read);
  if (instancePrefix === undefined || instanceClass === undefined || securityGroupId === undefined) return undefined;
  return {
    sourceInstance,
    instancePrefix,
    instanceClass,
    securityGroupId,
    rtoSeconds,
    createTimeoutMinutes: DEFAULTS.drillCreateTimeoutMinutes,
  };
}

/** DRILL_IN_SERVER: the drill's database on the job's own server; refused beside the drill's source. */
function readInServerDrill(read: EnvReader, sourceSet: boolean): InServerDrillConfig | undefined {
  if (!read.optional(BACKUP_ENV.drillInServer, RULES.drillInServer, false)) return undefined;
  if (sourceSet) {
    read.problems.push(
      `${BACKUP_ENV.drillInServer}=true and ${BACKUP_ENV.drillSourceInstance} are both set (${RULES.drillInServer.purpose}). Allowed: one of them.`,
    );
    return undefined;
  }
  return { rtoSeconds: readRto(read) };
}

/** The RTO either drill is held to; read by one of them at most, so a bad value is reported once. */
function readRto(read: EnvReader): number {
  return read.optional(BACKUP_ENV.drillRtoSeconds, RULES.drillRto, DEFAULTS.rtoSeconds);
}

/**
 * The environment handed to libpq programs: the PG* variables (including the password, which
 * libpq reads from PGPASSWORD), the locale and PATH, and nothing else, so AWS credentials never
 * reach them.
 */
export function childEnvironment(env: Env, port: number): Record<string, string> {
  const child: Record<string, string> = {
    PGCONNECT_TIMEOUT: DEFAULTS.connectTimeoutSeconds,
    PGAPPNAME: DEFAULTS.applicationName,
  };
  for (const [name, value] of Object.entries(env)) {
    const wanted = name.startsWith("PG") || (CHILD_PASSTHROUGH as readonly string[]).includes(name);
    if (wanted && value !== undefined) {
      child[name] = value;
    }
  }
  child.PGPORT = String(port);
  return child;
}

/** The maintenance job's configuration (R-db-maintenance): the database, the metrics, the report's length. */
export interface MaintenanceConfig {
  postgres: PostgresConfig;
  /** The AWS region of the metrics. */
  region: string;
  metrics: MetricsConfig;
  /** How many of the slowest statements the report lists. */
  slowStatements: number;
  /** The PG* environment for psql; carries PGPASSWORD, never log it. */
  childEnv: Readonly<Record<string, string>>;
}

const SLOW_STATEMENTS_RULE: Rule<number> = {
  purpose: "how many of the slowest statements the maintenance report lists",
  allowed: "an integer from 1 to 100",
  parse: integerBetween(1, 100),
};

/**
 * Reads the maintenance job's environment: the database and metrics variables of the backup job,
 * no bucket.
 *
 * @throws {ConfigError} listing every missing or invalid variable
 */
export function loadMaintenanceConfig(env: Env): MaintenanceConfig {
  const read = new EnvReader(env);
  const postgres = readPostgres(read);
  const region = read.required(BACKUP_ENV.region, RULES.region);
  const metrics = readMetrics(read);
  const slowStatements = read.optional(
    BACKUP_ENV.maintenanceSlowStatements,
    SLOW_STATEMENTS_RULE,
    DEFAULT_SLOW_STATEMENTS,
  );
  if (postgres === undefined || region === undefined || read.problems.length > 0) {
    throw new ConfigError(read.problems);
  }
  return { postgres, region, metrics, slowStatements, childEnv: childEnvironment(env, postgres.port) };
}
