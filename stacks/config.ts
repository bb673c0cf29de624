/**
 * The stack config: one schema, the only code that reads Pulumi config.
 *
 * `Pulumi.<stack>.yaml` -> `parseConfig` (defaults from the runbooks, unknown keys rejected,
 * cross-field rules checked) -> a typed `PlatformConfig` that components receive as plain values.
 * Bad input throws one `ConfigError` that lists every problem with the key, the value given, what is
 * allowed and the `pulumi config` command that fixes it, before any resource is declared.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { LOWER_IS_WORSE, RUNBOOK } from "./runbook";
import { FARGATE_CPU_UNITS, describeFargateMemory, fargateMemoryChoices, isFargateSize } from "../lib/fargate";
import {
  dailyOverlapsWeekly,
  isHhmm,
  isTimeZone,
  isWeeklyWindow,
  localToUtcMinutes,
  parseWeeklyWindow,
} from "../lib/time";
import { isCidr, parseCidr } from "../lib/cidr";
import { cacheEngineProblem } from "../lib/engines";
import { instanceClassMemoryBytes, unknownClassMessage } from "../lib/instanceClasses";

export const PROJECT = "opsbook";

/** Namespaces a stack file may use besides the project's own. */
const OTHER_NAMESPACES = ["aws", "pulumi"];

// ---- leaf builders: every message is the "allowed" text a reader sees next to the bad value ----

// YAML edited by hand may quote numbers and booleans ("30", "true"); read them as what they say.
const numeric = (v: unknown): unknown => (typeof v === "string" && /^-?\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : v);
const boolean = (v: unknown): unknown => (v === "true" ? true : v === "false" ? false : v);

function int(min: number, max: number, unit = "") {
  const allowed = `a whole number from ${min} to ${max}${unit}`;
  return z.preprocess(
    numeric,
    z.number({ error: allowed }).int({ error: allowed }).min(min, { error: allowed }).max(max, { error: allowed }),
  );
}

function num(min: number, max: number, unit = "") {
  const allowed = `a number from ${min} to ${max}${unit}`;
  return z.preprocess(numeric, z.number({ error: allowed }).min(min, { error: allowed }).max(max, { error: allowed }));
}

function bool() {
  return z.preprocess(boolean, z.boolean({ error: "true or false" }));
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `one of ${values.map((v) => `"${v}"`).join(", ")}` });
}

function matching(pattern: RegExp, allowed: string): z.ZodString {
  return z.string({ error: allowed }).regex(pattern, { error: allowed });
}

function inList(values: readonly number[], allowed: string) {
  return z.preprocess(
    numeric,
    z.number({ error: allowed }).refine((v) => values.includes(v), { error: allowed }),
  );
}

const hhmm = z
  .string({ error: 'a time of day "HH:MM" (24-hour)' })
  .refine(isHhmm, { error: 'a time of day "HH:MM" (24-hour)' });
const weeklyWindow = z
  .string({ error: 'a weekly window in UTC "ddd:HH:MM-ddd:HH:MM", e.g. "sun:04:00-sun:05:00"' })
  .refine(isWeeklyWindow, { error: 'a weekly window in UTC "ddd:HH:MM-ddd:HH:MM", e.g. "sun:04:00-sun:05:00"' });

/** CloudWatch Logs accepts only these retention periods. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const thresholdPair = (metric: keyof typeof RUNBOOK.thresholds, max: number) =>
  z
    .strictObject({
      warning: num(0, max).default(RUNBOOK.thresholds[metric].warning),
      critical: num(0, max).default(RUNBOOK.thresholds[metric].critical),
    })
    .prefault({});

// ---- the schema ----

const serviceSchema = z.strictObject({
  /** Service name: ECS service, log group and target group names derive from it. */
  name: matching(
    /^[a-z][a-z0-9-]{0,19}$/,
    "lower-case letters, digits and '-', starting with a letter, at most 20 characters",
  ),
  /** Image repository, without the tag (e.g. an ECR repository URL). */
  image: matching(
    /^[a-z0-9][a-z0-9._\-/:]*[a-z0-9]$/,
    "an image repository without a tag, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/api",
  ),
  /** Image tag: what a deploy changes. */
  tag: matching(
    /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/,
    "an image tag: letters, digits, '_', '.', '-', at most 128 characters",
  ),
  /** Container port the load balancer sends traffic to; omit for a worker with no traffic. */
  port: int(1, 65535).optional(),
  /** Path patterns routed to this service; an empty list makes it the load balancer's default. */
  paths: z
    .array(matching(/^\/[A-Za-z0-9_\-./*?]*$/, 'a path pattern starting with "/", e.g. "/api/*"'), {
      error: "a list of path patterns",
    })
    .max(5, { error: "at most 5 path patterns" })
    .default([]),
  /** Host names routed to this service (with `paths`, both must match); none and no paths makes it the default. */
  hosts: z
    .array(
      matching(
        /^(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/,
        "a host name, e.g. admin.example.com or *.example.com",
      ),
      { error: "a list of host names" },
    )
    .max(5, { error: "at most 5 host names" })
    .default([]),
  /** Health check path for this service. @default healthCheck.path */
  healthCheckPath: matching(/^\/[A-Za-z0-9_\-./]*$/, 'a path starting with "/"').optional(),
  /** Fargate CPU units (1024 = 1 vCPU). */
  cpu: inList(FARGATE_CPU_UNITS, `one of ${FARGATE_CPU_UNITS.join(", ")}`).default(RUNBOOK.service.cpu),
  /** Memory in MiB, legal for the CPU size. */
  memory: int(512, 122880, " MiB").default(RUNBOOK.service.memoryMiB),
  desiredCount: int(0, 100).default(RUNBOOK.service.desiredCount),
  minCount: int(0, 100).default(RUNBOOK.service.minCount),
  maxCount: int(1, 100).default(RUNBOOK.service.maxCount),
  /** Command override for the container. */
  command: z.array(z.string({ error: "a string" }), { error: "a list of strings" }).optional(),
  /** Target tracking: the service scales out above these averages. */
  scaling: z
    .strictObject({
      /** Average CPU of the service's tasks (runbook 001/002: scale when CPU stays high). */
      cpuTargetPercent: int(10, 95, " %").default(RUNBOOK.service.scaleOnCpuPercent),
      /** Requests per task per minute at the load balancer. */
      requestsPerTarget: int(1, 100000).default(1000),
    })
    .prefault({}),
  /** Plain environment variables (never secrets: those come from Secrets Manager). */
  environment: z
    .record(
      matching(/^[A-Z_][A-Z0-9_]*$/, "an environment variable name in UPPER_SNAKE_CASE"),
      z.string({ error: "a string" }),
      { error: "a map of NAME: value" },
    )
    .default({}),
});

const schema = z.strictObject({
  /** Environment name, used in tags and display names. */
  environment: matching(
    /^[a-z][a-z0-9-]{1,15}$/,
    "lower-case letters, digits and '-', 2 to 16 characters, e.g. staging",
  ),
  /** Pulumi `protect` on stateful resources (database, cache, buckets, keys). @default true */
  protect: bool().default(true),
  /** IANA time zone in which the runbooks' times of day (backups at 02:00) are meant. @default "UTC" */
  timeZone: z
    .string({ error: 'an IANA time zone, e.g. "UTC" or "Europe/Berlin"' })
    .refine(isTimeZone, { error: 'an IANA time zone, e.g. "UTC" or "Europe/Berlin"' })
    .default("UTC"),
  /** Retention of every CloudWatch log group, in days. @default 365 */
  logRetentionDays: inList(LOG_RETENTION_DAYS, `one of ${LOG_RETENTION_DAYS.join(", ")}`).default(365),

  network: z
    .strictObject({
      /** VPC address range, /16 to /20. */
      cidr: z
        .string({ error: "an IPv4 CIDR block from /16 to /20, e.g. 10.0.0.0/16" })
        .refine((v) => isCidr(v) && parseCidr(v).prefix >= 16 && parseCidr(v).prefix <= 20, {
          error: "an IPv4 CIDR block from /16 to /20, e.g. 10.0.0.0/16",
        })
        .default("10.0.0.0/16"),
      /** Availability zones, 2 to 6, all in the stack's region. @default the region's "a" and "b" zones */
      availabilityZones: z
        .array(matching(/^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/, "an availability zone name, e.g. eu-west-1a"), {
          error: "a list of 2 to 6 availability zones",
        })
        .min(2, { error: "a list of 2 to 6 availability zones" })
        .max(6, { error: "a list of 2 to 6 availability zones" })
        .optional(),
      /** "single": one NAT gateway for the VPC (cheap); "perAz": one per zone (survives a zone outage). */
      natGateways: oneOf(["single", "perAz"]).default("perAz"),
    })
    .prefault({}),

  postgres: z
    .strictObject({
      /** RDS instance identifier; a new one declares a new instance (see "Data tier" in README.md). @default "opsbook-<environment>" */
      identifier: matching(
        /^[a-z](?!.*--)[a-z0-9-]{0,61}[a-z0-9]$/,
        "an RDS instance identifier: 1-63 lower-case letters, digits and single hyphens, starting with a letter, not ending with '-'",
      ).optional(),
      /** Major version ("16") or an exact one ("16.4"). */
      engineVersion: matching(/^(1[6-9])(\.\d+)?$/, 'PostgreSQL 16 or later, e.g. "16" or "16.4"').default("16"),
      instanceClass: matching(/^db\.[a-z0-9]+\.[a-z0-9]+$/, "an RDS instance class, e.g. db.t4g.medium").default(
        "db.t4g.medium",
      ),
      allocatedStorageGb: int(20, 65536, " GB").default(20),
      /** Storage autoscaling ceiling. */
      maxAllocatedStorageGb: int(20, 65536, " GB").default(100),
      databaseName: matching(
        /^[a-z][a-z0-9_]{0,62}$/,
        "lower-case letters, digits and '_', starting with a letter",
      ).default("app"),
      masterUsername: matching(
        /^[a-z][a-z0-9_]{0,15}$/,
        "lower-case letters, digits and '_', starting with a letter, at most 16 characters",
      ).default("app_admin"),
      multiAz: bool().default(true),
      deletionProtection: bool().default(true),
      /** Days of automated backups (point-in-time recovery). */
      backupRetentionDays: int(1, 35, " days").default(RUNBOOK.backup.retentionDays),
      /** Start of the daily backup window, local to `timeZone`; the window lasts one hour. */
      backupWindowStart: hhmm.default(RUNBOOK.backup.dailyAt),
      /** Weekly maintenance window in UTC; must not overlap the backup window. */
      maintenanceWindow: weeklyWindow.default("sun:04:00-sun:05:00"),
      performanceInsightsRetentionDays: inList(
        [7, ...Array.from({ length: 23 }, (_, i) => 31 * (i + 1)), 731],
        "7, a multiple of 31 up to 713, or 731",
      ).default(7),
      monitoringIntervalSeconds: inList([1, 5, 10, 15, 30, 60], "one of 1, 5, 10, 15, 30, 60").default(60),
      /** `max_connections`; omitted, RDS derives it from the instance memory (needs a class listed in lib/instanceClasses.ts). */
      maxConnections: int(20, 262143).optional(),
      /** Application connection pool per task (DB_POOL_MIN / DB_POOL_MAX). */
      pool: z
        .strictObject({
          min: int(0, 1000).default(RUNBOOK.connectionPool.min),
          max: int(1, 1000).default(RUNBOOK.connectionPool.max),
        })
        .prefault({}),
      /** Statements slower than this are logged (`log_min_duration_statement`). */
      slowQueryMs: int(1, 60000, " ms").default(RUNBOOK.slowQueryMs),
      /** Create the database from a snapshot or from a point in time of another instance. */
      restore: z
        .union(
          [
            z.strictObject({ snapshotIdentifier: matching(/^[A-Za-z0-9:\-]+$/, "an RDS snapshot identifier or ARN") }),
            z.strictObject({
              sourceDbInstanceIdentifier: matching(/^[a-z][a-z0-9-]{0,62}$/, "an RDS instance identifier"),
              restoreTime: matching(
                /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
                "a UTC time, e.g. 2026-11-20T01:30:00Z",
              ).optional(),
            }),
          ],
          { error: "either { snapshotIdentifier } or { sourceDbInstanceIdentifier, restoreTime? }" },
        )
        .optional(),
    })
    .prefault({}),

  redis: z
    .strictObject({
      engine: oneOf(["redis", "valkey"]).default("redis"),
      /** major.minor: 7.0 or 7.1 for redis, 7.2 or later for valkey. */
      engineVersion: matching(/^\d+(\.\d+)?$/, 'a version, e.g. "7.1"').default("7.1"),
      nodeType: matching(/^cache\.[a-z0-9]+\.[a-z0-9]+$/, "an ElastiCache node type, e.g. cache.t4g.small").default(
        "cache.t4g.small",
      ),
      /** Primary plus replicas. */
      nodes: int(1, 6).default(2),
      multiAz: bool().default(true),
      snapshotRetentionDays: int(1, 35, " days").default(7),
      /** Start of the daily snapshot window, local to `timeZone`; the window lasts one hour. */
      snapshotWindowStart: hhmm.default("03:00"),
      maintenanceWindow: weeklyWindow.default("sun:05:00-sun:06:00"),
    })
    .prefault({}),

  healthCheck: z
    .strictObject({
      path: matching(/^\/[A-Za-z0-9_\-./]*$/, 'a path starting with "/"').default(RUNBOOK.healthCheck.path),
      intervalSeconds: int(5, 300, " s").default(RUNBOOK.healthCheck.intervalSeconds),
      timeoutSeconds: int(2, 120, " s").default(RUNBOOK.healthCheck.timeoutSeconds),
      healthyThreshold: int(2, 10).default(RUNBOOK.healthCheck.healthyThreshold),
      unhealthyThreshold: int(2, 10).default(RUNBOOK.healthCheck.unhealthyThreshold),
    })
    .prefault({}),

  services: z
    .array(serviceSchema, { error: "a list of services, each { name, image, tag, port, ... }" })
    .min(1, { error: "at least one service" }),

  /** Secrets generated for the app and injected into every service. */
  appSecrets: z
    .strictObject({
      names: z
        .array(matching(/^[A-Z_][A-Z0-9_]*$/, "an environment variable name in UPPER_SNAKE_CASE"), {
          error: "a list of names",
        })
        .default(["JWT_SECRET", "JWT_REFRESH_SECRET", "SESSION_SECRET", "ENCRYPTION_KEY"]),
      /** Characters per secret; the runbooks ask for at least 32. */
      length: int(32, 128).default(48),
      /** Change this value to rotate every generated secret on the next `pulumi up`. */
      rotation: matching(/^[A-Za-z0-9._-]{1,64}$/, 'a label such as "2026-Q4"').default("initial"),
    })
    .prefault({}),

  /** The one-off task that runs database migrations before services roll. */
  migrations: z
    .strictObject({
      service: matching(/^[a-z][a-z0-9-]{0,19}$/, "the name of a configured service").default("api"),
      command: z
        .array(z.string({ error: "a string" }), { error: "a list of strings" })
        .min(1, { error: "a non-empty list of strings" })
        .default(["npx", "prisma", "migrate", "deploy"]),
    })
    .prefault({}),

  /** The public application load balancer. */
  loadBalancer: z
    .strictObject({
      /** AWS refuses to delete the load balancer while this is on. */
      deletionProtection: bool().default(true),
      /** Seconds an idle connection stays open. */
      idleTimeoutSeconds: int(1, 4000, " s").default(60),
      /** Requests one client IP may make in 5 minutes before the WAF blocks it (runbook 002: rate limiting). */
      rateLimitPer5Minutes: int(100, 2000000000).default(2000),
      /** Days ALB access logs are kept. */
      accessLogRetentionDays: int(1, 3650, " days").default(90),
    })
    .prefault({}),

  /** TLS for the load balancer: an ACM certificate ARN, or a domain to request and validate in a Route 53 zone. */
  domain: z.strictObject(
    {
      name: matching(/^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/, "a DNS name, e.g. app.example.com").optional(),
      hostedZoneId: matching(/^Z[A-Z0-9]{1,31}$/, "a Route 53 hosted zone id, e.g. Z0123456789ABCDEFGHIJ").optional(),
      certificateArn: matching(
        /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/,
        "an ACM certificate ARN",
      ).optional(),
    },
    { error: "{ certificateArn } or { name, hostedZoneId }" },
  ),

  /** Where alarms go. */
  alerts: z
    .strictObject({
      emails: z.array(z.email({ error: "an e-mail address" }), { error: "a list of e-mail addresses" }).default([]),
      /** HTTPS endpoints of a paging service, subscribed to the critical topic. */
      httpsEndpoints: z
        .array(matching(/^https:\/\/\S+$/, "an https:// URL"), { error: "a list of https:// URLs" })
        .default([]),
    })
    .prefault({}),

  /** Alarm thresholds keyed by metric and severity; override one value and the rest keep the runbook's. */
  thresholds: z
    .strictObject({
      httpErrorRatePercent: thresholdPair("httpErrorRatePercent", 100),
      responseTimeP95Ms: thresholdPair("responseTimeP95Ms", 60000),
      cpuPercent: thresholdPair("cpuPercent", 100),
      memoryPercent: thresholdPair("memoryPercent", 100),
      diskPercent: thresholdPair("diskPercent", 100),
      dbConnectionsPercent: thresholdPair("dbConnectionsPercent", 100),
      cacheHitRatePercent: thresholdPair("cacheHitRatePercent", 100),
      slowQueriesPerMinute: thresholdPair("slowQueriesPerMinute", 100000),
      certificateDaysToExpiry: thresholdPair("certificateDaysToExpiry", 365),
    })
    .prefault({}),

  /**
   * Alarms on metrics the app publishes itself (runbook 000: event loop lag > 100 ms; 003: failed
   * background jobs), at a warning and a critical threshold like the built-in ones.
   */
  customAlarms: z
    .array(
      z.strictObject({
        name: matching(
          /^[a-z][a-z0-9-]{0,39}$/,
          "lower-case letters, digits and '-', starting with a letter, at most 40 characters",
        ),
        description: z
          .string({ error: "a sentence saying what broke and what to do" })
          .min(1, { error: "a sentence saying what broke and what to do" }),
        namespace: matching(/^[A-Za-z0-9./_#:-]{1,255}$/, "a CloudWatch namespace, e.g. Opsbook/App"),
        metricName: matching(/^[A-Za-z0-9./_#:-]{1,255}$/, "a CloudWatch metric name, e.g. EventLoopLagP99"),
        dimensions: z
          .record(z.string({ error: "a dimension name" }), z.string({ error: "a dimension value" }), {
            error: "a map of dimension name: value",
          })
          .default({}),
        statistic: matching(
          /^(Average|Sum|Minimum|Maximum|SampleCount|p\d{1,2}(\.\d+)?)$/,
          "Average, Sum, Minimum, Maximum, SampleCount or a percentile like p99",
        ).default("Average"),
        /** "above": higher is worse; "below": lower is worse. */
        direction: oneOf(["above", "below"]).default("above"),
        warning: num(-1e12, 1e12),
        critical: num(-1e12, 1e12),
        periodSeconds: inList([10, 30, 60, 300, 900, 3600], "one of 10, 30, 60, 300, 900, 3600").default(60),
        evaluationPeriods: int(1, 100).default(5),
      }),
      { error: "a list of { name, description, namespace, metricName, warning, critical, ... }" },
    )
    .default([]),

  /** What makes an ECS deployment roll itself back. */
  rollback: z
    .strictObject({
      unhealthyForMinutes: int(1, 60, " min").default(RUNBOOK.rollback.unhealthyForMinutes),
      errorRatePercent: num(0.1, 100, " %").default(RUNBOOK.rollback.errorRatePercent),
      errorRateForMinutes: int(1, 60, " min").default(RUNBOOK.rollback.errorRateForMinutes),
    })
    .prefault({}),

  backup: z.strictObject(
    {
      /** Image of the backup job (built from jobs/backup/Dockerfile), without the tag. */
      image: matching(
        /^[a-z0-9][a-z0-9._\-/:]*[a-z0-9]$/,
        "an image repository without a tag, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/opsbook/backup-job",
      ),
      tag: matching(
        /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/,
        "an image tag: letters, digits, '_', '.', '-', at most 128 characters",
      ),
      /** Time of the nightly pg_dump, local to `timeZone`. */
      dailyAt: hhmm.default(RUNBOOK.backup.dailyAt),
      /** Days dumps are kept in the backup bucket. */
      retentionDays: int(1, 3650, " days").default(RUNBOOK.backup.retentionDays),
      /** Alarm when the newest good backup is older than this. */
      rpoHours: int(1, 168, " h").default(RUNBOOK.backup.rpoHours),
      restoreDrillDay: oneOf(["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]).default(RUNBOOK.backup.restoreDrillDay),
      restoreDrillAt: hhmm.default(RUNBOOK.backup.restoreDrillAt),
      /** S3 Object Lock (governance mode) on dumps for the retention period: no one deletes them early by accident. */
      objectLock: bool().default(false),
      /** Region that receives copies of dumps and automated RDS backups. */
      drRegion: matching(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, "an AWS region, e.g. eu-central-1").optional(),
    },
    { error: "{ image, tag } of the backup job, and optionally dailyAt, retentionDays, rpoHours, ..." },
  ),
});

type Parsed = z.output<typeof schema>;

/** The validated stack config every component is built from. */
export type PlatformConfig = Omit<Parsed, "network"> & {
  /** The Pulumi stack name. */
  stack: string;
  /** `aws:region`. */
  region: string;
  network: Omit<Parsed["network"], "availabilityZones"> & { availabilityZones: string[] };
  postgres: Omit<Parsed["postgres"], "identifier"> & { identifier: string };
};
export type ThresholdMetric = keyof PlatformConfig["thresholds"];

// ---- errors ----

/** One bad key: what was given, what is allowed, and the command that fixes it. */
export interface ConfigProblem {
  /** Full key path as `pulumi config` shows it, e.g. `opsbook:postgres.backupRetentionDays`. */
  key: string;
  /** The value given, or undefined when the key is missing. */
  value: unknown;
  /** What is allowed, or what is wrong. */
  allowed: string;
  /** A command that fixes it. */
  fix: string;
}

export class ConfigError extends Error {
  constructor(
    readonly stack: string,
    readonly problems: ConfigProblem[],
  ) {
    super(formatProblems(stack, problems));
    this.name = "ConfigError";
  }
}

function formatProblems(stack: string, problems: ConfigProblem[]): string {
  const lines = [
    `Stack "${stack}" has ${problems.length} config problem${problems.length === 1 ? "" : "s"}; nothing was declared. Edit Pulumi.${stack}.yaml or run the fix shown:`,
  ];
  for (const p of problems) {
    lines.push(`  - ${p.key}: ${p.value === undefined ? "missing" : `got ${JSON.stringify(p.value)}`}`);
    lines.push(`      allowed: ${p.allowed}`);
    lines.push(`      fix:     ${p.fix}`);
  }
  return lines.join("\n");
}

function pathKey(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`)).join("");
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

function quote(v: unknown): string {
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function setFix(stack: string, path: readonly PropertyKey[], value: unknown): string {
  const flag = path.length > 1 ? "--path " : "";
  return `pulumi config set ${flag}${quote(`${PROJECT}:${pathKey(path)}`)} ${value === undefined ? "<value>" : quote(value)} --stack ${stack}`;
}

function rmFix(stack: string, path: readonly PropertyKey[]): string {
  const flag = path.length > 1 ? "--path " : "";
  return `pulumi config rm ${flag}${quote(`${PROJECT}:${pathKey(path)}`)} --stack ${stack}`;
}

/** Closest known name within two edits, for "did you mean". */
function closest(name: string, known: readonly string[]): string | undefined {
  const distance = (a: string, b: string): number => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0]![j] = j;
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++)
        d[i]![j] = Math.min(
          d[i - 1]![j]! + 1,
          d[i]![j - 1]! + 1,
          d[i - 1]![j - 1]! + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1),
        );
    return d[a.length]![b.length]!;
  };
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const dist = distance(name, k);
    if (dist < bestD) [best, bestD] = [k, dist];
  }
  return best;
}

/** The keys an object schema at `path` accepts, for "did you mean". */
function knownKeysAt(path: readonly PropertyKey[]): string[] {
  let s: z.ZodType = schema;
  for (const p of path) {
    s = unwrap(s);
    if (s instanceof z.ZodObject) s = (s.shape as Record<string, z.ZodType>)[String(p)] ?? z.never();
    else if (s instanceof z.ZodArray) s = s.element as z.ZodType;
    else if (s instanceof z.ZodRecord) s = s.valueType as z.ZodType;
    else return [];
  }
  s = unwrap(s);
  return s instanceof z.ZodObject ? Object.keys(s.shape) : [];
}

function unwrap(s: z.ZodType): z.ZodType {
  let cur: z.ZodType = s;
  for (;;) {
    if (cur instanceof z.ZodOptional || cur instanceof z.ZodDefault || cur instanceof z.ZodPrefault)
      cur = cur.unwrap() as z.ZodType;
    else if (cur instanceof z.ZodPipe) cur = cur.in as z.ZodType;
    else return cur;
  }
}

/** The default at `path`, when the schema has one, to suggest in a fix. */
function defaultAt(path: readonly PropertyKey[]): unknown {
  const objectPath = path.filter((p) => typeof p === "string");
  if (objectPath.length !== path.length) return undefined;
  const probe = schema.shape;
  const top = probe[objectPath[0] as keyof typeof probe] as z.ZodType | undefined;
  if (!top) return undefined;
  const parsed = top.safeParse(undefined);
  return parsed.success ? valueAt(parsed.data, objectPath.slice(1)) : undefined;
}

// ---- parsing ----

/**
 * Validates a stack's raw config and applies the runbook defaults. Pure: `raw` maps full keys
 * (`opsbook:postgres`, `aws:region`) to the strings Pulumi hands a program (JSON for objects).
 * Throws `ConfigError` listing every problem.
 */
export function parseConfig(stack: string, raw: Record<string, string>): PlatformConfig {
  const problems: ConfigProblem[] = [];
  const own: Record<string, unknown> = {};

  for (const [fullKey, text] of Object.entries(raw)) {
    const [ns, key] = fullKey.includes(":")
      ? [fullKey.slice(0, fullKey.indexOf(":")), fullKey.slice(fullKey.indexOf(":") + 1)]
      : [PROJECT, fullKey];
    if (ns === PROJECT) own[key] = parseValue(text);
    else if (!OTHER_NAMESPACES.includes(ns)) {
      const suggestion = closest(ns, [PROJECT, ...OTHER_NAMESPACES]);
      problems.push({
        key: fullKey,
        value: parseValue(text),
        allowed: `keys in the namespaces ${[PROJECT, ...OTHER_NAMESPACES].join(", ")}${suggestion ? `; did you mean "${suggestion}:${key}"?` : ""}`,
        fix: `pulumi config rm ${quote(fullKey)} --stack ${stack}`,
      });
    }
  }

  const region = raw["aws:region"];
  if (region === undefined || !/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(region)) {
    problems.push({
      key: "aws:region",
      value: region,
      allowed: "an AWS region, e.g. eu-west-1",
      fix: `pulumi config set aws:region eu-west-1 --stack ${stack}`,
    });
  }

  const result = schema.safeParse(own);
  if (result.success) problems.push(...crossChecks(stack, result.data, region ?? ""));
  else problems.push(...result.error.issues.flatMap((issue) => toProblems(stack, own, issue)));

  if (problems.length > 0 || !result.success) throw new ConfigError(stack, problems);
  const data = result.data;
  return {
    ...data,
    stack,
    region: region!,
    network: { ...data.network, availabilityZones: data.network.availabilityZones ?? [`${region}a`, `${region}b`] },
    postgres: { ...data.postgres, identifier: postgresIdentifier(data) },
  };
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function toProblems(stack: string, own: Record<string, unknown>, issue: z.core.$ZodIssue): ConfigProblem[] {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((k) => {
      const path = [...issue.path, k];
      const suggestion = closest(k, knownKeysAt(issue.path));
      return {
        key: `${PROJECT}:${pathKey(path)}`,
        value: valueAt(own, path),
        allowed: `no such key${suggestion ? `; did you mean "${suggestion}"?` : ""} Known keys here: ${knownKeysAt(issue.path).join(", ")}`,
        fix: rmFix(stack, path),
      };
    });
  }
  if (issue.code === "invalid_union") {
    // A union reports each branch; the schema's own message says which shapes are allowed.
    return [
      {
        key: `${PROJECT}:${pathKey(issue.path)}`,
        value: valueAt(own, issue.path),
        allowed: issue.message,
        fix: setFix(stack, issue.path, undefined),
      },
    ];
  }
  const value = valueAt(own, issue.path);
  return [
    {
      key: `${PROJECT}:${pathKey(issue.path)}`,
      value,
      allowed: issue.message,
      fix: setFix(stack, issue.path, defaultAt(issue.path)),
    },
  ];
}

/** Rules that span several keys; each problem names the key to change. */
function crossChecks(stack: string, c: Parsed, region: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (path: PropertyKey[], value: unknown, allowed: string, fixValue?: unknown) =>
    problems.push({ key: `${PROJECT}:${pathKey(path)}`, value, allowed, fix: setFix(stack, path, fixValue) });

  const zones = c.network.availabilityZones;
  if (zones) {
    zones.forEach((zone, i) => {
      if (region && !zone.startsWith(region))
        add(
          ["network", "availabilityZones", i],
          zone,
          `a zone of the stack's region ${region}, e.g. ${region}a`,
          `${region}${"abcdef"[i]}`,
        );
    });
    if (new Set(zones).size !== zones.length)
      add(["network", "availabilityZones"], zones, "distinct availability zones");
  }

  const pg = c.postgres;
  if (pg.maxAllocatedStorageGb < pg.allocatedStorageGb) {
    add(
      ["postgres", "maxAllocatedStorageGb"],
      pg.maxAllocatedStorageGb,
      `at least allocatedStorageGb (${pg.allocatedStorageGb})`,
      pg.allocatedStorageGb * 5,
    );
  }
  if (pg.pool.min > pg.pool.max)
    add(
      ["postgres", "pool", "min"],
      pg.pool.min,
      `at most pool.max (${pg.pool.max})`,
      Math.min(RUNBOOK.connectionPool.min, pg.pool.max),
    );
  if (pg.maxConnections === undefined && instanceClassMemoryBytes(pg.instanceClass) === undefined) {
    add(["postgres", "maxConnections"], undefined, `a number: ${unknownClassMessage(pg.instanceClass)}`);
  }
  if (
    pg.restore &&
    "sourceDbInstanceIdentifier" in pg.restore &&
    pg.restore.sourceDbInstanceIdentifier === postgresIdentifier(c)
  ) {
    add(
      ["postgres", "identifier"],
      postgresIdentifier(c),
      `an identifier other than the restore's source "${pg.restore.sourceDbInstanceIdentifier}": a point-in-time restore creates a new instance`,
      `${pg.restore.sourceDbInstanceIdentifier}-2`,
    );
  }
  const pgBackup = localToUtcMinutes(pg.backupWindowStart, c.timeZone);
  if (dailyOverlapsWeekly(pgBackup, 60, parseWeeklyWindow(pg.maintenanceWindow))) {
    add(
      ["postgres", "maintenanceWindow"],
      pg.maintenanceWindow,
      `a window that does not overlap the daily backup window (${pg.backupWindowStart} ${c.timeZone}, one hour)`,
    );
  }

  const rd = c.redis;
  const engineProblem = cacheEngineProblem(rd.engine, rd.engineVersion);
  if (engineProblem)
    add(["redis", "engineVersion"], rd.engineVersion, engineProblem, rd.engine === "redis" ? "7.1" : undefined);
  if (rd.multiAz && rd.nodes < 2)
    add(
      ["redis", "nodes"],
      rd.nodes,
      "at least 2 when redis.multiAz is true (a primary and a replica in another zone)",
      2,
    );
  const rdSnapshot = localToUtcMinutes(rd.snapshotWindowStart, c.timeZone);
  if (dailyOverlapsWeekly(rdSnapshot, 60, parseWeeklyWindow(rd.maintenanceWindow))) {
    add(
      ["redis", "maintenanceWindow"],
      rd.maintenanceWindow,
      `a window that does not overlap the daily snapshot window (${rd.snapshotWindowStart} ${c.timeZone}, one hour)`,
    );
  }

  const hc = c.healthCheck;
  if (hc.timeoutSeconds >= hc.intervalSeconds)
    add(
      ["healthCheck", "timeoutSeconds"],
      hc.timeoutSeconds,
      `less than healthCheck.intervalSeconds (${hc.intervalSeconds})`,
      RUNBOOK.healthCheck.timeoutSeconds,
    );

  const names = new Set<string>();
  const routes = new Map<string, string>();
  const ports = new Map<number, string>();
  let defaults = 0;
  c.services.forEach((s, i) => {
    const at = (k: string): PropertyKey[] => ["services", i, k];
    if (names.has(s.name)) add(at("name"), s.name, "a name no other service has");
    names.add(s.name);
    if (!isFargateSize(s.cpu, s.memory))
      add(
        at("memory"),
        s.memory,
        `with cpu ${s.cpu}: ${describeFargateMemory(s.cpu)} MiB`,
        fargateMemoryChoices(s.cpu)[0],
      );
    if (s.minCount > s.maxCount) add(at("minCount"), s.minCount, `at most maxCount (${s.maxCount})`);
    else if (s.desiredCount < s.minCount || s.desiredCount > s.maxCount)
      add(
        at("desiredCount"),
        s.desiredCount,
        `between minCount (${s.minCount}) and maxCount (${s.maxCount})`,
        s.minCount,
      );
    if (s.port === undefined) {
      if (s.paths.length > 0)
        add(at("paths"), s.paths, "no paths for a service without a port (a worker gets no traffic)");
      if (s.hosts.length > 0)
        add(at("hosts"), s.hosts, "no hosts for a service without a port (a worker gets no traffic)");
      return;
    }
    // The load balancer reaches every service through one app security group: two services on
    // one port would need the same rule twice, which AWS refuses.
    const portOwner = ports.get(s.port);
    if (portOwner) add(at("port"), s.port, `a port no other service uses (${s.port} is ${portOwner}'s)`);
    ports.set(s.port, s.name);
    if (s.paths.length === 0 && s.hosts.length === 0) defaults++;
    if (s.paths.length + s.hosts.length > 5)
      add(
        at("paths"),
        s.paths,
        `at most 5 paths and hosts together (a load balancer rule takes 5 values); ${s.hosts.length} hosts given`,
      );
    // A route is a host (or any host) with a path (or any path); two services may not claim one.
    for (const host of s.hosts.length > 0 ? s.hosts : ["*"]) {
      for (const path of s.paths.length > 0 ? s.paths : ["*"]) {
        if (host === "*" && path === "*") continue;
        const route = `${host} ${path}`;
        const other = routes.get(route);
        if (other)
          add(
            at(s.paths.length > 0 ? "paths" : "hosts"),
            s.paths.length > 0 ? s.paths : s.hosts,
            `routes no other service claims ("${s.hosts.length > 0 ? `${host}` : ""}${path === "*" ? "" : path}" already goes to ${other})`,
          );
        routes.set(route, s.name);
      }
    }
  });
  const served = c.services.filter((s) => s.port !== undefined);
  if (served.length > 0 && defaults !== 1) {
    add(
      ["services"],
      c.services.map((s) => s.name),
      `exactly one service with a port and neither paths nor hosts (the load balancer's default); found ${defaults}`,
    );
  }
  if (!names.has(c.migrations.service))
    add(
      ["migrations", "service"],
      c.migrations.service,
      `one of the configured services: ${[...names].join(", ")}`,
      c.services[0]?.name,
    );

  if (!c.domain.certificateArn && !(c.domain.name && c.domain.hostedZoneId)) {
    add(
      ["domain"],
      c.domain,
      "{ certificateArn } of an ACM certificate, or { name, hostedZoneId } to request one validated by DNS",
    );
  }

  for (const [metric, pair] of Object.entries(c.thresholds) as [
    ThresholdMetric,
    { warning: number; critical: number },
  ][]) {
    const lower = LOWER_IS_WORSE.has(metric);
    const ordered = lower ? pair.critical < pair.warning : pair.critical > pair.warning;
    if (!ordered) {
      add(
        ["thresholds", metric, "critical"],
        pair.critical,
        `${lower ? "below" : "above"} the warning threshold (${pair.warning}): ${lower ? "lower" : "higher"} values are worse for ${metric}`,
      );
    }
  }
  const alarmNames = new Set<string>();
  c.customAlarms.forEach((a, i) => {
    if (alarmNames.has(a.name)) add(["customAlarms", i, "name"], a.name, "a name no other custom alarm has");
    alarmNames.add(a.name);
    const ordered = a.direction === "above" ? a.critical > a.warning : a.critical < a.warning;
    if (!ordered)
      add(
        ["customAlarms", i, "critical"],
        a.critical,
        `${a.direction} the warning threshold (${a.warning}), since direction is "${a.direction}"`,
      );
    // CloudWatch evaluates at most one day of periods shorter than an hour, and seven days of longer ones.
    const limit = a.periodSeconds < 3600 ? 86400 : 7 * 86400;
    if (a.periodSeconds * a.evaluationPeriods > limit) {
      add(
        ["customAlarms", i, "evaluationPeriods"],
        a.evaluationPeriods,
        `at most ${Math.floor(limit / a.periodSeconds)} with periodSeconds ${a.periodSeconds} (CloudWatch evaluates at most ${limit / 86400} day${limit > 86400 ? "s" : ""})`,
        Math.floor(limit / a.periodSeconds),
      );
    }
  });
  if (c.backup.retentionDays < pg.backupRetentionDays) {
    add(
      ["backup", "retentionDays"],
      c.backup.retentionDays,
      `at least postgres.backupRetentionDays (${pg.backupRetentionDays}), so dumps outlive point-in-time recovery`,
      pg.backupRetentionDays,
    );
  }
  if (c.backup.drRegion && c.backup.drRegion === region)
    add(["backup", "drRegion"], c.backup.drRegion, `a region other than the stack's own (${region})`);
  return problems;
}

/** The RDS identifier of the stack's database: configured, or derived from the environment. */
function postgresIdentifier(c: Parsed): string {
  return c.postgres.identifier ?? `${PROJECT}-${c.environment}`;
}

/**
 * Reads the running stack's config. The only place that touches Pulumi config: components get
 * values from the result.
 */
export function loadConfig(): PlatformConfig {
  return parseConfig(pulumi.getStack(), pulumi.runtime.allConfig());
}
