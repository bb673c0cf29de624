/** `opsbook:backup`: the nightly dump job, its schedule, retention and restore drill. */
import { z } from "zod";
import { DEFAULT_SLOW_STATEMENTS, RTO } from "../../lib/backupContract";
import { postgresMajor } from "../../lib/engines";
import { dailyHourOverlaps, parseHhmm, rpoAlarmHours } from "../../lib/time";
import {
  bool,
  hhmm,
  imageRepository,
  imageTag,
  int,
  matching,
  oneOf,
  ON_VALID,
  REGION,
  report,
  type Report,
} from "../../lib/schema";

/** The days a weekly task may run on, as EventBridge Scheduler's cron expressions name them. */
export const WEEKDAYS = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export const backupSettings = z
  .strictObject(
    {
      image: imageRepository("123456789012.dkr.ecr.eu-west-1.amazonaws.com/opsbook/backup-job")
        .optional()
        .describe(
          "the backup job's image (built from jobs/backup/Dockerfile), without the tag; default the stack's backup-job ECR repository (stack output `repositoryUrls`)",
        ),
      tag: imageTag.describe("the backup job's image tag"),
      clientMajor: int(16, 99)
        .default(16)
        .describe(
          "PostgreSQL client major in that image (its `--build-arg PG_MAJOR`); must equal postgres.engineVersion's major",
        ),
      dailyAt: hhmm.default("02:00").describe("time of the nightly pg_dump, local to `timeZone` (R-backup-window)"),
      retentionDays: int(1, 3650, " days")
        .default(30)
        .describe("days dumps are kept in the backup bucket (R-backup-retention)"),
      rpoHours: int(1, 168, " h")
        .default(24)
        .describe(
          "the RPO: alarm when the newest good backup is older than this, or than the schedule's longest gap, plus maxRunMinutes (R-backup-rpo)",
        ),
      maxRunMinutes: int(5, 1440, " min")
        .default(120)
        .describe("longest a nightly dump may take; the RPO alarm allows for it before calling a backup late"),
      restoreDrillDay: oneOf(WEEKDAYS)
        .default("SUN")
        .describe("day of the weekly restore drill (R-backup-restore-test)"),
      restoreDrillAt: hhmm
        .default("06:00")
        .describe("time of the drill, local to `timeZone`; after the default Sunday maintenance windows"),
      drillInstanceClass: matching(/^db\.[a-z0-9]+\.[a-z0-9]+$/, "an RDS instance class, e.g. db.t4g.medium")
        .default("db.t4g.medium")
        .describe(
          "class of the drill's temporary RDS instance; it copies the database's engine version, parameter group, key and subnets (R-backup-restore-test)",
        ),
      rtoHours: int(1, RTO.maxHours, " h")
        .default(RTO.defaultHours)
        .describe("the RTO: a drill whose time to recover, instance creation included, is longer fails (R-backup-rto)"),
      objectLock: bool().default(false).describe("S3 Object Lock (governance mode) on dumps for the retention period"),
      drRegion: matching(REGION, "an AWS region, e.g. eu-central-1")
        .optional()
        .describe("a second region that receives copies of the dumps and the automated RDS backups"),
    },
    { error: "{ tag } of the backup job's image, and optionally image, dailyAt, retentionDays, rpoHours, ..." },
  )
  .describe("database dumps to S3 and the weekly restore drill");

export type BackupSettings = z.output<typeof backupSettings>;

/** Rules against the database's settings and the stack's region. Paths are relative to `opsbook:backup`. */
export function backupStackRules(
  backup: BackupSettings,
  stack: {
    region: string;
    pointInTimeDays: number;
    timeZone: string;
    engineVersion: string;
    /** `postgres.maintenanceWindow`, weekly in UTC. */
    maintenanceWindow: string;
    /** `postgres.backupWindowStart`, local to `timeZone`. */
    rdsBackupWindowStart: string;
  },
  add: Report,
): void {
  // During maintenance the database may restart or fail over: a dump then fails, and the night
  // has no backup (R-backup-window). When the RDS backup window meets the maintenance window too,
  // the postgres rule reports that, with the fix to move the maintenance window; once moved, this
  // rule checks the dump again.
  if (
    dailyHourOverlaps(backup.dailyAt, stack.timeZone, stack.maintenanceWindow) &&
    !dailyHourOverlaps(stack.rdsBackupWindowStart, stack.timeZone, stack.maintenanceWindow)
  ) {
    add(
      ["dailyAt"],
      backup.dailyAt,
      `a time whose hour (local to timeZone ${stack.timeZone}) is outside postgres.maintenanceWindow (${stack.maintenanceWindow} UTC), or the dump meets the database's maintenance`,
    );
  }
  // pg_dump refuses a server of a newer major, and one of an older major writes archives the
  // drill's pg_restore reads but nobody tested against the running engine: the image built for
  // the engine, and nothing else, is accepted. Upgrade both in one change.
  const engineMajor = postgresMajor(stack.engineVersion);
  if (engineMajor !== undefined && backup.clientMajor !== engineMajor) {
    add(
      ["clientMajor"],
      backup.clientMajor,
      `${engineMajor}, the major of postgres.engineVersion (${stack.engineVersion}): build the image with --build-arg PG_MAJOR=${engineMajor}, set backup.tag to it, then this`,
      engineMajor,
    );
  }
  // CloudWatch evaluates an alarm of one-hour periods over at most 7 days (168 periods).
  const window = rpoAlarmHours({ ...backup, timeZone: stack.timeZone });
  if (window > 168) {
    add(
      ["rpoHours"],
      backup.rpoHours,
      `a value that keeps the RPO alarm's window (${window} h: the RPO or the schedule's longest gap, plus maxRunMinutes ${backup.maxRunMinutes}, plus 1 h) within CloudWatch's 168 h; lower rpoHours or maxRunMinutes`,
      Math.max(1, backup.rpoHours - (window - 168)),
    );
  }
  if (backup.retentionDays < stack.pointInTimeDays) {
    add(
      ["retentionDays"],
      backup.retentionDays,
      `at least postgres.backupRetentionDays (${stack.pointInTimeDays}), so dumps outlive point-in-time recovery`,
      stack.pointInTimeDays,
    );
  }
  if (backup.drRegion && backup.drRegion === stack.region) {
    add(["drRegion"], backup.drRegion, `a region other than the stack's own (${stack.region})`);
  }
}

/**
 * `opsbook:databaseMaintenance`: the maintenance job of the backup job's image (R-db-maintenance):
 * weekly ANALYZE, monthly VACUUM (ANALYZE), each with the slow-statement report.
 */
export const databaseMaintenanceSettings = z
  .strictObject({
    enabled: bool().default(true).describe("schedule the maintenance tasks, with their alarms (R-db-maintenance)"),
    analyzeDay: oneOf(WEEKDAYS).default("SUN").describe("day of the weekly ANALYZE and slow-statement report"),
    analyzeAt: hhmm
      .default("06:30")
      .describe(
        "time of the weekly ANALYZE, local to `timeZone`; its hour must miss the backup windows and postgres.maintenanceWindow",
      ),
    vacuumDayOfMonth: int(1, 28)
      .default(1)
      .describe("day of the month of the monthly VACUUM (ANALYZE); at most 28, so every month has it"),
    vacuumAt: hhmm
      .default("07:30")
      .describe("time of the monthly VACUUM (ANALYZE), local to `timeZone`; its hour must miss the ANALYZE's too"),
    slowStatements: int(1, 100)
      .default(DEFAULT_SLOW_STATEMENTS)
      .describe("statements with the highest mean time each run logs from pg_stat_statements"),
  })
  .superRefine((m, ctx) => {
    if (hoursMeet(m.analyzeAt, 60, m.vacuumAt, 60)) {
      report(
        ctx,
        ["vacuumAt"],
        m.vacuumAt,
        `a time whose hour misses analyzeAt's (${m.analyzeAt}): when the day of the month is the ANALYZE's day, both would run at once`,
      );
    }
  }, ON_VALID)
  .prefault({})
  .describe("scheduled ANALYZE and VACUUM of the database, and the slow-statement report");

export type DatabaseMaintenanceSettings = z.output<typeof databaseMaintenanceSettings>;

/** Do [a, a+aMinutes) and [b, b+bMinutes), times of day local to one zone, meet on some day? */
function hoursMeet(a: string, aMinutes: number, b: string, bMinutes: number): boolean {
  const day = 24 * 60;
  const start = (((parseHhmm(b) - parseHhmm(a)) % day) + day) % day;
  // b starts `start` minutes after a (modulo a day): they meet if b starts within a, or a within b.
  return start < aMinutes || day - start < bMinutes;
}

/**
 * Rules against the database and the backup: each task's hour misses the RDS backup window, the
 * nightly dump (dailyAt up to maxRunMinutes) and postgres.maintenanceWindow, where the database
 * may restart. Paths are relative to `opsbook:databaseMaintenance`.
 */
export function databaseMaintenanceStackRules(
  m: DatabaseMaintenanceSettings,
  stack: {
    timeZone: string;
    maintenanceWindow: string;
    rdsBackupWindowStart: string;
    backup: Pick<BackupSettings, "dailyAt" | "maxRunMinutes">;
  },
  add: Report,
): void {
  if (!m.enabled) return;
  for (const key of ["analyzeAt", "vacuumAt"] as const) {
    const at = m[key];
    const clashes = [
      hoursMeet(at, 60, stack.rdsBackupWindowStart, 60) &&
        `the RDS backup window (postgres.backupWindowStart ${stack.rdsBackupWindowStart}, one hour)`,
      hoursMeet(at, 60, stack.backup.dailyAt, stack.backup.maxRunMinutes) &&
        `the nightly dump (backup.dailyAt ${stack.backup.dailyAt}, up to backup.maxRunMinutes ${stack.backup.maxRunMinutes})`,
      dailyHourOverlaps(at, stack.timeZone, stack.maintenanceWindow) &&
        `postgres.maintenanceWindow (${stack.maintenanceWindow} UTC)`,
    ].filter((c): c is string => typeof c === "string");
    if (clashes.length > 0) {
      add(
        [key],
        at,
        `a time whose hour (local to timeZone ${stack.timeZone}) misses ${clashes.join(" and ")}: maintenance then competes with the backup or meets a restart`,
      );
    }
  }
}
