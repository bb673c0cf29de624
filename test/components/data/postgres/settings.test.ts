import { postgresSettings, postgresStackRules } from "../../../../components/data/postgres/settings";
import { settingsProblems } from "../../../helpers/settings";

describe("postgres settings", () => {
  test("defaults: PostgreSQL 16, backups at 02:00 kept 30 days, the runbook pool, slow statements over 100 ms", () => {
    expect(postgresSettings.parse(undefined)).toEqual({
      engineVersion: "16",
      instanceClass: "db.t4g.medium",
      allocatedStorageGb: 20,
      maxAllocatedStorageGb: 100,
      databaseName: "app",
      masterUsername: "app_admin",
      roleRotation: { app: 0, migrate: 0, backup: 0, maintenance: 0 },
      multiAz: true,
      deletionProtection: true,
      backupRetentionDays: 30,
      backupWindowStart: "02:00",
      maintenanceWindow: "sun:04:00-sun:05:00",
      performanceInsightsRetentionDays: 7,
      monitoringIntervalSeconds: 60,
      pool: { min: 5, max: 20 },
      readReplicas: { count: 0 },
      proxy: {
        enabled: false,
        idleClientTimeoutSeconds: 1800,
        maxConnectionsPercent: 90,
        maxIdleConnectionsPercent: 50,
        connectionBorrowTimeoutSeconds: 120,
      },
      slowQueryMs: 100,
    });
  });

  test.each<[string, Record<string, unknown>, string[]]>([
    [
      "retention above RDS's limit",
      { backupRetentionDays: 36 },
      ["backupRetentionDays: a whole number from 1 to 35 days"],
    ],
    ["no backups", { backupRetentionDays: 0 }, ["backupRetentionDays: a whole number from 1 to 35 days"]],
    [
      "an unknown class without maxConnections",
      { instanceClass: "db.x2g.large" },
      [
        "maxConnections: a number: instance class db.x2g.large is not in lib/instanceClasses.ts (known: db.t3.*, db.t4g.*, db.m5.*, db.m6g.*, db.m6i.*, db.m7g.*, db.r5.*, db.r6g.*, db.r6i.*, db.r7g.*), so its default max_connections is unknown: set postgres.maxConnections",
      ],
    ],
    ["PostgreSQL 15", { engineVersion: "15.7" }, ['engineVersion: PostgreSQL 16 or later, e.g. "16" or "16.4"']],
    [
      "a storage ceiling below the storage",
      { allocatedStorageGb: 100, maxAllocatedStorageGb: 50 },
      ["maxAllocatedStorageGb: at least allocatedStorageGb (100)"],
    ],
    ["a pool upside down", { pool: { min: 30, max: 20 } }, ["pool.min: at most pool.max (20)"]],
    [
      "an identifier with two hyphens",
      { identifier: "opsbook--prod" },
      [
        "identifier: an RDS instance identifier: 1-63 lower-case letters, digits and single hyphens, starting with a letter, not ending with '-'",
      ],
    ],
    [
      "a Performance Insights retention RDS refuses",
      { performanceInsightsRetentionDays: 30 },
      ["performanceInsightsRetentionDays: 7, a multiple of 31 up to 713, or 731"],
    ],
    [
      "monitoring turned off",
      { monitoringIntervalSeconds: 0 },
      ["monitoringIntervalSeconds: one of 1, 5, 10, 15, 30, 60"],
    ],
    [
      "both restore kinds",
      { restore: { snapshotIdentifier: "s", sourceDbInstanceIdentifier: "opsbook-prod" } },
      [
        "restore: one of { snapshotIdentifier }, { sourceDbInstanceIdentifier, restoreTime? } or { sourceDbInstanceAutomatedBackupsArn, restoreTime? }",
      ],
    ],
    [
      "an automated backups ARN of another shape",
      { restore: { sourceDbInstanceAutomatedBackupsArn: "arn:aws:rds:eu-central-1:1234:auto-backup:ab-x" } },
      [
        "restore.sourceDbInstanceAutomatedBackupsArn: the ARN of replicated automated backups: arn:<partition>:rds:<region>:<12-digit account>:auto-backup:ab-<id>",
      ],
    ],
    [
      "a snapshot ARN of another service",
      { restore: { snapshotIdentifier: "arn:aws:ec2:eu-west-1:123456789012:snapshot/snap-1" } },
      [
        "restore: one of { snapshotIdentifier }, { sourceDbInstanceIdentifier, restoreTime? } or { sourceDbInstanceAutomatedBackupsArn, restoreTime? }",
      ],
    ],
  ])("rejects %s", (_, input, problems) => {
    expect(settingsProblems(postgresSettings, input)).toEqual(problems);
  });

  test.each<[string, Record<string, unknown>, string, string[]]>([
    [
      "a backup window overlapping maintenance",
      { maintenanceWindow: "sun:02:30-sun:03:30" },
      "opsbook-prod",
      ["maintenanceWindow: a window that does not overlap the daily backup window (02:00 UTC, one hour)"],
    ],
    [
      "a point-in-time restore onto its source",
      { restore: { sourceDbInstanceIdentifier: "opsbook-prod" } },
      "opsbook-prod",
      [
        'identifier: an identifier other than the restore\'s source "opsbook-prod": a point-in-time restore creates a new instance',
      ],
    ],
    [
      "a restore into a new identifier",
      { restore: { sourceDbInstanceIdentifier: "opsbook-prod" } },
      "opsbook-prod-2",
      [],
    ],
    [
      "a restore from the DR region's automated backups in a stack of that region",
      {
        restore: {
          sourceDbInstanceAutomatedBackupsArn:
            "arn:aws:rds:eu-central-1:123456789012:auto-backup:ab-abcdefghijklmnopqrstuvwxyz1",
        },
      },
      "opsbook-prod-dr",
      [],
    ],
    [
      "a restore from automated backups in another region",
      {
        restore: {
          sourceDbInstanceAutomatedBackupsArn:
            "arn:aws:rds:eu-central-1:123456789012:auto-backup:ab-abcdefghijklmnopqrstuvwxyz1".replace(
              "eu-central-1",
              "eu-west-2",
            ),
        },
      },
      "opsbook-prod-dr",
      [
        "restore.sourceDbInstanceAutomatedBackupsArn: an ARN in the stack's partition and region (arn:aws:rds:eu-central-1:...): RDS restores only where the backup is; run the restore as a stack in eu-west-2 (aws:region eu-west-2)",
      ],
    ],
    [
      "a snapshot ARN of another partition",
      { restore: { snapshotIdentifier: "arn:aws-us-gov:rds:eu-central-1:123456789012:snapshot:s-1" } },
      "opsbook-prod-dr",
      [
        "restore.snapshotIdentifier: an ARN in the stack's partition and region (arn:aws:rds:eu-central-1:...): RDS restores only where the backup is; run the restore as a stack in eu-central-1 (aws:region eu-central-1)",
      ],
    ],
    [
      "a snapshot named by identifier, even an automated one",
      { restore: { snapshotIdentifier: "rds:opsbook-prod-2026-11-20-02-10" } },
      "opsbook-prod-dr",
      [],
    ],
  ])("with the stack's time zone, identifier and region, rejects %s", (_, input, identifier, problems) => {
    const found: string[] = [];
    postgresStackRules(
      postgresSettings.parse(input),
      { timeZone: "UTC", identifier, region: "eu-central-1", zones: 2 },
      (path, _v, allowed) => found.push(`${path.join(".")}: ${allowed}`),
    );
    expect(found).toEqual(problems);
  });
});
