import { ofType, one } from "../helpers/mocks";
import { type Plan, planStack } from "../helpers/stack";
import { stackInvariants } from "./stackInvariants";

const ISOLATED = ["production-isolated-eu-west-1a-id", "production-isolated-eu-west-1b-id", "production-isolated-eu-west-1c-id"];
const DB_KEY = "arn:aws:kms:eu-west-1:123456789012:key/production-db-key";
const REDIS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/production-redis-key";

let plan: Plan;
beforeAll(async () => {
  plan = await planStack("production");
});

describe("production stack, built from Pulumi.production.yaml", () => {
  stackInvariants(() => plan, true);

  test("spans three zones with a NAT gateway in each", () => {
    expect(ofType(plan.resources, "aws:ec2/subnet:Subnet")).toHaveLength(9);
    expect(ofType(plan.resources, "aws:ec2/natGateway:NatGateway").map((n) => n.inputs.subnetId)).toEqual([
      "production-public-eu-west-1a-id",
      "production-public-eu-west-1b-id",
      "production-public-eu-west-1c-id",
    ]);
    expect(one(plan.resources, "aws:ec2/vpc:Vpc", "production-vpc").inputs.cidrBlock).toBe("10.10.0.0/16");
  });

  test("keeps flow logs for a year", () => {
    expect(one(plan.resources, "aws:cloudwatch/logGroup:LogGroup", "production-flow-logs").inputs.retentionInDays).toBe(365);
  });

  test("runs PostgreSQL 16 Multi-AZ in the three isolated subnets, encrypted, TLS-only, backed up 02:00-03:00 UTC for 30 days", () => {
    const db = one(plan.resources, "aws:rds/instance:Instance", "production-opsbook-production");
    expect(db.inputs).toEqual({
      identifier: "opsbook-production",
      engine: "postgres",
      engineVersion: "16",
      autoMinorVersionUpgrade: true,
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
      vpcSecurityGroupIds: ["production-db-id"],
      parameterGroupName: "production-db",
      multiAz: true,
      deletionProtection: true,
      backupRetentionPeriod: 30,
      // Europe/London's standard offset is 0: the runbook's 02:00 is 02:00 UTC.
      backupWindow: "02:00-03:00",
      maintenanceWindow: "sun:04:00-sun:05:00",
      copyTagsToSnapshot: true,
      skipFinalSnapshot: false,
      finalSnapshotIdentifier: "opsbook-production-final",
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
      ],
    });
    expect(one(plan.resources, "aws:rds/subnetGroup:SubnetGroup", "production-db").inputs.subnetIds).toEqual(ISOLATED);
    expect(ofType(plan.resources, "aws:cloudwatch/logGroup:LogGroup").filter((g) => String(g.inputs.name).startsWith("/aws/rds/")).map((g) => [g.inputs.name, g.inputs.retentionInDays])).toEqual([
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
      securityGroupIds: ["production-redis-id"],
      atRestEncryptionEnabled: true,
      kmsKeyId: REDIS_KEY,
      transitEncryptionEnabled: true,
      transitEncryptionMode: "required",
      authToken: "[secret]",
      snapshotRetentionLimit: 7,
      snapshotWindow: "03:00-04:00",
      maintenanceWindow: "sun:05:00-sun:06:00",
      finalSnapshotIdentifier: "opsbook-production-final",
      logDeliveryConfigurations: [
        { destinationType: "cloudwatch-logs", destination: "/aws/elasticache/opsbook-production/slow-log", logFormat: "json", logType: "slow-log" },
        { destinationType: "cloudwatch-logs", destination: "/aws/elasticache/opsbook-production/engine-log", logFormat: "json", logType: "engine-log" },
      ],
    });
    expect(group.protect).toBe(true);
    expect(one(plan.resources, "aws:elasticache/subnetGroup:SubnetGroup", "production-redis").inputs.subnetIds).toEqual(ISOLATED);
    expect(one(plan.resources, "aws:secretsmanager/secret:Secret", "production-redis-auth-token")).toMatchObject({ protect: true, inputs: { kmsKeyId: REDIS_KEY } });
  });

  test("gives each data store a rotating, protected key of its own", () => {
    expect(ofType(plan.resources, "aws:kms/key:Key").map((k) => [k.name, k.inputs.enableKeyRotation, k.protect])).toEqual([
      ["logs-key", true, true],
      ["production-db-key", true, true],
      ["production-redis-key", true, true],
    ]);
  });

  test("opens 5432 and 6379 only from the app security group, and lets the app out to them", () => {
    expect(ofType(plan.resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((r) => r.inputs.referencedSecurityGroupId).map((r) => r.inputs)).toEqual([
      { securityGroupId: "production-db-id", description: "PostgreSQL from the app tasks", ipProtocol: "tcp", fromPort: 5432, toPort: 5432, referencedSecurityGroupId: "production-app-id" },
      { securityGroupId: "production-redis-id", description: "Redis from the app tasks", ipProtocol: "tcp", fromPort: 6379, toPort: 6379, referencedSecurityGroupId: "production-app-id" },
    ]);
    expect(ofType(plan.resources, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule").filter((r) => r.inputs.referencedSecurityGroupId).map((r) => r.inputs)).toEqual([
      { securityGroupId: "production-app-id", description: "PostgreSQL to the database", ipProtocol: "tcp", fromPort: 5432, toPort: 5432, referencedSecurityGroupId: "production-db-id" },
      { securityGroupId: "production-app-id", description: "Redis to the cache", ipProtocol: "tcp", fromPort: 6379, toPort: 6379, referencedSecurityGroupId: "production-redis-id" },
    ]);
  });

  test("exports the network by tier and where the data stores are", () => {
    expect(plan.outputs).toEqual({
      vpcId: "production-vpc-id",
      publicSubnetIds: ["production-public-eu-west-1a-id", "production-public-eu-west-1b-id", "production-public-eu-west-1c-id"],
      privateSubnetIds: ["production-private-eu-west-1a-id", "production-private-eu-west-1b-id", "production-private-eu-west-1c-id"],
      isolatedSubnetIds: ["production-isolated-eu-west-1a-id", "production-isolated-eu-west-1b-id", "production-isolated-eu-west-1c-id"],
      logsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/logs-key",
      loadBalancerSecurityGroupId: "production-alb-id",
      appSecurityGroupId: "production-app-id",
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
