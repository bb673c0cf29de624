import * as rds from "../../rules/rds";
import { changed, idOf, resource, stackViolations, violations } from "../helpers";

const TYPE = rds.RDS_INSTANCE;
const KEY = "arn:aws:kms:eu-west-1:123456789012:key/data-key";

/** An instance as the postgres component should declare it in production. */
const compliant = {
  identifier: "prod-db",
  engine: "postgres",
  engineVersion: "16",
  instanceClass: "db.r6g.large",
  storageEncrypted: true,
  kmsKeyId: KEY,
  publiclyAccessible: false,
  dbSubnetGroupName: "prod-data",
  multiAz: true,
  backupRetentionPeriod: 30,
  backupWindow: "01:00-02:00",
  maintenanceWindow: "sun:04:00-sun:05:00",
  deletionProtection: true,
  iamDatabaseAuthenticationEnabled: true,
  monitoringInterval: 60,
  monitoringRoleArn: "arn:aws:iam::123456789012:role/rds-monitoring",
  performanceInsightsEnabled: true,
  performanceInsightsKmsKeyId: KEY,
  enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
  copyTagsToSnapshot: true,
  parameterGroupName: "prod-db-params",
  skipFinalSnapshot: false,
  finalSnapshotIdentifier: "prod-db-final",
};

const instanceRules = rds.rdsPolicies.filter((p) => p !== rds.rdsForceSsl);

test.each(instanceRules.map((p) => [p.name, p] as const))("%s passes the compliant instance", async (_name, policy) => {
  expect(await violations(policy, TYPE, compliant)).toEqual([]);
});

test("instance rules do not apply to other types", async () => {
  expect(await violations(rds.rdsMultiAz, "aws:rds/cluster:Cluster", {})).toEqual([]);
});

describe("rds-storage-encrypted", () => {
  test("reports unencrypted storage", async () => {
    expect(
      await violations(rds.rdsStorageEncrypted, TYPE, changed(compliant, { storageEncrypted: false }), { name: "db" }),
    ).toEqual([
      'RDS instance "db": storageEncrypted is false; required: true. Fix: set storageEncrypted: true and kmsKeyId to a customer-managed key; an existing instance is encrypted by restoring an encrypted snapshot copy.',
    ]);
  });

  test("reports encryption with the AWS-managed key", async () => {
    expect(
      await violations(rds.rdsStorageEncrypted, TYPE, changed(compliant, { kmsKeyId: undefined }), { name: "db" }),
    ).toEqual([
      'RDS instance "db": kmsKeyId is not set (the AWS-managed aws/rds key); required: the ARN of a customer-managed KMS key, whose policy and rotation the stack controls. Fix: set kmsKeyId to the stack\'s database key ARN.',
    ]);
  });
});

describe("rds-not-public", () => {
  test("reports a publicly accessible instance", async () => {
    expect(await violations(rds.rdsNotPublic, TYPE, changed(compliant, { publiclyAccessible: true }))).toEqual([
      'RDS instance "subject": publiclyAccessible is true; required: false (reachable only from inside the VPC). Fix: set publiclyAccessible: false.',
    ]);
  });

  test("reports an instance without its own subnet group", async () => {
    expect(await violations(rds.rdsNotPublic, TYPE, changed(compliant, { dbSubnetGroupName: undefined }))).toEqual([
      "RDS instance \"subject\": dbSubnetGroupName is not set (the default VPC's default subnets); required: a DB subnet group of the isolated subnets. Fix: set dbSubnetGroupName to the stack's data subnet group.",
    ]);
  });
});

test("rds-multi-az reports a single-zone instance", async () => {
  expect(await violations(rds.rdsMultiAz, TYPE, changed(compliant, { multiAz: undefined }))).toEqual([
    "RDS instance \"subject\": multiAz is not set; required: true. Fix: set multiAz: true (pulumi config set --path 'opsbook:postgres.multiAz' true).",
  ]);
});

describe("rds-backup-retention", () => {
  test("reports fewer days than the default minimum", async () => {
    expect(await violations(rds.rdsBackupRetention, TYPE, changed(compliant, { backupRetentionPeriod: 3 }))).toEqual([
      "RDS instance \"subject\": backupRetentionPeriod is 3; required: at least 7 days. Fix: set backupRetentionPeriod: 7 or more (pulumi config set --path 'opsbook:postgres.backupRetentionDays' 7).",
    ]);
  });

  test("reads the minimum from config: 7 days fail the runbook's 30", async () => {
    expect(
      await violations(rds.rdsBackupRetention, TYPE, changed(compliant, { backupRetentionPeriod: 7 }), {
        config: { minimumRetentionDays: 30 },
      }),
    ).toEqual([
      "RDS instance \"subject\": backupRetentionPeriod is 7; required: at least 30 days. Fix: set backupRetentionPeriod: 30 or more (pulumi config set --path 'opsbook:postgres.backupRetentionDays' 30).",
    ]);
  });

  test("says what an unset retention means", async () => {
    expect(
      await violations(rds.rdsBackupRetention, TYPE, changed(compliant, { backupRetentionPeriod: undefined })),
    ).toEqual([
      expect.stringContaining("backupRetentionPeriod is not set (RDS keeps 1 day); required: at least 7 days"),
    ]);
  });

  test("exempts a read replica, which RDS for PostgreSQL keeps no automated backups of", async () => {
    const replica = changed(compliant, {
      replicateSourceDb: "prod-db",
      backupRetentionPeriod: undefined,
      backupWindow: undefined,
    });
    expect(await violations(rds.rdsBackupRetention, TYPE, replica)).toEqual([]);
    // Without replicateSourceDb the same instance is no replica and fails.
    expect(
      await violations(rds.rdsBackupRetention, TYPE, changed(replica, { replicateSourceDb: undefined })),
    ).toHaveLength(2);
  });

  test("reports a missing backup window", async () => {
    expect(await violations(rds.rdsBackupRetention, TYPE, changed(compliant, { backupWindow: undefined }))).toEqual([
      'RDS instance "subject": backupWindow is not set (AWS picks a time); required: a daily UTC window "hh24:mi-hh24:mi" of at least 30 minutes. Fix: set backupWindow (postgres.backupWindowStart in the stack file).',
    ]);
  });

  test("reports a window shorter than RDS accepts", async () => {
    expect(await violations(rds.rdsBackupRetention, TYPE, changed(compliant, { backupWindow: "02:00-02:15" }))).toEqual(
      [expect.stringContaining('backupWindow is "02:00-02:15"; required: a daily UTC window')],
    );
  });

  test("reports a backup window that overlaps the maintenance window", async () => {
    expect(await violations(rds.rdsBackupRetention, TYPE, changed(compliant, { backupWindow: "04:30-05:30" }))).toEqual(
      [
        'RDS instance "subject": backupWindow is "04:30-05:30", which overlaps maintenanceWindow "sun:04:00-sun:05:00"; required: a backup window clear of the maintenance window (RDS rejects the change otherwise). Fix: move postgres.backupWindowStart or postgres.maintenanceWindow.',
      ],
    );
  });

  test("does not ask for a window when config says so", async () => {
    expect(
      await violations(rds.rdsBackupRetention, TYPE, changed(compliant, { backupWindow: undefined }), {
        config: { requireBackupWindow: false },
      }),
    ).toEqual([]);
  });
});

test("rds-deletion-protection reports an unprotected instance", async () => {
  expect(await violations(rds.rdsDeletionProtection, TYPE, changed(compliant, { deletionProtection: false }))).toEqual([
    "RDS instance \"subject\": deletionProtection is false; required: true. Fix: set deletionProtection: true (pulumi config set --path 'opsbook:postgres.deletionProtection' true).",
  ]);
});

test("rds-iam-auth reports password-only authentication", async () => {
  expect(
    await violations(rds.rdsIamAuth, TYPE, changed(compliant, { iamDatabaseAuthenticationEnabled: false })),
  ).toEqual([
    'RDS instance "subject": iamDatabaseAuthenticationEnabled is false; required: true. Fix: set iamDatabaseAuthenticationEnabled: true.',
  ]);
});

describe("rds-enhanced-monitoring", () => {
  test("reports monitoring switched off", async () => {
    expect(await violations(rds.rdsEnhancedMonitoring, TYPE, changed(compliant, { monitoringInterval: 0 }))).toEqual([
      'RDS instance "subject": monitoringInterval is 0; required: 1 to 60 seconds. Fix: set monitoringInterval (postgres.monitoringIntervalSeconds in the stack file).',
    ]);
  });

  test("reads the longest interval from config", async () => {
    expect(
      await violations(rds.rdsEnhancedMonitoring, TYPE, compliant, { config: { maximumIntervalSeconds: 30 } }),
    ).toEqual([expect.stringContaining("monitoringInterval is 60; required: 1 to 30 seconds")]);
  });

  test("reports a missing monitoring role", async () => {
    expect(
      await violations(rds.rdsEnhancedMonitoring, TYPE, changed(compliant, { monitoringRoleArn: undefined })),
    ).toEqual([
      'RDS instance "subject": monitoringRoleArn is not set; required: the ARN of a role monitoring.rds.amazonaws.com may assume. Fix: create a role with AmazonRDSEnhancedMonitoringRole and set monitoringRoleArn.',
    ]);
  });
});

describe("rds-performance-insights", () => {
  test("reports Performance Insights off", async () => {
    expect(
      await violations(rds.rdsPerformanceInsights, TYPE, changed(compliant, { performanceInsightsEnabled: undefined })),
    ).toEqual([
      'RDS instance "subject": performanceInsightsEnabled is not set; required: true. Fix: set performanceInsightsEnabled: true.',
    ]);
  });

  test("reports Performance Insights without a customer key", async () => {
    expect(
      await violations(
        rds.rdsPerformanceInsights,
        TYPE,
        changed(compliant, { performanceInsightsKmsKeyId: undefined }),
      ),
    ).toEqual([
      'RDS instance "subject": performanceInsightsKmsKeyId is not set (the AWS-managed key); required: a customer-managed KMS key ARN. Fix: set performanceInsightsKmsKeyId to the stack\'s database key ARN.',
    ]);
  });
});

test("rds-auto-minor-upgrade reports upgrades switched off", async () => {
  expect(
    await violations(rds.rdsAutoMinorUpgrade, TYPE, changed(compliant, { autoMinorVersionUpgrade: false })),
  ).toEqual([
    'RDS instance "subject": autoMinorVersionUpgrade is false; required: true (the default). Fix: remove autoMinorVersionUpgrade: false and pin only the major engine version.',
  ]);
});

describe("rds-log-exports", () => {
  test("names the log type that is not exported", async () => {
    expect(
      await violations(rds.rdsLogExports, TYPE, changed(compliant, { enabledCloudwatchLogsExports: ["postgresql"] })),
    ).toEqual([
      'RDS instance "subject": enabledCloudwatchLogsExports is ["postgresql"], missing ["upgrade"]; required: every one of ["postgresql","upgrade"]. Fix: add "upgrade" to enabledCloudwatchLogsExports.',
    ]);
  });

  test("reports no exports at all", async () => {
    expect(
      await violations(rds.rdsLogExports, TYPE, changed(compliant, { enabledCloudwatchLogsExports: undefined })),
    ).toEqual([expect.stringContaining('enabledCloudwatchLogsExports is not set, missing ["postgresql","upgrade"]')]);
  });
});

test("rds-copy-tags-to-snapshot reports untagged snapshots", async () => {
  expect(
    await violations(rds.rdsCopyTagsToSnapshot, TYPE, changed(compliant, { copyTagsToSnapshot: undefined })),
  ).toEqual([
    'RDS instance "subject": copyTagsToSnapshot is not set; required: true. Fix: set copyTagsToSnapshot: true.',
  ]);
});

describe("rds-force-ssl", () => {
  const group = (parameters: Array<{ name: string; value: string }>) =>
    resource(rds.RDS_PARAMETER_GROUP, "db-params", { name: "prod-db-params", family: "postgres16", parameters });
  const db = (props: Record<string, unknown>) => resource(TYPE, "db", props);

  test("passes an instance whose parameter group forces TLS", async () => {
    expect(
      await stackViolations(rds.rdsForceSsl, [
        db(compliant),
        group([
          { name: "rds.force_ssl", value: "1" },
          { name: "log_min_duration_statement", value: "100" },
        ]),
      ]),
    ).toEqual([]);
  });

  test("matches the group by id as well as by name", async () => {
    expect(
      await stackViolations(rds.rdsForceSsl, [
        db(changed(compliant, { parameterGroupName: idOf(group([])) })),
        group([{ name: "rds.force_ssl", value: "1" }]),
      ]),
    ).toEqual([]);
  });

  test("reports a parameter group that allows plain connections", async () => {
    expect(
      await stackViolations(rds.rdsForceSsl, [db(compliant), group([{ name: "rds.force_ssl", value: "0" }])]),
    ).toEqual([
      'db: RDS instance "db" (parameter group "db-params"): parameter rds.force_ssl is "0"; required: "1". Fix: add { name: "rds.force_ssl", value: "1" } to the parameter group\'s parameters.',
    ]);
  });

  test("reports a parameter group without the parameter", async () => {
    expect(await stackViolations(rds.rdsForceSsl, [db(compliant), group([])])).toEqual([
      expect.stringContaining('parameter rds.force_ssl is not set; required: "1"'),
    ]);
  });

  test("reports an instance on the default parameter group", async () => {
    expect(await stackViolations(rds.rdsForceSsl, [db(changed(compliant, { parameterGroupName: undefined }))])).toEqual(
      [
        'db: RDS instance "db": parameterGroupName is not set (the engine\'s default group, which the stack cannot change); required: a parameter group of this stack setting rds.force_ssl = 1. Fix: declare an aws.rds.ParameterGroup and set parameterGroupName to its name.',
      ],
    );
  });

  test("reports a parameter group the stack does not declare", async () => {
    expect(await stackViolations(rds.rdsForceSsl, [db(compliant)])).toEqual([
      'db: RDS instance "db": parameterGroupName is "prod-db-params", which is not declared in this stack; required: a parameter group of this stack, so that rds.force_ssl = 1 can be checked. Fix: declare the parameter group in this stack.',
    ]);
  });

  test("reads the required parameters from config", async () => {
    const config = { requiredParameters: { "rds.force_ssl": "1", log_min_duration_statement: "100" } };
    expect(
      await stackViolations(rds.rdsForceSsl, [db(compliant), group([{ name: "rds.force_ssl", value: "1" }])], config),
    ).toEqual([expect.stringContaining('parameter log_min_duration_statement is not set; required: "100"')]);
  });
});
