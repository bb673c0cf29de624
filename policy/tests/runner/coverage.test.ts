/**
 * Every rule of issue #15's coverage against the real production plan: the plan as the program
 * declares it passes, and a copy broken in the one way each rule is about fails with that rule.
 */
import type { Policy } from "@pulumi/policy";
import { type Plan, planStack } from "../../../test/helpers/stack";
import type { RecordedResource } from "../../../tools/plan/mocks";
import { placeholderId } from "../../../tools/plan/placeholders";
import { checkPlan, stackConfigFile } from "../../../tools/policy/cli";
import { alarmThresholdPolicies } from "../../rules/alarmThresholds";
import { ecsTaskSecretsNotInEnvironment } from "../../rules/ecs";
import { iamPolicies } from "../../rules/iam";
import { keyAndSecretPolicies } from "../../rules/keysAndSecrets";
import { wafPolicies } from "../../rules/waf";
import { workloadPolicies } from "../../rules/workloads";
import { worldPolicies } from "../../rules/world";

let plan: Plan;
beforeAll(async () => {
  plan = await planStack("production");
});

const RULES: Policy[] = [
  ...workloadPolicies,
  ecsTaskSecretsNotInEnvironment,
  ...iamPolicies,
  ...worldPolicies,
  ...alarmThresholdPolicies,
  ...keyAndSecretPolicies,
  ...wafPolicies,
];

/** A deep copy of the plan with `change` applied to it. */
function broken(change: (resources: RecordedResource[]) => void): Plan {
  const copy = JSON.parse(JSON.stringify(plan)) as Plan;
  change(copy.resources);
  return copy;
}

function find(resources: RecordedResource[], type: string, name: string): RecordedResource {
  const r = resources.find((x) => x.type === type && x.name === name);
  if (!r) throw new Error(`no ${type} ${name} in the production plan`);
  return r;
}

function added(
  parent: RecordedResource,
  type: string,
  name: string,
  inputs: Record<string, unknown>,
): RecordedResource {
  return {
    ...parent,
    urn: `${parent.urn.split("::").slice(0, 2).join("::")}::${type}::${name}`,
    type,
    name,
    custom: true,
    protect: false,
    inputs,
  };
}

const TASK = "aws:ecs/taskDefinition:TaskDefinition";
const SG = "aws:ec2/securityGroup:SecurityGroup";
const idOf = (r: RecordedResource) => placeholderId(r.urn, r.type, r.name, r.inputs);

function container(resources: RecordedResource[], change: Record<string, unknown>): void {
  const task = find(resources, TASK, "api");
  const defs = JSON.parse(task.inputs.containerDefinitions as string) as Array<Record<string, unknown>>;
  Object.assign(defs[0]!, change);
  task.inputs.containerDefinitions = JSON.stringify(defs);
}

const doc = (...Statement: Array<Record<string, unknown>>) => JSON.stringify({ Version: "2012-10-17", Statement });

/** rule name -> how to break the plan for it. */
const BREAKS: Record<string, (resources: RecordedResource[]) => void> = {
  "ecs-task-non-root": (rs) => container(rs, { user: "0" }),
  "ecs-task-no-added-capabilities": (rs) =>
    container(rs, { linuxParameters: { capabilities: { add: ["SYS_ADMIN"] } } }),
  "ecs-task-no-host-namespaces": (rs) => void (find(rs, TASK, "api").inputs.pidMode = "host"),
  "ecs-task-secrets-not-in-environment": (rs) =>
    container(rs, { environment: [{ name: "UPSTREAM", value: "postgres://app:" + "pw123456" + "@db.internal/app" }] }),
  "iam-no-admin-managed-policies": (rs) =>
    void (find(rs, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "production-db-monitoring").inputs.policyArn =
      "arn:aws:iam::aws:policy/AdministratorAccess"),
  "iam-no-escalation-actions": (rs) =>
    void (find(rs, "aws:iam/rolePolicy:RolePolicy", "production-task").inputs.policy = doc({
      Effect: "Allow",
      Action: "iam:PassRole",
      Resource: "*",
    })),
  "iam-no-not-action-allow": (rs) =>
    void (find(rs, "aws:iam/rolePolicy:RolePolicy", "production-task").inputs.policy = doc({
      Effect: "Allow",
      NotAction: "iam:*",
      Resource: "arn:aws:s3:::x",
    })),
  "iam-trust-not-public": (rs) =>
    void (find(rs, "aws:iam/role:Role", "production-task").inputs.assumeRolePolicy = doc({
      Effect: "Allow",
      Principal: { AWS: "*" },
      Action: "sts:AssumeRole",
    })),
  "security-group-world-ingress-combined": (rs) => {
    const app = find(rs, SG, "production-app");
    for (const [name, cidrIpv4] of [
      ["ssh-low", "0.0.0.0/1"],
      ["ssh-high", "128.0.0.0/1"],
    ] as const)
      rs.push(
        added(app, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", name, {
          securityGroupId: idOf(app),
          ipProtocol: "tcp",
          fromPort: 22,
          toPort: 22,
          cidrIpv4,
          description: "SSH",
        }),
      );
  },
  "data-tier-no-world-egress": (rs) => {
    const db = find(rs, SG, "production-db");
    rs.push(
      added(db, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "db-out", {
        securityGroupId: idOf(db),
        ipProtocol: "-1",
        cidrIpv4: "0.0.0.0/0",
        description: "anything",
      }),
    );
  },
  "alarm-thresholds-runbook": (rs) =>
    void (find(rs, "aws:cloudwatch/metricAlarm:MetricAlarm", "production-database-cpu-critical").inputs.threshold = 99),
  "backup-freshness-alarm": (rs) =>
    void (find(
      rs,
      "aws:cloudwatch/metricAlarm:MetricAlarm",
      "production-backups-last-good-backup-critical",
    ).inputs.treatMissingData = "notBreaching"),
  "kms-customer-managed-keys": (rs) =>
    void (find(rs, "aws:sns/topic:Topic", "production-critical").inputs.kmsMasterKeyId = "alias/aws/sns"),
  "rds-managed-password": (rs) => {
    const db = rs.find((r) => r.type === "aws:rds/instance:Instance")!;
    delete db.inputs.manageMasterUserPassword;
    db.inputs.password = "plain-text-password";
  },
  "waf-rate-limit-bounds": (rs) => {
    const acl = rs.find((r) => r.type === "aws:wafv2/webAcl:WebAcl")!;
    const rules = acl.inputs.rules as Array<{ statement: { rateBasedStatement?: { limit: number } } }>;
    rules.find((r) => r.statement.rateBasedStatement)!.statement.rateBasedStatement!.limit = 2_000_000;
  },
};

test("every rule of the coverage has a way to break the plan", () => {
  expect(Object.keys(BREAKS).sort()).toEqual(
    RULES.map((r) => r.name)
      .filter((n) => n !== "k8s-no-host-namespaces")
      .sort(),
  );
});

test("the production plan passes every rule", async () => {
  const report = await checkPlan(plan, { configFile: stackConfigFile("production") });
  expect(report.diagnostics).toEqual([]);
});

test.each(Object.keys(BREAKS))("%s fails the production plan broken for it, as mandatory", async (name) => {
  // The whole pack, with production's config: the break trips this rule and no other.
  const report = await checkPlan(broken(BREAKS[name]!), { configFile: stackConfigFile("production") });
  expect(report.diagnostics.map((d) => [d.policyName, d.enforcementLevel])).toEqual(
    report.diagnostics.map(() => [name, "mandatory"]),
  );
  expect(report.diagnostics.length).toBeGreaterThan(0);
  expect(report.exitCode).toBe(1);
});

test("alarm-thresholds-runbook holds every runbook-table alarm of the plan: loosening each is reported", async () => {
  const TABLE_FAMILIES = [
    "cpu",
    "memory",
    "disk",
    "connections",
    "http-error-rate",
    "response-time-p95",
    "hit-rate",
    "days-to-expiry",
  ];
  const loosened = broken((rs) => {
    for (const r of rs.filter((x) => x.type === "aws:cloudwatch/metricAlarm:MetricAlarm")) {
      const tags = r.inputs.tags as Record<string, string> | undefined;
      if (!TABLE_FAMILIES.includes(tags?.family ?? "") || tags?.purpose === "rollback") continue;
      const t = r.inputs.threshold as number;
      r.inputs.threshold = String(r.inputs.comparisonOperator).startsWith("Greater") ? t * 10 + 1 : t / 10 - 1;
    }
  });
  const counted = loosened.resources.filter(
    (r) =>
      r.type === "aws:cloudwatch/metricAlarm:MetricAlarm" &&
      TABLE_FAMILIES.includes((r.inputs.tags as Record<string, string> | undefined)?.family ?? ""),
  );
  const report = await checkPlan(loosened, { packPolicies: [alarmThresholdPolicies[0]!] });
  expect(counted.length).toBeGreaterThan(20);
  expect(new Set(report.diagnostics.map((d) => d.resource?.name))).toEqual(new Set(counted.map((r) => r.name)));
});
