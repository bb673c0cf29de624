import { ecsImages, imageRepositories } from "./imageRepositories";
import { securityHeaders } from "./securityHeaders";
import { idOfOne, ofType, one } from "../helpers/mocks";
import { type Plan, planStack, stackFileConfig } from "../helpers/stack";
import { stackInvariants } from "./stackInvariants";
import { alarmProperties } from "./alarmProperties";
import { deploymentFailurePage } from "./deploymentFailurePage";
import { type PolicyReport, checkPlan, stackConfigFile } from "../../tools/policy/cli";
import { DEFAULT_SECURITY_GROUP, FLOW_LOG } from "../../policy/rules/network";

const isolated = (): string[] => [id(SUBNET, "staging-isolated-eu-west-1a"), id(SUBNET, "staging-isolated-eu-west-1b")];

const file = stackFileConfig("staging");
const service = (name: string) => file.services.find((s) => s.name === name);

let plan: Plan;
const SUBNET = "aws:ec2/subnet:Subnet";
const SG = "aws:ec2/securityGroup:SecurityGroup";
/** The placeholder id the plan gave a resource, as the resources that refer to it record it. */
const id = (type: string, name: string): string => idOfOne(plan.resources, type, name);
beforeAll(async () => {
  plan = await planStack("staging");
});

describe("staging stack, built from Pulumi.staging.yaml", () => {
  stackInvariants(() => plan, false);
  describe("alarm properties", () => alarmProperties(() => plan, "staging"));
  deploymentFailurePage(() => plan, "staging");
  describe("image repositories", () => imageRepositories(() => plan, "staging", false));
  describe("images on ECS", () => ecsImages(() => plan, "staging"));
  describe("security headers", () => securityHeaders(() => plan, "staging"));

  test("spans two zones and shares one NAT gateway", () => {
    expect(ofType(plan.resources, "aws:ec2/subnet:Subnet")).toHaveLength(6);
    expect(ofType(plan.resources, "aws:ec2/natGateway:NatGateway").map((n) => n.name)).toEqual([
      "staging-nat-eu-west-1a",
    ]);
    expect(one(plan.resources, "aws:ec2/vpc:Vpc", "staging-vpc").inputs.cidrBlock).toBe(file.network.cidr);
  });

  test("runs one task per service and lets the load balancer be deleted", () => {
    expect(service("api")?.desiredCount).toBe(1);
    expect(one(plan.resources, "aws:ecs/service:Service", "api").inputs.desiredCount).toBe(
      service("api")?.desiredCount,
    );
    expect(one(plan.resources, "aws:appautoscaling/target:Target", "web").inputs).toMatchObject({
      minCapacity: service("web")?.minCount,
      maxCapacity: service("web")?.maxCount,
    });
    expect(one(plan.resources, "aws:lb/loadBalancer:LoadBalancer", "staging").inputs.enableDeletionProtection).toBe(
      false,
    );
  });

  test("deploys at any time (R-deploy-windows: only production keeps windows)", () => {
    expect(plan.outputs.deploy).toMatchObject({ anyTime: true, timeZone: "Europe/London" });
    expect(plan.outputs.rollbackTiming).toEqual({
      api: { startsWithinSeconds: 270, completesWithinSeconds: 420 },
      web: { startsWithinSeconds: 270, completesWithinSeconds: 420 },
    });
  });

  test("keeps flow logs as long as the stack file says", () => {
    expect(one(plan.resources, "aws:cloudwatch/logGroup:LogGroup", "staging-flow-logs").inputs.retentionInDays).toBe(
      file.logRetentionDays,
    );
  });

  test("runs a smaller, single-zone, deletable PostgreSQL with the same encryption, TLS and backup window", () => {
    const db = one(plan.resources, "aws:rds/instance:Instance", "staging-opsbook-staging");
    expect(db.inputs).toMatchObject({
      identifier: "opsbook-staging",
      engineVersion: "16",
      instanceClass: "db.t4g.medium",
      allocatedStorage: 20,
      maxAllocatedStorage: 100,
      storageEncrypted: true,
      kmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/staging-db-key",
      publiclyAccessible: false,
      dbSubnetGroupName: "staging-db",
      vpcSecurityGroupIds: [id(SG, "staging-db")],
      multiAz: false,
      deletionProtection: false,
      backupRetentionPeriod: 7,
      backupWindow: "02:00-03:00",
      maintenanceWindow: "sun:04:00-sun:05:00",
      skipFinalSnapshot: false,
      finalSnapshotIdentifier: "opsbook-staging-final-0a1b2c3d",
      manageMasterUserPassword: true,
      performanceInsightsEnabled: true,
      monitoringInterval: 60,
    });
    expect(db.protect).toBe(false);
    expect(one(plan.resources, "aws:rds/parameterGroup:ParameterGroup", "staging-db").inputs.parameters).toEqual([
      { name: "rds.force_ssl", value: "1", applyMethod: "pending-reboot" },
      { name: "log_min_duration_statement", value: "100", applyMethod: "immediate" },
      { name: "shared_preload_libraries", value: "pg_stat_statements", applyMethod: "pending-reboot" },
    ]);
    expect(one(plan.resources, "aws:rds/subnetGroup:SubnetGroup", "staging-db").inputs.subnetIds).toEqual(isolated());
    expect(
      ofType(plan.resources, "aws:cloudwatch/logGroup:LogGroup")
        .filter((g) => String(g.inputs.name).startsWith("/aws/rds/"))
        .map((g) => g.inputs.retentionInDays),
    ).toEqual([30, 30]);
  });

  test("runs one Redis node without failover, still encrypted, authenticated and snapshotted", () => {
    const group = one(plan.resources, "aws:elasticache/replicationGroup:ReplicationGroup", "staging-redis");
    expect(group.inputs).toMatchObject({
      replicationGroupId: "opsbook-staging",
      engine: "redis",
      engineVersion: "7.1",
      nodeType: "cache.t4g.small",
      numCacheClusters: 1,
      automaticFailoverEnabled: false,
      multiAzEnabled: false,
      atRestEncryptionEnabled: true,
      kmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/staging-redis-key",
      transitEncryptionEnabled: true,
      transitEncryptionMode: "required",
      authToken: "[secret]",
      snapshotRetentionLimit: 1,
      snapshotWindow: "03:00-04:00",
      finalSnapshotIdentifier: "opsbook-staging-final-0a1b2c3d",
    });
    expect(group.protect).toBe(false);
    expect(one(plan.resources, "aws:elasticache/subnetGroup:SubnetGroup", "staging-redis").inputs.subnetIds).toEqual(
      isolated(),
    );
  });

  test("gives each data store a rotating key of its own, unprotected as the stack file says", () => {
    expect(
      ofType(plan.resources, "aws:kms/key:Key").map((k) => [k.name, k.inputs.enableKeyRotation, k.protect]),
    ).toEqual([
      ["alerts-key", true, false],
      ["app-secrets-key", true, false],
      ["backups-key", true, false],
      ["images-key", true, false], // the image repositories' (R-security-image-scan)
      ["logs-key", true, false],
      ["staging-db-key", true, false],
      ["staging-redis-key", true, false],
    ]);
  });

  test("opens the data ports only from the app security group, and the drill instance's only from the drill task", () => {
    expect(
      ofType(plan.resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        .filter((r) => [5432, 6379].includes(r.inputs.fromPort as number))
        .map((r) => [r.inputs.securityGroupId, r.inputs.fromPort, r.inputs.referencedSecurityGroupId]),
    ).toEqual([
      [id(SG, "staging-db"), 5432, id(SG, "staging-app")],
      [id(SG, "staging-redis"), 6379, id(SG, "staging-app")],
      [id(SG, "staging-restore-drill-db"), 5432, id(SG, "staging-restore-drill-task")],
    ]);
  });
});

describe("the policy pack over the staging stack", () => {
  let report: PolicyReport;
  beforeAll(async () => {
    report = await checkPlan(plan, { configFile: stackConfigFile("staging") });
  });

  test("reports only the savings Pulumi.staging.yaml chooses, as advisories", () => {
    expect(report.configFile).toBe(stackConfigFile("staging"));
    expect(report.plan.resources.length).toBeGreaterThan(20);
    // One zone for the database and the cache, and a load balancer that may be deleted: staging's
    // stack file asks for these, and staging's policy config makes them advisory.
    expect(report.diagnostics.map((d) => [d.enforcementLevel, d.policyName, d.resource?.name])).toEqual([
      ["advisory", "rds-multi-az", "staging-opsbook-staging"],
      ["advisory", "rds-deletion-protection", "staging-opsbook-staging"],
      ["advisory", "elasticache-failover", "staging-redis"],
      ["advisory", "elasticache-failover", "staging-redis"],
      ["advisory", "elasticache-failover", "staging-redis"],
      ["advisory", "alb-deletion-protection", "staging"],
    ]);
    expect(report.exitCode).toBe(0);
  });

  test("checks the real network: without its flow log and locked default group the VPC fails", async () => {
    const stripped = {
      ...report.plan,
      resources: report.plan.resources.filter((r) => r.type !== FLOW_LOG && r.type !== DEFAULT_SECURITY_GROUP),
    };
    const check = await checkPlan(stripped, { configFile: stackConfigFile("staging") });
    expect(
      check.diagnostics
        .filter((d) => d.enforcementLevel === "mandatory")
        .map((d) => [d.enforcementLevel, d.policyName, d.resource?.name]),
    ).toEqual([
      ["mandatory", "vpc-flow-logs", "staging-vpc"],
      ["mandatory", "vpc-default-security-group-locked", "staging-vpc"],
    ]);
  });

  test("leaves staging's unprotected key alone, as its config says", async () => {
    const key = report.plan.resources.find((r) => r.type === "aws:kms/key:Key");
    expect(key?.protect).toBe(false);
    expect(
      (await checkPlan(report.plan, { configFile: stackConfigFile("staging") })).diagnostics.filter((d) =>
        d.policyName.startsWith("stateful-resource"),
      ),
    ).toEqual([]);
  });
});
