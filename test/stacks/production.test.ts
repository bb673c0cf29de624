import { ecsImages, imageRepositories } from "./imageRepositories";
import { securityHeaders } from "./securityHeaders";
import { idOfOne, ofType, one, containersOf } from "../helpers/mocks";
import { type Plan, planStack, stackFileConfig } from "../helpers/stack";
import { stackInvariants } from "./stackInvariants";
import { alarmProperties } from "./alarmProperties";
import { deploymentFailurePage } from "./deploymentFailurePage";
import { type PolicyReport, checkPlan, stackConfigFile } from "../../tools/policy/cli";

const isolated = (): string[] => [
  id(SUBNET, "production-isolated-eu-west-1a"),
  id(SUBNET, "production-isolated-eu-west-1b"),
  id(SUBNET, "production-isolated-eu-west-1c"),
];
const DB_KEY = "arn:aws:kms:eu-west-1:123456789012:key/production-db-key";
const REDIS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/production-redis-key";

const file = stackFileConfig("production");
const [api, web] = file.services;

let plan: Plan;
const SUBNET = "aws:ec2/subnet:Subnet";
const SG = "aws:ec2/securityGroup:SecurityGroup";
const VPC = "aws:ec2/vpc:Vpc";
/** The placeholder id the plan gave a resource, as the resources that refer to it record it. */
const id = (type: string, name: string): string => idOfOne(plan.resources, type, name);
beforeAll(async () => {
  plan = await planStack("production");
});

describe("production stack, built from Pulumi.production.yaml", () => {
  stackInvariants(() => plan, true);
  describe("alarm properties", () => alarmProperties(() => plan, "production"));
  deploymentFailurePage(() => plan, "production");
  describe("image repositories", () => imageRepositories(() => plan, "production", true));
  describe("images on ECS", () => ecsImages(() => plan, "production"));
  describe("security headers", () => securityHeaders(() => plan, "production"));

  test("copies the dumps and the automated backups to eu-central-1, under a key of its own there (R-backup-dr)", () => {
    // The offline plan's placeholder ARNs carry the stack's region; the key's `region` input is what counts.
    const DR_KEY = "arn:aws:kms:eu-west-1:123456789012:key/production-dr-key";
    const key = one(plan.resources, "aws:kms/key:Key", "production-dr-key");
    const replica = one(plan.resources, "aws:s3/bucket:Bucket", "production-replica");
    for (const r of [key, replica])
      expect([r.name, r.inputs.region, r.protect]).toEqual([r.name, "eu-central-1", true]);
    const [rule] = one(plan.resources, "aws:s3/bucketReplicationConfig:BucketReplicationConfig", "production").inputs
      .rules as Array<Record<string, unknown>>;
    expect(rule).toMatchObject({
      status: "Enabled",
      deleteMarkerReplication: { status: "Disabled" },
      destination: {
        bucket: `arn:aws:s3:::${idOfOne(plan.resources, "aws:s3/bucket:Bucket", "production-replica")}`,
        encryptionConfiguration: { replicaKmsKeyId: DR_KEY },
      },
    });
    const backups = ofType(
      plan.resources,
      "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication",
    );
    expect(backups.map((b) => b.inputs)).toEqual([
      {
        sourceDbInstanceArn: "arn:aws:rds:eu-west-1:123456789012:instance/production-opsbook-production",
        kmsKeyId: DR_KEY,
        retentionPeriod: 30,
        region: "eu-central-1",
      },
    ]);
    expect(plan.outputs.backupReplicaBucketName).toBe(
      idOfOne(plan.resources, "aws:s3/bucket:Bucket", "production-replica"),
    );
  });

  test("spans three zones with a NAT gateway in each", () => {
    expect(ofType(plan.resources, "aws:ec2/subnet:Subnet")).toHaveLength(9);
    expect(ofType(plan.resources, "aws:ec2/natGateway:NatGateway").map((n) => n.inputs.subnetId)).toEqual([
      id(SUBNET, "production-public-eu-west-1a"),
      id(SUBNET, "production-public-eu-west-1b"),
      id(SUBNET, "production-public-eu-west-1c"),
    ]);
    expect(one(plan.resources, "aws:ec2/vpc:Vpc", "production-vpc").inputs.cidrBlock).toBe(file.network.cidr);
  });

  test("keeps flow logs as long as the stack file says", () => {
    expect(one(plan.resources, "aws:cloudwatch/logGroup:LogGroup", "production-flow-logs").inputs.retentionInDays).toBe(
      file.logRetentionDays,
    );
  });

  test("runs api and web from their images, sized and scaled as the stack file says", () => {
    const containers = (name: string) =>
      containersOf(one(plan.resources, "aws:ecs/taskDefinition:TaskDefinition", name));
    expect(api?.name).toBe("api");
    expect(web?.name).toBe("web");
    // No image in the stack file: the service runs from its repository in the stack (R-security-image-scan).
    expect(api!.image).toBeUndefined();
    expect(containers("api")[0]?.image).toBe(
      `123456789012.dkr.ecr.eu-west-1.amazonaws.com/opsbook/production/api:${api!.tag}`,
    );
    expect(one(plan.resources, "aws:ecs/taskDefinition:TaskDefinition", "api").inputs).toMatchObject({
      cpu: String(api!.cpu),
      memory: String(api!.memory),
    });
    expect(one(plan.resources, "aws:ecs/service:Service", "api").inputs).toMatchObject({
      desiredCount: api!.desiredCount,
      alarms: {
        enable: true,
        rollback: true,
        alarmNames: ["opsbook-production-api-rollback-unhealthy-targets", "opsbook-production-api-rollback-error-rate"],
      },
    });
    for (const s of [api!, web!]) {
      expect(one(plan.resources, "aws:appautoscaling/target:Target", s.name).inputs).toMatchObject({
        minCapacity: s.minCount,
        maxCapacity: s.maxCount,
      });
    }
    expect(containers("api")[0]?.secrets.map((s) => s.name)).toEqual([
      "JWT_SECRET",
      "JWT_REFRESH_SECRET",
      "SESSION_SECRET",
      "ENCRYPTION_KEY",
      "DB_USER",
      "DB_PASSWORD",
      "DATABASE_URL",
      "REDIS_AUTH_TOKEN",
      "REDIS_URL",
    ]);
    expect(containers("api")[0]?.environment.map((e) => e.name)).toEqual([
      "APP_ROTATION_LABEL",
      "DB_HOST",
      "DB_PORT",
      "DB_NAME",
      "DB_SSLMODE",
      "DB_POOL_MIN",
      "DB_POOL_MAX",
      "DB_ROLE_ROTATION",
      "REDIS_HOST",
      "REDIS_PORT",
      "REDIS_TLS",
    ]);
  });

  describe("least privilege (R-db-roles)", () => {
    const taskDefinition = (name: string) => one(plan.resources, "aws:ecs/taskDefinition:TaskDefinition", name);
    const container = (name: string) => containersOf(taskDefinition(name))[0]!;
    const secretsOf = (name: string) => Object.fromEntries(container(name).secrets.map((s) => [s.name, s.valueFrom]));
    // Generation 0 of every purpose: its login role a (R-db-role-rotation).
    const role = (purpose: string, slot = "a") =>
      `arn:aws:secretsmanager:eu-west-1:123456789012:secret:production-db-role-${purpose}-${slot}`;
    const policy = (name: string) =>
      JSON.parse(one(plan.resources, "aws:iam/rolePolicy:RolePolicy", name).inputs.policy as string) as {
        Statement: Array<{ Sid: string; Resource: unknown }>;
      };
    const statement = (name: string, sid: string) => policy(name).Statement.find((st) => st.Sid === sid)?.Resource;
    const master = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!opsbook-production";

    test("api connects as the app role: its DB_USER, DB_PASSWORD and DATABASE_URL come from the app role's secret", () => {
      expect(secretsOf("api")).toMatchObject({
        DB_USER: `${role("app")}:username::`,
        DB_PASSWORD: `${role("app")}:password::`,
        DATABASE_URL: `${role("app")}:url::`,
        REDIS_URL: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:production-redis-url",
      });
    });

    test("web gets its one app secret and no database or cache variable", () => {
      expect(container("web").secrets.map((s) => s.name)).toEqual(["SESSION_SECRET"]);
      expect(container("web").environment.map((e) => e.name)).toEqual(["APP_ROTATION_LABEL"]);
      expect(statement("web-execution", "ReadInjectedSecrets")).toEqual([
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:production-session-secret",
      ]);
      expect(statement("web-execution", "DecryptInjectedSecrets")).toEqual([
        "arn:aws:kms:eu-west-1:123456789012:key/app-secrets-key",
      ]);
    });

    test("each execution role reads exactly the secrets its task definition injects", () => {
      for (const [task, execution] of [
        ["api", "api-execution"],
        ["api-migrate", "api-migrate-execution"],
        ["web", "web-execution"],
        ["production-backup", "production-execution"],
        ["production-restore-drill", "production-execution"],
        ["production-db-roles", "production-db-roles-execution"],
      ] as const) {
        const injected = [...new Set(container(task).secrets.map((s) => s.valueFrom.split(":").slice(0, 7).join(":")))];
        const readable = statement(execution, "ReadInjectedSecrets") as string[];
        expect({ task, readable: [...readable].sort() }).toEqual({ task, readable: [...injected].sort() });
      }
    });

    test("the migration task connects as the migration role, with its own execution role, and gets nothing else", () => {
      expect(taskDefinition("api-migrate").inputs.executionRoleArn).toBe(
        "arn:aws:iam::123456789012:role/api-migrate-execution",
      );
      expect(secretsOf("api-migrate")).toEqual({
        DB_USER: `${role("migrate")}:username::`,
        DB_PASSWORD: `${role("migrate")}:password::`,
        DATABASE_URL: `${role("migrate")}:url::`,
      });
    });

    test("the backup job dumps as the backup role; the drill, which restores into an instance of its own, gets nothing more", () => {
      for (const job of ["production-backup", "production-restore-drill"])
        expect(secretsOf(job)).toEqual({
          PGUSER: `${role("backup")}:username::`,
          PGPASSWORD: `${role("backup")}:password::`,
        });
      expect(ofType(plan.resources, "aws:iam/role:Role").map((r) => r.name)).not.toContain(
        "production-drill-execution",
      );
    });

    test("only the bootstrap task gets the master credentials, with every role's password", () => {
      const withMaster = ofType(plan.resources, "aws:ecs/taskDefinition:TaskDefinition")
        .filter((t) => containersOf(t).some((c) => c.secrets.some((s) => s.valueFrom.startsWith(master))))
        .map((t) => t.name);
      expect(withMaster).toEqual(["production-db-roles"]);
      expect(container("production-db-roles").command).toEqual(["bootstrap-roles"]);
      expect(secretsOf("production-db-roles")).toEqual({
        PGUSER: `${master}:username::`,
        PGPASSWORD: `${master}:password::`,
        ...Object.fromEntries(
          ["app", "migrate", "backup", "maintenance"].flatMap((p) =>
            ["a", "b"].map((slot) => [
              `OPSBOOK_ROLE_${p.toUpperCase()}_${slot.toUpperCase()}_PASSWORD`,
              `${role(p, slot)}:password::`,
            ]),
          ),
        ),
      });
    });

    test("the role secrets are encrypted with the database's key, protected, and hold a composed, secret URL", () => {
      for (const name of ["app", "migrate", "backup", "maintenance"].flatMap((p) => [`${p}-a`, `${p}-b`])) {
        expect(one(plan.resources, "aws:secretsmanager/secret:Secret", `production-db-role-${name}`)).toMatchObject({
          protect: true,
          inputs: { kmsKeyId: DB_KEY, recoveryWindowInDays: 30 },
        });
      }
    });

    test("publishes the bootstrap's run-task command", () => {
      expect(plan.outputs.databaseRoles).toMatchObject({
        bootstrap: {
          taskDefinitionArn: "arn:aws:ecs:eu-west-1:123456789012:taskdefinition/production-db-roles",
          command: expect.stringContaining(
            "aws ecs run-task --cluster opsbook-production --task-definition arn:aws:ecs:eu-west-1:123456789012:taskdefinition/production-db-roles --launch-type FARGATE",
          ) as string,
        },
      });
    });
  });

  test("the schedules retry a failed start twice and drop a run an hour late, as the CronJobs on Kubernetes do", () => {
    for (const name of ["production-backup", "production-restore-drill"])
      expect(one(plan.resources, "aws:scheduler/schedule:Schedule", name).inputs.target).toMatchObject({
        retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 3600 },
      });
  });

  test("routes /api/* to api and everything else to web, health-checked at the runbook values", () => {
    expect(one(plan.resources, "aws:lb/listenerRule:ListenerRule", "api").inputs).toMatchObject({
      priority: 100,
      conditions: [{ pathPattern: { values: api!.paths } }],
    });
    expect(one(plan.resources, "aws:lb/listenerRule:ListenerRule", "web").inputs).toMatchObject({
      priority: 50000,
      conditions: [{ pathPattern: { values: ["/*"] } }],
    });
    for (const name of ["api", "web"]) {
      expect(one(plan.resources, "aws:lb/targetGroup:TargetGroup", name).inputs.healthCheck).toMatchObject({
        path: "/health",
        interval: 30,
        timeout: 10,
        healthyThreshold: 2,
        unhealthyThreshold: 3,
      });
    }
  });

  test("keeps the load balancer from being deleted, with HTTPS only", () => {
    expect(one(plan.resources, "aws:lb/loadBalancer:LoadBalancer", "production").inputs).toMatchObject({
      enableDeletionProtection: true,
      dropInvalidHeaderFields: true,
    });
    expect(one(plan.resources, "aws:lb/listener:Listener", "production-https").inputs).toMatchObject({
      certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000",
      sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
    });
  });

  test("publishes each service's automatic rollback timing, inside runbook 004's 5 and 10 minutes", () => {
    expect(plan.outputs.rollbackTiming).toEqual({
      api: { startsWithinSeconds: 270, completesWithinSeconds: 420 },
      web: { startsWithinSeconds: 270, completesWithinSeconds: 420 },
    });
  });

  test("publishes runbook 002's deploy windows and the smoke checks for the opsbook command", () => {
    expect(plan.outputs.deploy).toEqual({
      anyTime: false,
      windows: [{ days: ["tue", "wed"], from: "10:00", to: "14:00" }],
      holidays: ["2026-12-25", "2026-12-28", "2027-01-01"],
      monthEndDays: 1,
      timeZone: "Europe/London",
      notifyTopicArn: "arn:aws:sns:eu-west-1:123456789012:production-warning",
      smokeChecks: { api: [{ path: "/api/status", status: 200 }], web: [{ path: "/", status: 200 }] },
      // Off as shipped; `opsbook deploy` refuses while it is on.
      maintenance: { enabled: false, allow: [] },
    });
  });

  test("exports what a deploy needs: URL, cluster, services, topics and the migration task", () => {
    expect(plan.outputs).toMatchObject({
      url: "https://production.eu-west-1.elb.amazonaws.com",
      clusterName: "opsbook-production",
      serviceNames: { api: "opsbook-production-api", web: "opsbook-production-web" },
      alarmTopicArns: {
        warning: "arn:aws:sns:eu-west-1:123456789012:production-warning",
        critical: "arn:aws:sns:eu-west-1:123456789012:production-critical",
      },
      migration: {
        taskDefinitionArn: "arn:aws:ecs:eu-west-1:123456789012:taskdefinition/api-migrate",
        cluster: "opsbook-production",
        securityGroups: [id(SG, "production-app")],
        command: `aws ecs run-task --cluster opsbook-production --task-definition arn:aws:ecs:eu-west-1:123456789012:taskdefinition/api-migrate --launch-type FARGATE --network-configuration 'awsvpcConfiguration={subnets=[${["a", "b", "c"].map((z) => id(SUBNET, `production-private-eu-west-1${z}`)).join(",")}],securityGroups=[${id(SG, "production-app")}],assignPublicIp=DISABLED}'`,
      },
    });
  });

  test("declares the runbook alarm set: per service, load balancer, certificate, database, each cache node, backups, rollback", () => {
    const alarms = ofType(plan.resources, "aws:cloudwatch/metricAlarm:MetricAlarm");
    // services 2 x (4 pairs + 2 critical); load balancer, certificate: a pair each; database 5 pairs;
    // cache: the group's hit rate and 2 nodes x 2 pairs; backups: 1 critical + 1 warning;
    // rollback: 2 per service, to the warning topic (the critical alarms page for the same event);
    // database maintenance: 3 warnings (R-db-maintenance).
    expect(alarms).toHaveLength(2 * 10 + 2 + 2 + 10 + 2 + 2 * 4 + 2 + 2 * 2 + 3);
    const bySeverity = (severity: string) =>
      alarms.filter((a) => (a.inputs.tags as Record<string, string>).severity === severity).length;
    expect([bySeverity("warning"), bySeverity("critical")]).toEqual([
      2 * 4 + 1 + 1 + 5 + 1 + 2 * 2 + 1 + 2 * 2 + 3,
      2 * 6 + 1 + 1 + 5 + 1 + 2 * 2 + 1,
    ]);
    expect(
      one(plan.resources, "aws:cloudwatch/metricAlarm:MetricAlarm", "production-database-connections-critical").inputs,
    ).toMatchObject({ threshold: 95 });
    expect(
      one(plan.resources, "aws:cloudwatch/metricAlarm:MetricAlarm", "production-cache-hit-rate-warning").inputs,
    ).toMatchObject({ threshold: 80, comparisonOperator: "LessThanThreshold" });
    expect(
      one(plan.resources, "aws:cloudwatch/metricAlarm:MetricAlarm", "production-api-http-error-rate-critical").inputs,
    ).toMatchObject({ threshold: 5, alarmActions: ["arn:aws:sns:eu-west-1:123456789012:production-critical"] });
    expect(
      one(plan.resources, "aws:cloudwatch/metricAlarm:MetricAlarm", "production-web-cpu-warning").inputs,
    ).toMatchObject({ threshold: 70, alarmActions: ["arn:aws:sns:eu-west-1:123456789012:production-warning"] });
  });

  test("dumps the database nightly at 02:00 London time with libpq settings, and keeps the dumps locked for 30 days", () => {
    const [container] = containersOf(one(plan.resources, "aws:ecs/taskDefinition:TaskDefinition", "production-backup"));
    expect(container?.environment.slice(0, 4)).toEqual([
      { name: "PGHOST", value: "opsbook-production.mock.eu-west-1.rds.amazonaws.com" },
      { name: "PGPORT", value: "5432" },
      { name: "PGDATABASE", value: "app" },
      { name: "PGSSLMODE", value: "verify-full" },
    ]);
    expect(container?.secrets.map((s) => s.name)).toEqual(["PGUSER", "PGPASSWORD"]);
    expect(one(plan.resources, "aws:scheduler/schedule:Schedule", "production-backup").inputs).toMatchObject({
      scheduleExpression: "cron(0 2 * * ? *)",
      scheduleExpressionTimezone: "Europe/London",
    });
    expect(
      one(plan.resources, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", "production").inputs
        .rule,
    ).toEqual({ defaultRetention: { mode: "GOVERNANCE", days: 30 } });
  });

  test("counts slow statements from the PostgreSQL log", () => {
    expect(
      one(plan.resources, "aws:cloudwatch/logMetricFilter:LogMetricFilter", "production-slow-queries").inputs,
    ).toEqual({
      logGroupName: "/aws/rds/instance/opsbook-production/postgresql",
      pattern: '"duration:"',
      metricTransformation: {
        namespace: "Opsbook/production",
        name: "PostgresSlowQueries",
        value: "1",
        defaultValue: "0",
      },
    });
  });

  test("draws every alarmed signal on one dashboard", () => {
    const body = JSON.parse(
      one(plan.resources, "aws:cloudwatch/dashboard:Dashboard", "production").inputs.dashboardBody as string,
    ) as { widgets: unknown[] };
    expect(body.widgets).toHaveLength(2 * 6 + 1 + 1 + 5 + 1 + 2 * 2 + 2 + 3);
    expect(one(plan.resources, "aws:cloudwatch/dashboard:Dashboard", "production").inputs.dashboardName).toBe(
      "opsbook-production",
    );
  });

  test("runs PostgreSQL 16 Multi-AZ in the three isolated subnets, encrypted, TLS-only, backed up 02:00-03:00 UTC for 30 days", () => {
    const db = one(plan.resources, "aws:rds/instance:Instance", "production-opsbook-production");
    expect(db.inputs).toEqual({
      identifier: "opsbook-production",
      engine: "postgres",
      engineVersion: "16",
      autoMinorVersionUpgrade: true,
      allowMajorVersionUpgrade: true,
      instanceClass: "db.r6g.large",
      storageType: "gp3",
      allocatedStorage: 100,
      maxAllocatedStorage: 500,
      storageEncrypted: true,
      kmsKeyId: DB_KEY,
      dbName: "app",
      username: "app_admin",
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: DB_KEY,
      iamDatabaseAuthenticationEnabled: true,
      port: 5432,
      publiclyAccessible: false,
      dbSubnetGroupName: "production-db",
      vpcSecurityGroupIds: [id(SG, "production-db")],
      parameterGroupName: "production-db",
      multiAz: true,
      deletionProtection: true,
      backupRetentionPeriod: 30,
      // Europe/London's standard offset is 0: the runbook's 02:00 is 02:00 UTC.
      backupWindow: "02:00-03:00",
      maintenanceWindow: "sun:04:00-sun:05:00",
      copyTagsToSnapshot: true,
      skipFinalSnapshot: false,
      finalSnapshotIdentifier: "opsbook-production-final-0a1b2c3d",
      deleteAutomatedBackups: false,
      enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
      performanceInsightsEnabled: true,
      performanceInsightsKmsKeyId: DB_KEY,
      performanceInsightsRetentionPeriod: 7,
      monitoringInterval: 60,
      monitoringRoleArn: "arn:aws:iam::123456789012:role/production-db-monitoring",
    });
    expect(db.protect).toBe(true);
    expect(one(plan.resources, "aws:rds/parameterGroup:ParameterGroup", "production-db").inputs).toEqual({
      family: "postgres16",
      description: "opsbook production: TLS required, slow statements logged",
      parameters: [
        { name: "rds.force_ssl", value: "1", applyMethod: "pending-reboot" },
        { name: "log_min_duration_statement", value: "100", applyMethod: "immediate" },
        { name: "shared_preload_libraries", value: "pg_stat_statements", applyMethod: "pending-reboot" },
      ],
    });
    expect(one(plan.resources, "aws:rds/subnetGroup:SubnetGroup", "production-db").inputs.subnetIds).toEqual(
      isolated(),
    );
    expect(
      ofType(plan.resources, "aws:cloudwatch/logGroup:LogGroup")
        .filter((g) => String(g.inputs.name).startsWith("/aws/rds/"))
        .map((g) => [g.inputs.name, g.inputs.retentionInDays]),
    ).toEqual([
      ["/aws/rds/instance/opsbook-production/postgresql", 365],
      ["/aws/rds/instance/opsbook-production/upgrade", 365],
    ]);
  });

  test("runs two Redis 7.1 nodes across zones with failover, encrypted at rest and in transit, snapshotted daily", () => {
    const group = one(plan.resources, "aws:elasticache/replicationGroup:ReplicationGroup", "production-redis");
    expect(group.inputs).toEqual({
      replicationGroupId: "opsbook-production",
      description: "opsbook production: cache and sessions",
      engine: "redis",
      engineVersion: "7.1",
      autoMinorVersionUpgrade: true,
      nodeType: "cache.r6g.large",
      numCacheClusters: 2,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      port: 6379,
      subnetGroupName: "production-redis",
      securityGroupIds: [id(SG, "production-redis")],
      atRestEncryptionEnabled: true,
      kmsKeyId: REDIS_KEY,
      transitEncryptionEnabled: true,
      transitEncryptionMode: "required",
      authToken: "[secret]",
      snapshotRetentionLimit: 7,
      snapshotWindow: "03:00-04:00",
      maintenanceWindow: "sun:05:00-sun:06:00",
      finalSnapshotIdentifier: "opsbook-production-final-0a1b2c3d",
      logDeliveryConfigurations: [
        {
          destinationType: "cloudwatch-logs",
          destination: "/aws/elasticache/opsbook-production/slow-log",
          logFormat: "json",
          logType: "slow-log",
        },
        {
          destinationType: "cloudwatch-logs",
          destination: "/aws/elasticache/opsbook-production/engine-log",
          logFormat: "json",
          logType: "engine-log",
        },
      ],
    });
    expect(group.protect).toBe(true);
    expect(one(plan.resources, "aws:elasticache/subnetGroup:SubnetGroup", "production-redis").inputs.subnetIds).toEqual(
      isolated(),
    );
    expect(one(plan.resources, "aws:secretsmanager/secret:Secret", "production-redis-auth-token")).toMatchObject({
      protect: true,
      inputs: { kmsKeyId: REDIS_KEY },
    });
  });

  test("gives each data store a rotating, protected key of its own", () => {
    expect(
      ofType(plan.resources, "aws:kms/key:Key").map((k) => [k.name, k.inputs.enableKeyRotation, k.protect]),
    ).toEqual([
      ["alerts-key", true, true],
      ["app-secrets-key", true, true],
      ["backups-key", true, true],
      ["images-key", true, true], // the image repositories' (R-security-image-scan)
      ["logs-key", true, true],
      ["production-db-key", true, true],
      ["production-dr-key", true, true], // the disaster-recovery copies' key, in backup.drRegion
      ["production-redis-key", true, true],
    ]);
  });

  test("opens 5432 and 6379 only from the app security group, and lets the app out to them (the drill's instance: from the drill task only)", () => {
    expect(
      ofType(plan.resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        .filter((r) => r.inputs.referencedSecurityGroupId && [5432, 6379].includes(r.inputs.fromPort as number))
        .map((r) => r.inputs),
    ).toEqual([
      {
        securityGroupId: id(SG, "production-db"),
        description: "PostgreSQL from the app tasks",
        ipProtocol: "tcp",
        fromPort: 5432,
        toPort: 5432,
        referencedSecurityGroupId: id(SG, "production-app"),
      },
      {
        securityGroupId: id(SG, "production-redis"),
        description: "Redis from the app tasks",
        ipProtocol: "tcp",
        fromPort: 6379,
        toPort: 6379,
        referencedSecurityGroupId: id(SG, "production-app"),
      },
      {
        securityGroupId: idOfOne(plan.resources, "aws:ec2/securityGroup:SecurityGroup", "production-restore-drill-db"),
        description: "PostgreSQL from the drill task",
        ipProtocol: "tcp",
        fromPort: 5432,
        toPort: 5432,
        referencedSecurityGroupId: idOfOne(
          plan.resources,
          "aws:ec2/securityGroup:SecurityGroup",
          "production-restore-drill-task",
        ),
      },
    ]);
    expect(
      ofType(plan.resources, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
        .filter((r) => r.inputs.referencedSecurityGroupId && [5432, 6379].includes(r.inputs.fromPort as number))
        .map((r) => r.inputs),
    ).toEqual([
      {
        securityGroupId: id(SG, "production-app"),
        description: "PostgreSQL to the database",
        ipProtocol: "tcp",
        fromPort: 5432,
        toPort: 5432,
        referencedSecurityGroupId: id(SG, "production-db"),
      },
      {
        securityGroupId: id(SG, "production-app"),
        description: "Redis to the cache",
        ipProtocol: "tcp",
        fromPort: 6379,
        toPort: 6379,
        referencedSecurityGroupId: id(SG, "production-redis"),
      },
      {
        securityGroupId: idOfOne(
          plan.resources,
          "aws:ec2/securityGroup:SecurityGroup",
          "production-restore-drill-task",
        ),
        description: "PostgreSQL to the drill instance",
        ipProtocol: "tcp",
        fromPort: 5432,
        toPort: 5432,
        referencedSecurityGroupId: idOfOne(
          plan.resources,
          "aws:ec2/securityGroup:SecurityGroup",
          "production-restore-drill-db",
        ),
      },
    ]);
  });

  test("exports the network by tier and where the data stores are", () => {
    expect(plan.outputs).toMatchObject({
      vpcId: id(VPC, "production-vpc"),
      publicSubnetIds: [
        id(SUBNET, "production-public-eu-west-1a"),
        id(SUBNET, "production-public-eu-west-1b"),
        id(SUBNET, "production-public-eu-west-1c"),
      ],
      privateSubnetIds: [
        id(SUBNET, "production-private-eu-west-1a"),
        id(SUBNET, "production-private-eu-west-1b"),
        id(SUBNET, "production-private-eu-west-1c"),
      ],
      isolatedSubnetIds: [
        id(SUBNET, "production-isolated-eu-west-1a"),
        id(SUBNET, "production-isolated-eu-west-1b"),
        id(SUBNET, "production-isolated-eu-west-1c"),
      ],
      logsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/logs-key",
      loadBalancerSecurityGroupId: id(SG, "production-alb"),
      appSecurityGroupId: id(SG, "production-app"),
      databaseIdentifier: "opsbook-production",
      databaseEndpoint: "opsbook-production.mock.eu-west-1.rds.amazonaws.com:5432",
      databaseHost: "opsbook-production.mock.eu-west-1.rds.amazonaws.com",
      databasePort: 5432,
      databaseName: "app",
      databaseMasterSecretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!opsbook-production",
      redisReplicationGroupId: "opsbook-production",
      redisPrimaryEndpoint: "master.opsbook-production.mock.cache.amazonaws.com",
      redisPort: 6379,
      redisAuthTokenSecretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:production-redis-auth-token",
    });
  });
});

describe("the policy pack over the production stack", () => {
  let report: PolicyReport;
  beforeAll(async () => {
    report = await checkPlan(plan, { configFile: stackConfigFile("production") });
  });

  test("finds nothing to report in what Pulumi.production.yaml declares", () => {
    expect(report.configFile).toBe(stackConfigFile("production"));
    expect(report.plan.resources.length).toBeGreaterThan(30);
    expect(report.diagnostics).toEqual([]);
    expect(report.exitCode).toBe(0);
  });

  test("would stop an update that unprotects the logs key or keeps flow logs only a month", async () => {
    const weakened = {
      ...report.plan,
      resources: report.plan.resources.map((r) =>
        r.name === "logs-key"
          ? { ...r, protect: false }
          : r.name === "production-flow-logs"
            ? { ...r, inputs: { ...r.inputs, retentionInDays: 30 } }
            : r,
      ),
    };
    const check = await checkPlan(weakened, { configFile: stackConfigFile("production") });
    expect(check.diagnostics.map((d) => [d.enforcementLevel, d.policyName, d.resource?.name])).toEqual([
      ["mandatory", "cloudwatch-log-group-retention", "production-flow-logs"],
      ["mandatory", "stateful-resource-protected", "logs-key"],
    ]);
    expect(check.exitCode).toBe(1);
  });
});
