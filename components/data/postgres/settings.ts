/**
 * `opsbook:postgres`: the database's settings, their defaults and the rules between them. The
 * Postgres component takes the parsed result as its arguments, so every rule here is checked once,
 * before anything is declared.
 */
import { z } from "zod";
import { instanceClassMemoryBytes, unknownClassMessage } from "../../../lib/instanceClasses";
import { dailyHourOverlaps } from "../../../lib/time";
import { partitionOfRegion } from "../../../lib/partition";
import { DATABASE_ROLE_PURPOSES, type DatabaseRolePurpose } from "../../../lib/databaseRoles";
import { type Report, bool, hhmm, inList, int, matching, report, weeklyWindow, ON_VALID } from "../../../lib/schema";

/** The application's connection pool per task (R-db-pool). */
const POOL = { min: 5, max: 20 };

/** Read replicas a stack may declare: RDS allows 15 per PostgreSQL instance; more is a different design. */
export const MAX_READ_REPLICAS = 5;

/** A replica's identifier is the instance's with this suffix and its number (1 to 5). */
export function replicaIdentifier(identifier: string, n: number): string {
  return `${identifier}-replica-${n}`;
}
const REPLICA_SUFFIX_LENGTH = "-replica-1".length;

/** The proxy's name is the instance's with this suffix (R-db-proxy); RDS allows 60 characters. */
export function proxyName(identifier: string): string {
  return `${identifier}-proxy`;
}
const PROXY_NAME_MAX = 60;

/** RDS instance identifiers: 1-63 lower-case letters, digits and single hyphens, not ending with one. */
export const RDS_IDENTIFIER = /^[a-z](?!.*--)[a-z0-9-]{0,61}[a-z0-9]$/;

/** The retention periods Performance Insights accepts: 7 days, a multiple of 31 up to 713, or 731. */
export const PERFORMANCE_INSIGHTS_RETENTION_DAYS = [7, ...Array.from({ length: 23 }, (_, i) => 31 * (i + 1)), 731];

/**
 * An RDS ARN of `kind` (`snapshot`, `auto-backup`): `arn:<partition>:rds:<region>:<account>:<kind>:<id>`.
 * The stack rules check its partition and region against the stack's (R-backup-dr).
 */
const rdsArn = (kind: string) =>
  new RegExp(
    `^arn:(aws|aws-us-gov|aws-cn):rds:([a-z]{2}(?:-[a-z]+)+-\\d{1,2}):(\\d{12}):${kind}:[A-Za-z0-9:-]{1,255}$`,
  );
export const SNAPSHOT_ARN = rdsArn("snapshot");
export const AUTOMATED_BACKUP_ARN = rdsArn("auto-backup");
const UTC_TIME = matching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, "a UTC time, e.g. 2026-11-20T01:30:00Z");

const restore = z
  .union(
    [
      z.strictObject({
        snapshotIdentifier: z.union(
          [
            matching(/^(rds:)?[A-Za-z][A-Za-z0-9-]{0,254}$/, "a snapshot identifier"),
            matching(SNAPSHOT_ARN, "arn:<partition>:rds:<region>:<account>:snapshot:<id>"),
          ],
          {
            error:
              "an RDS snapshot identifier, or the ARN of a snapshot (arn:<partition>:rds:<region>:<12-digit account>:snapshot:<id>)",
          },
        ),
      }),
      z.strictObject({
        sourceDbInstanceIdentifier: matching(/^[a-z][a-z0-9-]{0,62}$/, "an RDS instance identifier"),
        restoreTime: UTC_TIME.optional(),
      }),
      z.strictObject({
        sourceDbInstanceAutomatedBackupsArn: matching(
          AUTOMATED_BACKUP_ARN,
          "the ARN of replicated automated backups: arn:<partition>:rds:<region>:<12-digit account>:auto-backup:ab-<id>",
        ),
        restoreTime: UTC_TIME.optional(),
      }),
    ],
    {
      error:
        "one of { snapshotIdentifier }, { sourceDbInstanceIdentifier, restoreTime? } or { sourceDbInstanceAutomatedBackupsArn, restoreTime? }",
    },
  )
  .optional()
  .describe(
    "create the database from a snapshot (identifier or ARN), a point in time of another instance, or of its replicated automated backups (a disaster-recovery region's ARN); read only when the instance is created",
  );

/** Create the database from a snapshot or from a point in time of another instance (only when it is created). */
export type PostgresRestore = z.output<typeof restore>;

export const postgresSettings = z
  .strictObject({
    identifier: matching(
      RDS_IDENTIFIER,
      "an RDS instance identifier: 1-63 lower-case letters, digits and single hyphens, starting with a letter, not ending with '-'",
    )
      .optional()
      .describe(
        "RDS instance identifier (default `opsbook-<environment>`); a new one declares a new instance, see the Data tier section",
      ),
    engineVersion: matching(/^(1[6-9])(\.\d+)?$/, 'PostgreSQL 16 or later, e.g. "16" or "16.4"')
      .default("16")
      .describe("major (`16`) or exact (`16.4`) version; the parameter group family follows the major (R-db-version)"),
    instanceClass: matching(/^db\.[a-z0-9]+\.[a-z0-9]+$/, "an RDS instance class, e.g. db.t4g.medium")
      .default("db.t4g.medium")
      .describe("RDS instance class"),
    allocatedStorageGb: int(20, 65536, " GB").default(20).describe("gp3 storage at creation"),
    maxAllocatedStorageGb: int(20, 65536, " GB").default(100).describe("storage autoscaling ceiling"),
    databaseName: matching(/^[a-z][a-z0-9_]{0,62}$/, "lower-case letters, digits and '_', starting with a letter")
      .default("app")
      .describe("database created with the instance; fixed at creation (a restore keeps its source's)"),
    masterUsername: matching(
      /^[a-z][a-z0-9_]{0,15}$/,
      "lower-case letters, digits and '_', starting with a letter, at most 16 characters",
    )
      .default("app_admin")
      .describe("master user, its password in a Secrets Manager secret RDS manages; fixed at creation"),
    roleRotation: z
      .strictObject(
        Object.fromEntries(
          DATABASE_ROLE_PURPOSES.map((purpose) => [
            purpose,
            int(0, 1_000_000)
              .default(0)
              .describe(
                `rotation generation of the ${purpose} role: one more gives its other login role a new password and moves the tasks to it, while the current one keeps working until the next rotation (R-db-role-rotation)`,
              ),
          ]),
        ) as Record<DatabaseRolePurpose, z.ZodDefault<ReturnType<typeof int>>>,
      )
      .prefault({})
      .describe("the database roles' rotation generations, by purpose (R-db-roles)"),
    multiAz: bool().default(true).describe("a standby in a second zone with automatic failover"),
    deletionProtection: bool().default(true).describe("RDS refuses to delete the instance while this is on"),
    backupRetentionDays: int(1, 35, " days")
      .default(30)
      .describe("days of automated backups: the point-in-time recovery horizon (R-backup-retention)"),
    backupWindowStart: hhmm
      .default("02:00")
      .describe("start of the daily one-hour backup window, local to `timeZone` (R-backup-window)"),
    maintenanceWindow: weeklyWindow
      .default("sun:04:00-sun:05:00")
      .describe("weekly maintenance window in UTC; must not overlap the backup window"),
    performanceInsightsRetentionDays: inList(
      PERFORMANCE_INSIGHTS_RETENTION_DAYS,
      "7, a multiple of 31 up to 713, or 731",
    )
      .default(7)
      .describe("days Performance Insights keeps its data"),
    monitoringIntervalSeconds: inList([1, 5, 10, 15, 30, 60])
      .default(60)
      .describe("seconds between enhanced monitoring samples"),
    maxConnections: int(20, 262143)
      .optional()
      .describe(
        "`max_connections`; omitted, RDS's formula from the class's memory (a class in lib/instanceClasses.ts)",
      ),
    pool: z
      .strictObject({
        min: int(0, 1000).default(POOL.min).describe("DB_POOL_MIN per task (R-db-pool)"),
        max: int(1, 1000).default(POOL.max).describe("DB_POOL_MAX per task (R-db-pool)"),
      })
      .prefault({})
      .describe("the application's connection pool per task"),
    readReplicas: z
      .strictObject({
        count: int(0, MAX_READ_REPLICAS)
          .default(0)
          .describe(
            "read replicas of the instance, each in its own zone; services then get DB_READ_HOST (R-db-read-replicas)",
          ),
        instanceClass: matching(/^db\.[a-z0-9]+\.[a-z0-9]+$/, "an RDS instance class, e.g. db.r6g.large")
          .optional()
          .describe("class of each replica (default: instanceClass); at least the instance's memory"),
      })
      .prefault({})
      .describe("read replicas for read scaling (runbook 001, horizontal scaling)"),
    proxy: z
      .strictObject({
        enabled: bool()
          .default(false)
          .describe(
            "an RDS Proxy in front of the instance: services that use the database get its endpoint as DB_HOST and in DATABASE_URL (R-db-proxy)",
          ),
        idleClientTimeoutSeconds: int(1, 28800, " s")
          .default(1800)
          .describe("seconds the proxy keeps an idle client connection open"),
        maxConnectionsPercent: int(1, 100, " %")
          .default(90)
          .describe(
            "share of max_connections the proxy may open; the rest stays for the migration, backup and admin sessions",
          ),
        maxIdleConnectionsPercent: int(0, 100, " %")
          .default(50)
          .describe("share of max_connections the proxy keeps open while idle; at most maxConnectionsPercent"),
        connectionBorrowTimeoutSeconds: int(0, 3600, " s")
          .default(120)
          .describe("seconds a client waits for a pooled connection before the proxy returns an error"),
      })
      .prefault({})
      .describe("connection pooling for many tasks (runbook 003, R-db-pool-budget)"),
    slowQueryMs: int(1, 60000, " ms")
      .default(100)
      .describe("statements slower than this are logged, `log_min_duration_statement` (R-alert-slow-queries)"),
    restore,
  })
  .superRefine((pg, ctx) => {
    if (pg.maxAllocatedStorageGb < pg.allocatedStorageGb) {
      report(
        ctx,
        ["maxAllocatedStorageGb"],
        pg.maxAllocatedStorageGb,
        `at least allocatedStorageGb (${pg.allocatedStorageGb})`,
        pg.allocatedStorageGb * 5,
      );
    }
    if (pg.pool.min > pg.pool.max) {
      report(ctx, ["pool", "min"], pg.pool.min, `at most pool.max (${pg.pool.max})`, Math.min(POOL.min, pg.pool.max));
    }
    if (pg.proxy.maxIdleConnectionsPercent > pg.proxy.maxConnectionsPercent) {
      report(
        ctx,
        ["proxy", "maxIdleConnectionsPercent"],
        pg.proxy.maxIdleConnectionsPercent,
        `at most proxy.maxConnectionsPercent (${pg.proxy.maxConnectionsPercent}): RDS refuses more idle connections than connections`,
        pg.proxy.maxConnectionsPercent,
      );
    }
    const replicaClass = pg.readReplicas.instanceClass;
    if (pg.readReplicas.count > 0 && replicaClass !== undefined) {
      // A hot standby refuses to start with a lower max_connections than its primary's, and
      // without maxConnections the shared parameter group takes it from each class's memory.
      const memory = instanceClassMemoryBytes(replicaClass);
      const primary = instanceClassMemoryBytes(pg.instanceClass);
      if (memory === undefined && pg.maxConnections === undefined) {
        report(ctx, ["readReplicas", "instanceClass"], replicaClass, unknownClassMessage(replicaClass));
      } else if (pg.maxConnections === undefined && memory !== undefined && primary !== undefined && memory < primary) {
        report(
          ctx,
          ["readReplicas", "instanceClass"],
          replicaClass,
          `a class with at least the memory of instanceClass (${pg.instanceClass}): a replica's max_connections, from its memory, may not be lower than its source's; or set maxConnections`,
          pg.instanceClass,
        );
      }
    }
    if (pg.maxConnections === undefined && instanceClassMemoryBytes(pg.instanceClass) === undefined) {
      report(ctx, ["maxConnections"], undefined, `a number: ${unknownClassMessage(pg.instanceClass)}`);
    }
  }, ON_VALID)
  .prefault({})
  .describe("the RDS PostgreSQL instance");

export type PostgresSettings = z.output<typeof postgresSettings>;

/**
 * Rules that need values from outside `opsbook:postgres`: the stack's time zone and the identifier
 * the stack gives the instance. Paths are relative to `opsbook:postgres`.
 */
export function postgresStackRules(
  pg: PostgresSettings,
  stack: { timeZone: string; identifier: string; region: string; zones: number },
  add: Report,
) {
  // R-db-read-replicas: "<identifier>-replica-<n>" must stay an RDS identifier (63 characters).
  if (pg.readReplicas.count > 0 && stack.identifier.length + REPLICA_SUFFIX_LENGTH > 63) {
    add(
      ["identifier"],
      stack.identifier,
      `at most ${63 - REPLICA_SUFFIX_LENGTH} characters with read replicas: theirs are "<identifier>-replica-<n>"`,
    );
  }
  // R-db-proxy: "<identifier>-proxy" must stay a proxy name (60 characters).
  if (pg.proxy.enabled && proxyName(stack.identifier).length > PROXY_NAME_MAX) {
    add(
      ["identifier"],
      stack.identifier,
      `at most ${PROXY_NAME_MAX - proxyName("").length} characters with the proxy: its name is "<identifier>-proxy", at most ${PROXY_NAME_MAX}`,
    );
  }
  // R-db-read-replicas: each replica in a zone of its own, of the network's zones.
  if (pg.readReplicas.count > stack.zones) {
    add(
      ["readReplicas", "count"],
      pg.readReplicas.count,
      `at most the network's ${stack.zones} availability zones, one replica per zone`,
      stack.zones,
    );
  }
  // R-backup-dr: RDS restores only from a snapshot or automated backups in the region it creates
  // the instance in, so a disaster-recovery restore runs as a stack in the DR region.
  const arn =
    pg.restore && "sourceDbInstanceAutomatedBackupsArn" in pg.restore
      ? { key: "sourceDbInstanceAutomatedBackupsArn", value: pg.restore.sourceDbInstanceAutomatedBackupsArn }
      : pg.restore && "snapshotIdentifier" in pg.restore && pg.restore.snapshotIdentifier.startsWith("arn:")
        ? { key: "snapshotIdentifier", value: pg.restore.snapshotIdentifier }
        : undefined;
  if (arn) {
    const [, partition, , region] = arn.value.split(":");
    const expected = partitionOfRegion(stack.region);
    if (partition !== expected || region !== stack.region) {
      add(
        ["restore", arn.key],
        arn.value,
        `an ARN in the stack's partition and region (arn:${expected}:rds:${stack.region}:...): RDS restores only where the backup is; run the restore as a stack in ${region} (aws:region ${region})`,
      );
    }
  }
  if (
    pg.restore &&
    "sourceDbInstanceIdentifier" in pg.restore &&
    pg.restore.sourceDbInstanceIdentifier === stack.identifier
  ) {
    add(
      ["identifier"],
      stack.identifier,
      `an identifier other than the restore's source "${pg.restore.sourceDbInstanceIdentifier}": a point-in-time restore creates a new instance`,
      `${pg.restore.sourceDbInstanceIdentifier}-2`,
    );
  }
  if (dailyHourOverlaps(pg.backupWindowStart, stack.timeZone, pg.maintenanceWindow)) {
    add(
      ["maintenanceWindow"],
      pg.maintenanceWindow,
      `a window that does not overlap the daily backup window (${pg.backupWindowStart} ${stack.timeZone}, one hour)`,
    );
  }
}
