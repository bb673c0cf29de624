import { Postgres, type PostgresArgs } from "../../../../components/data/postgres/postgres";
import { postgresSettings } from "../../../../components/data/postgres/settings";
import {
  type RecordedResource,
  idOfOne,
  ofType,
  one,
  policyOf,
  recordResources,
  resolve,
  settle,
} from "../../../helpers/mocks";

const INSTANCE = "aws:rds/instance:Instance";
const LOG_KEY = "arn:aws:kms:eu-west-1:123456789012:key/logs";

/**
 * Production-like arguments: settings as the schema parses them (its defaults for the keys not
 * given), then the wiring; Berlin shows the backup window's conversion to UTC.
 */
function args(overrides: Partial<PostgresArgs> = {}): Omit<PostgresArgs, "identifier"> & { identifier?: string } {
  return {
    ...postgresSettings.parse({
      instanceClass: "db.r6g.large",
      allocatedStorageGb: 100,
      maxAllocatedStorageGb: 500,
      backupRetentionDays: 30,
      backupWindowStart: "02:00",
      maintenanceWindow: "sun:04:00-sun:05:00",
      slowQueryMs: 100,
      pool: { min: 5, max: 20 },
    }),
    vpcId: "vpc-1",
    subnetIds: ["isolated-a", "isolated-b", "isolated-c"],
    clientSecurityGroupId: "sg-app",
    timeZone: "Europe/Berlin",
    partition: "aws",
    protect: true,
    logRetentionDays: 365,
    logKeyArn: LOG_KEY,
    accountId: "123456789012",
    region: "eu-west-1",
    ...overrides,
  };
}

/** A Postgres named `name`, its identifier `opsbook-<name>` unless the arguments give one. */
function newPostgres(name: string, a = args()): Postgres {
  return new Postgres(name, { ...a, identifier: a.identifier ?? `opsbook-${name}` });
}

// One recording for every instance the assertions below look at: building under mocks is the slow part.
let resources: RecordedResource[];
let prod: Postgres;
let variant: Postgres;
let small: Postgres;
const restores: Record<string, PostgresArgs["restore"]> = {
  "from-snapshot": { snapshotIdentifier: "opsbook-prod-final" },
  "from-time": { sourceDbInstanceIdentifier: "opsbook-prod", restoreTime: "2026-11-20T01:30:00Z" },
  "from-latest": { sourceDbInstanceIdentifier: "opsbook-prod" },
  "from-dr": {
    sourceDbInstanceAutomatedBackupsArn:
      "arn:aws:rds:eu-central-1:123456789012:auto-backup:ab-abcdefghijklmnopqrstuvwxyz1",
  },
};
beforeAll(async () => {
  resources = await recordResources();
  prod = newPostgres("prod", args());
  variant = newPostgres(
    "variant",
    args({
      engineVersion: "17.2",
      maxConnections: 800,
      slowQueryMs: 250,
      logRetentionDays: 30,
      monitoringIntervalSeconds: 15,
      pool: { min: 2, max: 10 },
      partition: "aws",
    }),
  );
  small = newPostgres("small", args({ instanceClass: "db.t4g.medium" }));
  newPostgres(
    "staging",
    args({
      multiAz: false,
      deletionProtection: false,
      protect: false,
      backupRetentionDays: 7,
      timeZone: "UTC",
      identifier: "staging-db",
      databaseName: "shop",
      masterUsername: "shop_admin",
    }),
  );
  for (const [name, restore] of Object.entries(restores))
    newPostgres(name, args({ identifier: `opsbook-${name}`, restore }));
  await settle();
});

/** The recorded resources of type `type` that belong to the component named `component`. */
function of(component: string, type: string): RecordedResource[] {
  return ofType(resources, type).filter((r) => r.parent?.endsWith(`::${component}`));
}

describe("Postgres", () => {
  test("declares a private, encrypted, TLS-only instance with daily backups, a final snapshot and protection", () => {
    const db = one(resources, INSTANCE, "prod-opsbook-prod");
    expect(db.inputs).toEqual({
      identifier: "opsbook-prod",
      engine: "postgres",
      engineVersion: "16",
      allowMajorVersionUpgrade: true,
      autoMinorVersionUpgrade: true,
      instanceClass: "db.r6g.large",
      storageType: "gp3",
      allocatedStorage: 100,
      maxAllocatedStorage: 500,
      storageEncrypted: true,
      kmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/prod-db-key",
      dbName: "app",
      username: "app_admin",
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/prod-db-key",
      iamDatabaseAuthenticationEnabled: true,
      port: 5432,
      publiclyAccessible: false,
      dbSubnetGroupName: "prod-db",
      vpcSecurityGroupIds: [idOfOne(resources, "aws:ec2/securityGroup:SecurityGroup", "prod-db")],
      parameterGroupName: "prod-db",
      multiAz: true,
      deletionProtection: true,
      backupRetentionPeriod: 30,
      backupWindow: "01:00-02:00",
      maintenanceWindow: "sun:04:00-sun:05:00",
      copyTagsToSnapshot: true,
      skipFinalSnapshot: false,
      finalSnapshotIdentifier: "opsbook-prod-final-0a1b2c3d",
      deleteAutomatedBackups: false,
      enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
      performanceInsightsEnabled: true,
      performanceInsightsKmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/prod-db-key",
      performanceInsightsRetentionPeriod: 7,
      monitoringInterval: 60,
      monitoringRoleArn: "arn:aws:iam::123456789012:role/prod-db-monitoring",
    });
    expect(db.protect).toBe(true);
    expect(db.deleteBeforeReplace).toBe(false);
    expect(db.ignoreChanges).toEqual(["snapshotIdentifier", "restoreToPointInTime", "dbName", "username"]);

    const key = one(resources, "aws:kms/key:Key", "prod-db-key");
    expect(key.protect).toBe(true);
    expect(key.inputs).toMatchObject({
      enableKeyRotation: true,
      description: "opsbook prod: PostgreSQL storage, Performance Insights and master secret",
    });
    expect(one(resources, "aws:rds/subnetGroup:SubnetGroup", "prod-db").inputs).toEqual({
      description: "opsbook prod: isolated subnets of the PostgreSQL instance",
      subnetIds: ["isolated-a", "isolated-b", "isolated-c"],
    });
  });

  test("forces TLS and logs slow statements in a parameter group of the version's family", () => {
    expect(one(resources, "aws:rds/parameterGroup:ParameterGroup", "prod-db").inputs).toEqual({
      family: "postgres16",
      description: "opsbook prod: TLS required, slow statements logged",
      parameters: [
        { name: "rds.force_ssl", value: "1", applyMethod: "pending-reboot" },
        { name: "log_min_duration_statement", value: "100", applyMethod: "immediate" },
        { name: "shared_preload_libraries", value: "pg_stat_statements", applyMethod: "pending-reboot" },
      ],
    });
  });

  test("sets max_connections only when configured, and exposes the number alarms divide by", () => {
    expect(one(resources, "aws:rds/parameterGroup:ParameterGroup", "variant-db").inputs).toEqual({
      family: "postgres17",
      description: "opsbook variant: TLS required, slow statements logged",
      parameters: [
        { name: "rds.force_ssl", value: "1", applyMethod: "pending-reboot" },
        { name: "log_min_duration_statement", value: "250", applyMethod: "immediate" },
        { name: "shared_preload_libraries", value: "pg_stat_statements", applyMethod: "pending-reboot" },
        { name: "max_connections", value: "800", applyMethod: "pending-reboot" },
      ],
    });
    expect(one(resources, "aws:rds/parameterGroup:ParameterGroup", "small-db").inputs.parameters).toHaveLength(3);
    expect([variant.maxConnections, variant.memoryBytes, variant.instanceClass]).toEqual([
      800,
      16 * 2 ** 30,
      "db.r6g.large",
    ]);
    expect([small.maxConnections, small.memoryBytes, small.instanceClass]).toEqual([450, 4 * 2 ** 30, "db.t4g.medium"]);
    expect([prod.maxConnections, prod.allocatedStorageGb, prod.maxAllocatedStorageGb]).toEqual([1802, 100, 500]);
  });

  test("admits only the client security group on 5432 and gives it the matching egress", () => {
    expect(one(resources, "aws:ec2/securityGroup:SecurityGroup", "prod-db").inputs).toEqual({
      vpcId: "vpc-1",
      description: "PostgreSQL: 5432 from the app tier only",
      tags: { Name: "prod-db" },
    });
    expect(of("prod", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map((r) => r.inputs)).toEqual([
      {
        securityGroupId: idOfOne(resources, "aws:ec2/securityGroup:SecurityGroup", "prod-db"),
        description: "PostgreSQL from the app tasks",
        ipProtocol: "tcp",
        fromPort: 5432,
        toPort: 5432,
        referencedSecurityGroupId: "sg-app",
      },
    ]);
    expect(of("prod", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule").map((r) => r.inputs)).toEqual([
      {
        securityGroupId: "sg-app",
        description: "PostgreSQL to the database",
        ipProtocol: "tcp",
        fromPort: 5432,
        toPort: 5432,
        referencedSecurityGroupId: idOfOne(resources, "aws:ec2/securityGroup:SecurityGroup", "prod-db"),
      },
    ]);
  });

  test("declares the exported log groups, encrypted and expiring, before the instance exists", () => {
    const groups = of("prod", "aws:cloudwatch/logGroup:LogGroup");
    expect(groups.map((g) => [g.name, g.inputs])).toEqual([
      [
        "prod-opsbook-prod-postgresql",
        { name: "/aws/rds/instance/opsbook-prod/postgresql", retentionInDays: 365, kmsKeyId: LOG_KEY },
      ],
      [
        "prod-opsbook-prod-upgrade",
        { name: "/aws/rds/instance/opsbook-prod/upgrade", retentionInDays: 365, kmsKeyId: LOG_KEY },
      ],
    ]);
    const db = one(resources, INSTANCE, "prod-opsbook-prod");
    for (const g of groups) expect(db.dependencies).toContain(g.urn);
    expect(of("variant", "aws:cloudwatch/logGroup:LogGroup").map((g) => g.inputs.retentionInDays)).toEqual([30, 30]);
  });

  test("lets only RDS monitoring of this instance, in this account, assume the enhanced monitoring role", () => {
    const role = one(resources, "aws:iam/role:Role", "prod-db-monitoring");
    expect(policyOf(role, "assumeRolePolicy").Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { Service: "monitoring.rds.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: {
          StringEquals: { "aws:SourceAccount": "123456789012" },
          ArnLike: { "aws:SourceArn": "arn:aws:rds:eu-west-1:123456789012:db:opsbook-prod" },
        },
      },
    ]);
    expect(one(resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "prod-db-monitoring").inputs).toEqual({
      role: "prod-db-monitoring",
      policyArn: "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
    });
    expect(one(resources, INSTANCE, "variant-opsbook-variant").inputs.monitoringInterval).toBe(15);
  });

  test("keeps the master credentials, keys of the RDS-managed secret, for the role bootstrap only", async () => {
    const secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!opsbook-variant";
    expect(await resolve(variant.masterConnection)).toEqual({
      environment: {
        DB_HOST: "opsbook-variant.mock.eu-west-1.rds.amazonaws.com",
        DB_PORT: "5432",
        DB_NAME: "app",
        DB_SSLMODE: "require",
        DB_POOL_MIN: "2",
        DB_POOL_MAX: "10",
      },
      secrets: { DB_USER: `${secret}:username::`, DB_PASSWORD: `${secret}:password::` },
      secretArns: [secret],
      kmsKeyArns: ["arn:aws:kms:eu-west-1:123456789012:key/variant-db-key"],
    });
    expect(
      await resolve({
        identifier: prod.identifier,
        endpoint: prod.endpoint,
        port: prod.port,
        arn: prod.arn,
        resourceId: prod.resourceId,
        masterSecretArn: prod.masterSecretArn,
      }),
    ).toEqual({
      identifier: "opsbook-prod",
      endpoint: "opsbook-prod.mock.eu-west-1.rds.amazonaws.com:5432",
      port: 5432,
      arn: "arn:aws:rds:eu-west-1:123456789012:instance/prod-opsbook-prod",
      resourceId: "db-opsbook-prod",
      masterSecretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!opsbook-prod",
    });
  });

  test("a staging-sized instance: single zone, deletable, unprotected, still with a final snapshot", () => {
    const db = one(resources, INSTANCE, "staging-staging-db");
    expect(db.inputs).toMatchObject({
      identifier: "staging-db",
      multiAz: false,
      deletionProtection: false,
      backupRetentionPeriod: 7,
      backupWindow: "02:00-03:00",
      skipFinalSnapshot: false,
      finalSnapshotIdentifier: "staging-db-final-0a1b2c3d",
      dbName: "shop",
      username: "shop_admin",
    });
    expect(db.protect).toBe(false);
    expect(one(resources, "aws:kms/key:Key", "staging-db-key").protect).toBe(false);
  });

  test("names the final snapshot with a suffix kept in state, one per identifier, so no two deletions collide", () => {
    const suffixes = ofType(resources, "random:index/randomId:RandomId").filter((r) =>
      r.name.endsWith("-final-snapshot"),
    );
    // One per instance, named after its identifier: a new identifier (or a new stack) draws a new suffix.
    expect(of("prod", "random:index/randomId:RandomId").map((r) => [r.name, r.inputs.byteLength])).toEqual([
      ["prod-opsbook-prod-final-snapshot", 4],
    ]);
    expect(new Set(suffixes.map((r) => r.name)).size).toBe(suffixes.length);
    expect(suffixes).toHaveLength(ofType(resources, "aws:rds/instance:Instance").length);
    // The identifier is part of the name too, so snapshots of different instances never meet.
    const [staging] = of("staging", "aws:rds/instance:Instance");
    expect(staging!.inputs.finalSnapshotIdentifier).toBe("staging-db-final-0a1b2c3d");
  });

  test("declares no restore unless asked", () => {
    const inputs = one(resources, INSTANCE, "prod-opsbook-prod").inputs;
    expect([inputs.snapshotIdentifier, inputs.restoreToPointInTime]).toEqual([undefined, undefined]);
  });
});

describe("Postgres restore", () => {
  test.each<[string, Record<string, unknown>]>([
    ["from-snapshot", { snapshotIdentifier: "opsbook-prod-final" }],
    [
      "from-time",
      { restoreToPointInTime: { sourceDbInstanceIdentifier: "opsbook-prod", restoreTime: "2026-11-20T01:30:00Z" } },
    ],
    [
      "from-latest",
      { restoreToPointInTime: { sourceDbInstanceIdentifier: "opsbook-prod", useLatestRestorableTime: true } },
    ],
    [
      "from-dr",
      {
        restoreToPointInTime: {
          sourceDbInstanceAutomatedBackupsArn:
            "arn:aws:rds:eu-central-1:123456789012:auto-backup:ab-abcdefghijklmnopqrstuvwxyz1",
          useLatestRestorableTime: true,
        },
      },
    ],
  ])("creates the instance %s", (name, expected) => {
    const inputs = one(resources, INSTANCE, `${name}-opsbook-${name}`).inputs;
    const restoreInputs = Object.fromEntries(
      Object.entries(inputs).filter(([k]) => k === "snapshotIdentifier" || k === "restoreToPointInTime"),
    );
    expect(restoreInputs).toEqual(expected);
    expect(inputs.identifier).toBe(`opsbook-${name}`);
  });
});

describe("Postgres checks its wiring (the settings schema checks the settings)", () => {
  test("refuses a single subnet: an RDS subnet group needs two zones", async () => {
    await recordResources();
    expect(() => newPostgres("prod", args({ subnetIds: ["isolated-a"] }))).toThrow(
      "subnetIds must list subnets in at least two zones (an RDS subnet group needs them), got 1",
    );
  });
});
