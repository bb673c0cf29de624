/**
 * Read replicas (R-db-read-replicas) switched on over the production stack file: the replicas,
 * DB_READ_HOST in the services, each replica's alarms, and the policy pack with no mandatory
 * violation.
 */
import { parseConfig, type ConfigError } from "../../stacks/config";
import type { Plan } from "../../tools/plan/plan";
import { planVariant, withPostgres } from "../helpers/variant";
import { checkPlan, stackConfigFile } from "../../tools/policy/cli";
import { containersOf, ofType, one, policyOf } from "../helpers/mocks";

const INSTANCE = "aws:rds/instance:Instance";
const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";

/** The production stack file with `postgres` merged into its `opsbook:postgres`, planned as stack `replicas`. */
const planWith = (postgres: Record<string, unknown>): Promise<Plan> =>
  planVariant("production", "replicas", withPostgres(postgres));

let plan: Plan;
beforeAll(async () => {
  plan = await planWith({ readReplicas: { count: 2, instanceClass: "db.r6g.xlarge" } });
}, 120_000);

describe("two read replicas on production", () => {
  test("each a replica of the instance, as private, encrypted and protected, in a zone of its own", () => {
    const primary = one(plan.resources, INSTANCE, "production-opsbook-production");
    const replicas = [1, 2].map((n) => one(plan.resources, INSTANCE, `production-opsbook-production-replica-${n}`));
    expect(replicas.map((r) => r.inputs.availabilityZone)).toEqual(["eu-west-1a", "eu-west-1b"]);
    for (const [i, r] of replicas.entries()) {
      expect(r.protect).toBe(true);
      expect(r.inputs).toEqual({
        identifier: `opsbook-production-replica-${i + 1}`,
        replicateSourceDb: "opsbook-production",
        instanceClass: "db.r6g.xlarge",
        availabilityZone: `eu-west-1${"ab"[i]}`,
        storageType: "gp3",
        maxAllocatedStorage: primary.inputs.maxAllocatedStorage,
        storageEncrypted: true,
        kmsKeyId: primary.inputs.kmsKeyId,
        iamDatabaseAuthenticationEnabled: true,
        port: 5432,
        publiclyAccessible: false,
        dbSubnetGroupName: primary.inputs.dbSubnetGroupName,
        vpcSecurityGroupIds: primary.inputs.vpcSecurityGroupIds,
        parameterGroupName: primary.inputs.parameterGroupName,
        multiAz: true,
        deletionProtection: true,
        autoMinorVersionUpgrade: true,
        maintenanceWindow: primary.inputs.maintenanceWindow,
        copyTagsToSnapshot: true,
        skipFinalSnapshot: true,
        enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
        performanceInsightsEnabled: true,
        performanceInsightsKmsKeyId: primary.inputs.kmsKeyId,
        performanceInsightsRetentionPeriod: primary.inputs.performanceInsightsRetentionPeriod,
        monitoringInterval: primary.inputs.monitoringInterval,
        monitoringRoleArn: primary.inputs.monitoringRoleArn,
      });
    }
    // Their log exports land in encrypted log groups of their own, kept as the instance's.
    const groups = ofType(plan.resources, "aws:cloudwatch/logGroup:LogGroup").filter((g) =>
      String(g.inputs.name).includes("-replica-"),
    );
    expect(groups.map((g) => [g.inputs.name, g.inputs.retentionInDays, Boolean(g.inputs.kmsKeyId)])).toEqual([
      ["/aws/rds/instance/opsbook-production-replica-1/postgresql", 365, true],
      ["/aws/rds/instance/opsbook-production-replica-1/upgrade", 365, true],
      ["/aws/rds/instance/opsbook-production-replica-2/postgresql", 365, true],
      ["/aws/rds/instance/opsbook-production-replica-2/upgrade", 365, true],
    ]);
  });

  test("enhanced monitoring may publish for the instance and its replicas only", () => {
    const trust = policyOf(one(plan.resources, "aws:iam/role:Role", "production-db-monitoring"), "assumeRolePolicy");
    expect((trust.Statement[0]!.Condition as { ArnLike: unknown }).ArnLike).toEqual({
      "aws:SourceArn": ["", "-replica-1", "-replica-2"].map(
        (s) => `arn:aws:rds:eu-west-1:123456789012:db:opsbook-production${s}`,
      ),
    });
  });

  test("services that use the database get DB_READ_HOST, both replicas' hosts; the migration task too", () => {
    const env = (task: string) =>
      Object.fromEntries(
        containersOf(one(plan.resources, "aws:ecs/taskDefinition:TaskDefinition", task))[0]!.environment.map((e) => [
          e.name,
          e.value,
        ]),
      );
    expect(env("api").DB_READ_HOST).toBe(
      "opsbook-production-replica-1.mock.eu-west-1.rds.amazonaws.com,opsbook-production-replica-2.mock.eu-west-1.rds.amazonaws.com",
    );
    expect(env("api").DB_HOST).toBe("opsbook-production.mock.eu-west-1.rds.amazonaws.com");
  });

  test("each replica has the database's alarms at the same thresholds, and its lag at 600 s / 1800 s", () => {
    const alarms = ofType(plan.resources, ALARM);
    const families = (subject: string) =>
      alarms
        .filter((a) => (a.inputs.tags as Record<string, string>).subject === subject)
        .map(
          (a) =>
            `${(a.inputs.tags as Record<string, string>).family}-${(a.inputs.tags as Record<string, string>).severity}`,
        )
        .sort();
    const primary = families("database").filter((f) => !f.startsWith("slow-queries"));
    for (const n of [1, 2]) {
      expect(families(`database-replica-${n}`)).toEqual(
        [...primary, "replica-lag-critical", "replica-lag-warning"].sort(),
      );
      const threshold = (family: string, severity: string) =>
        one(plan.resources, ALARM, `production-database-replica-${n}-${family}-${severity}`).inputs.threshold;
      // Every family the primary has, at both severities, at the primary's (runbook) thresholds.
      for (const family of primary) {
        const [name, severity] = [family.replace(/-(warning|critical)$/, ""), family.split("-").pop()!];
        expect([family, threshold(name, severity)]).toEqual([
          family,
          one(plan.resources, ALARM, `production-database-${family}`).inputs.threshold,
        ]);
      }
      expect([threshold("cpu", "warning"), threshold("cpu", "critical")]).toEqual([70, 90]);
      expect(one(plan.resources, ALARM, `production-database-replica-${n}-replica-lag-critical`).inputs).toMatchObject({
        namespace: "AWS/RDS",
        metricName: "ReplicaLag",
        dimensions: { DBInstanceIdentifier: `opsbook-production-replica-${n}` },
        statistic: "Maximum",
        threshold: 1800,
        period: 60,
        evaluationPeriods: 15,
        alarmActions: ["arn:aws:sns:eu-west-1:123456789012:production-critical"],
      });
      expect(threshold("replica-lag", "warning")).toBe(600);
    }
  });

  test("the policy pack finds no mandatory violation", async () => {
    const report = await checkPlan(plan, { configFile: stackConfigFile("production") });
    expect(report.diagnostics.filter((d) => d.enforcementLevel === "mandatory")).toEqual([]);
  });
});

describe("readReplicas settings", () => {
  const base = {
    "aws:region": "eu-west-1",
    "opsbook:environment": "test",
    "opsbook:services": JSON.stringify([
      { name: "api", image: "registry.example.com/api", tag: "1", port: 8080, uses: ["database"] },
    ]),
    "opsbook:domain": JSON.stringify({ certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/abc" }),
    "opsbook:backup": JSON.stringify({ image: "registry.example.com/backup-job", tag: "1" }),
  };
  const problems = (extra: Record<string, unknown>): string[] => {
    try {
      parseConfig("test", {
        ...base,
        ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, JSON.stringify(v)])),
      });
      return [];
    } catch (error) {
      return (error as ConfigError).problems.map((p) => `${p.key}: ${p.allowed}`);
    }
  };

  test("none by default; at most one per zone and at most 5", () => {
    expect(parseConfig("test", base).postgres.readReplicas).toEqual({ count: 0 });
    expect(problems({ "opsbook:postgres": { readReplicas: { count: 3 } } })).toEqual([
      "opsbook:postgres.readReplicas.count: at most the network's 2 availability zones, one replica per zone",
    ]);
    expect(problems({ "opsbook:postgres": { readReplicas: { count: 6 } } })).toEqual([
      expect.stringMatching(/^opsbook:postgres\.readReplicas\.count: a whole number from 0 to 5/),
    ]);
  });

  test("a replica class with less memory than the instance's needs maxConnections; an unknown class too", () => {
    expect(
      problems({
        "opsbook:postgres": {
          instanceClass: "db.r6g.large",
          readReplicas: { count: 1, instanceClass: "db.t4g.medium" },
        },
      }),
    ).toEqual([
      expect.stringMatching(
        /^opsbook:postgres\.readReplicas\.instanceClass: a class with at least the memory of instanceClass \(db\.r6g\.large\)/,
      ),
    ]);
    expect(
      problems({
        "opsbook:postgres": {
          instanceClass: "db.r6g.large",
          maxConnections: 400,
          readReplicas: { count: 1, instanceClass: "db.t4g.medium" },
        },
      }),
    ).toEqual([]);
    expect(problems({ "opsbook:postgres": { readReplicas: { count: 1, instanceClass: "db.zz9.huge" } } })).toEqual([
      expect.stringContaining("db.zz9.huge is not in lib/instanceClasses.ts"),
    ]);
  });

  test("DB_READ_HOST may be renamed only when there are replicas", () => {
    const renamed = JSON.stringify([
      {
        name: "api",
        image: "registry.example.com/api",
        tag: "1",
        port: 8080,
        uses: ["database"],
        envNames: { DB_READ_HOST: "DATABASE_READ_HOST" },
      },
    ]);
    const withServices = (postgres: unknown) => {
      try {
        parseConfig("test", { ...base, "opsbook:services": renamed, "opsbook:postgres": JSON.stringify(postgres) });
        return [];
      } catch (error) {
        return (error as ConfigError).problems.map((p) => `${p.key}: ${p.allowed}`);
      }
    };
    expect(withServices({})).toEqual([
      expect.stringMatching(/^opsbook:services\[0\]\.envNames\.DB_READ_HOST: no rename of DB_READ_HOST/),
    ]);
    expect(withServices({ readReplicas: { count: 1 } })).toEqual([]);
  });
});
