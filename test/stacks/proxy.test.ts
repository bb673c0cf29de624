/**
 * RDS Proxy (R-db-proxy) switched on over the production stack file: the proxy, its auths, role,
 * target group and target, the security group rules, DB_HOST of the services (and the instance's
 * for the migration task), the proxy's alarms, and the policy pack with no mandatory violation.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { parseConfig, type ConfigError } from "../../stacks/config";
import { REPO_ROOT, type Plan } from "../../tools/plan/plan";
import { planVariant, withPostgres } from "../helpers/variant";
import { checkPlan, stackConfigFile } from "../../tools/policy/cli";
import { containersOf, idOf, idOfOne, ofType, one, policyOf } from "../helpers/mocks";

/** A stack file (production by default) with `postgres` merged into its `opsbook:postgres`, planned as stack `proxy`. */
const planWith = (postgres: Record<string, unknown>, stack = "production"): Promise<Plan> =>
  planVariant(stack, "proxy", withPostgres(postgres));

let plan: Plan;
beforeAll(async () => {
  plan = await planWith({ proxy: { enabled: true } });
}, 120_000);

const PROXY = "opsbook-production-proxy";
const SECRET = (slot: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:production-db-role-app-${slot}`;
const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const sg = (name: string) => idOfOne(plan.resources, "aws:ec2/securityGroup:SecurityGroup", name);

describe("the proxy on production", () => {
  test("TLS required, in the data subnets, behind its own group, signing in with both app login roles", () => {
    const isolated = ofType(plan.resources, "aws:ec2/subnet:Subnet")
      .filter((s) => s.name.startsWith("production-isolated-"))
      .map((s) => idOfOne(plan.resources, s.type, s.name));
    expect(isolated).toHaveLength(3);
    const proxy = one(plan.resources, "aws:rds/proxy:Proxy", "production-db-proxy");
    expect(proxy.inputs).toEqual({
      name: PROXY,
      engineFamily: "POSTGRESQL",
      requireTls: true,
      idleClientTimeout: 1800,
      roleArn: "arn:aws:iam::123456789012:role/production-db-proxy",
      vpcSubnetIds: isolated,
      vpcSecurityGroupIds: [sg("production-db-proxy")],
      auths: ["a", "b"].map((slot) => ({
        authScheme: "SECRETS",
        secretArn: SECRET(slot),
        iamAuth: "DISABLED",
        clientPasswordAuthType: "POSTGRES_SCRAM_SHA_256",
        description: `PostgreSQL login role opsbook_app_${slot}`,
      })),
    });
    // The secrets are the app login roles' own: the ones the role bootstrap sets each login's
    // password from, and login a's (active at generation 0) the one the services read.
    const secretsOf = (task: string) =>
      Object.fromEntries(
        containersOf(one(plan.resources, "aws:ecs/taskDefinition:TaskDefinition", task))[0]!.secrets.map((e) => [
          e.name,
          e.valueFrom.replace(/:password::$/, ""),
        ]),
      );
    const bootstrap = secretsOf("production-db-roles");
    expect((proxy.inputs.auths as Array<{ secretArn: string }>).map((a) => a.secretArn)).toEqual([
      bootstrap.OPSBOOK_ROLE_APP_A_PASSWORD,
      bootstrap.OPSBOOK_ROLE_APP_B_PASSWORD,
    ]);
    expect(secretsOf("api").DB_PASSWORD).toBe(SECRET("a"));
  });

  test("its role: trusted by RDS of this account, reads exactly those secrets, decrypts only through Secrets Manager", () => {
    const role = one(plan.resources, "aws:iam/role:Role", "production-db-proxy");
    expect(policyOf(role, "assumeRolePolicy").Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { Service: "rds.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: {
          StringEquals: { "aws:SourceAccount": "123456789012" },
          ArnLike: { "aws:SourceArn": "arn:aws:rds:eu-west-1:123456789012:db-proxy:*" },
        },
      },
    ]);
    const policy = one(plan.resources, "aws:iam/rolePolicy:RolePolicy", "production-db-proxy");
    expect(policy.inputs.role).toBe(idOf(role));
    expect(policyOf(policy).Statement).toEqual([
      { Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: [SECRET("a"), SECRET("b")] },
      {
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: "arn:aws:kms:eu-west-1:123456789012:key/production-db-key",
        Condition: { StringEquals: { "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com" } },
      },
    ]);
  });

  test("its pool from the settings, and the instance as its target", () => {
    expect(
      one(plan.resources, "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup", "production-db-proxy").inputs,
    ).toEqual({
      dbProxyName: PROXY,
      connectionPoolConfig: { maxConnectionsPercent: 90, maxIdleConnectionsPercent: 50, connectionBorrowTimeout: 120 },
    });
    expect(one(plan.resources, "aws:rds/proxyTarget:ProxyTarget", "production-db-proxy").inputs).toEqual({
      dbProxyName: PROXY,
      targetGroupName: "default",
      dbInstanceIdentifier: "opsbook-production",
    });
  });

  test("the app tier reaches the proxy on 5432, the proxy only the database, which admits it", () => {
    const [app, proxy, db] = ["production-app", "production-db-proxy", "production-db"].map(sg);
    const rule = { ipProtocol: "tcp", fromPort: 5432, toPort: 5432 };
    const rules = (type: string) =>
      ofType(plan.resources, type)
        .filter((r) => r.inputs.securityGroupId === proxy || r.inputs.referencedSecurityGroupId === proxy)
        .map((r) => [r.name, r.inputs]);
    expect(rules("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")).toEqual([
      [
        "production-db-from-proxy",
        {
          ...rule,
          securityGroupId: db,
          referencedSecurityGroupId: proxy,
          description: "PostgreSQL from the database proxy",
        },
      ],
      [
        "production-db-proxy-from-app",
        {
          ...rule,
          securityGroupId: proxy,
          referencedSecurityGroupId: app,
          description: "PostgreSQL from the app tasks",
        },
      ],
    ]);
    expect(rules("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")).toEqual([
      [
        "production-app-to-db-proxy",
        {
          ...rule,
          securityGroupId: app,
          referencedSecurityGroupId: proxy,
          description: "PostgreSQL to the database proxy",
        },
      ],
      [
        "production-db-proxy-to-db",
        { ...rule, securityGroupId: proxy, referencedSecurityGroupId: db, description: "PostgreSQL to the database" },
      ],
    ]);
    const group = one(plan.resources, "aws:ec2/securityGroup:SecurityGroup", "production-db-proxy");
    expect(group.inputs.egress).toBeUndefined();
    expect(group.inputs.ingress).toBeUndefined();
  });

  test("api gets the proxy as DB_HOST; api-migrate keeps the instance", () => {
    const env = (task: string) =>
      Object.fromEntries(
        containersOf(one(plan.resources, "aws:ecs/taskDefinition:TaskDefinition", task))[0]!.environment.map((e) => [
          e.name,
          e.value,
        ]),
      );
    expect(env("api").DB_HOST).toBe(`${PROXY}.proxy-mock.eu-west-1.rds.amazonaws.com`);
    expect(env("api-migrate").DB_HOST).toBe("opsbook-production.mock.eu-west-1.rds.amazonaws.com");
    expect(env("api").DB_PORT).toBe("5432");
  });

  test("api's DATABASE_URL goes through the proxy too, from a secret of its own; api-migrate's names the instance", () => {
    const secrets = (task: string) =>
      Object.fromEntries(
        containersOf(one(plan.resources, "aws:ecs/taskDefinition:TaskDefinition", task))[0]!.secrets.map((e) => [
          e.name,
          e.valueFrom,
        ]),
      );
    const arn = (name: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}`;
    // Generation 0: login a is the active one.
    expect(secrets("api").DATABASE_URL).toBe(`${arn("production-db-proxy-url-a")}:url::`);
    expect(secrets("api").DB_PASSWORD).toBe(`${SECRET("a")}:password::`);
    expect(secrets("api-migrate").DATABASE_URL).toBe(`${arn("production-db-role-migrate-a")}:url::`);
    // The api's execution role may read that secret; the migration's may not.
    const reads = (role: string) =>
      (
        JSON.parse(one(plan.resources, "aws:iam/rolePolicy:RolePolicy", role).inputs.policy as string) as {
          Statement: Array<{ Action: unknown; Resource: unknown }>;
        }
      ).Statement.filter((st) => st.Action === "secretsmanager:GetSecretValue").flatMap((st) => [st.Resource].flat());
    expect(reads("api-execution")).toContain(arn("production-db-proxy-url-a"));
    expect(reads("api-migrate-execution")).not.toContain(arn("production-db-proxy-url-a"));
    // One per login role, with the database's key, protected, its value composed from the proxy's endpoint.
    const proxyUrn = one(plan.resources, "aws:rds/proxy:Proxy", "production-db-proxy").urn;
    const databaseKey = one(plan.resources, "aws:rds/instance:Instance", "production-opsbook-production").inputs
      .kmsKeyId;
    expect(databaseKey).toMatch(/^arn:aws:kms:/);
    for (const slot of ["a", "b"]) {
      const secret = one(plan.resources, "aws:secretsmanager/secret:Secret", `production-db-proxy-url-${slot}`);
      expect(secret.inputs).toMatchObject({
        namePrefix: `opsbook/opsbook-production/app-proxy-url-${slot}-`,
        kmsKeyId: databaseKey,
        recoveryWindowInDays: 30,
      });
      expect(secret.protect).toBe(true);
      const version = one(
        plan.resources,
        "aws:secretsmanager/secretVersion:SecretVersion",
        `production-db-proxy-url-${slot}`,
      );
      expect(version.dependencies).toContain(proxyUrn);
    }
  });

  test("its alarms: pinned and client connections by ProxyName, in % of its connection budget", () => {
    const alarms = ofType(plan.resources, ALARM).filter(
      (a) => (a.inputs.tags as Record<string, string>).subject === "database-proxy",
    );
    expect(alarms.map((a) => [a.name, a.inputs.threshold])).toEqual([
      ["production-database-proxy-client-connections-critical", 1000],
      ["production-database-proxy-client-connections-warning", 500],
      ["production-database-proxy-session-pinned-critical", 80],
      ["production-database-proxy-session-pinned-warning", 50],
    ]);
    // 90 % of the instance's max_connections.
    const maxConnections = Number(
      /of max_connections \((\d+)\)/.exec(
        String(one(plan.resources, ALARM, "production-database-connections-warning").inputs.alarmDescription),
      )![1],
    );
    const budget = Math.floor(maxConnections * 0.9);
    const pinned = one(plan.resources, ALARM, "production-database-proxy-session-pinned-critical").inputs;
    expect(pinned).toMatchObject({
      comparisonOperator: "GreaterThanThreshold",
      evaluationPeriods: 5,
      treatMissingData: "notBreaching",
      alarmActions: ["arn:aws:sns:eu-west-1:123456789012:production-critical"],
      metricQueries: [
        {
          id: "pinned",
          metric: {
            namespace: "AWS/RDS",
            metricName: "DatabaseConnectionsCurrentlySessionPinned",
            dimensions: { ProxyName: PROXY },
            stat: "Sum",
            period: 60,
          },
          returnData: false,
        },
        { id: "signal", expression: `100 * pinned / ${budget}`, returnData: true },
      ],
    });
    const clients = one(plan.resources, ALARM, "production-database-proxy-client-connections-warning").inputs;
    expect(clients).toMatchObject({
      alarmActions: ["arn:aws:sns:eu-west-1:123456789012:production-warning"],
      metricQueries: [
        {
          id: "clients",
          metric: {
            namespace: "AWS/RDS",
            metricName: "ClientConnections",
            dimensions: { ProxyName: PROXY },
            stat: "Sum",
          },
        },
        { id: "signal", expression: `100 * clients / ${budget}` },
      ],
    });
  });

  test("the policy pack finds no mandatory violation", async () => {
    const report = await checkPlan(plan, { configFile: stackConfigFile("production") });
    expect(report.diagnostics.filter((d) => d.enforcementLevel === "mandatory")).toEqual([]);
  });
});

describe("the proxy on staging-k8s", () => {
  test("admits the cluster's client group on 5432 besides the app tier", async () => {
    const k8s = await planWith({ proxy: { enabled: true } }, "staging-k8s");
    const file = parse(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.staging-k8s.yaml"), "utf8")) as {
      config: Record<string, { clientSecurityGroupId?: string }>;
    };
    const cluster = file.config["opsbook:kubernetes"]!.clientSecurityGroupId;
    expect(cluster).toMatch(/^sg-/);
    const proxy = idOfOne(k8s.resources, "aws:ec2/securityGroup:SecurityGroup", "staging-k8s-db-proxy");
    expect(
      ofType(k8s.resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        .filter((r) => r.inputs.securityGroupId === proxy)
        .map((r) => [r.name, r.inputs.referencedSecurityGroupId, r.inputs.fromPort]),
    ).toEqual([
      [
        "staging-k8s-db-proxy-from-app",
        idOfOne(k8s.resources, "aws:ec2/securityGroup:SecurityGroup", "staging-k8s-app"),
        5432,
      ],
      ["staging-k8s-db-proxy-from-cluster", cluster, 5432],
    ]);
  }, 120_000);
});

describe("proxy settings", () => {
  const base = {
    "aws:region": "eu-west-1",
    "opsbook:environment": "test",
    "opsbook:services": JSON.stringify([
      { name: "api", image: "registry.example.com/api", tag: "1", port: 8080, uses: ["database"] },
    ]),
    "opsbook:domain": JSON.stringify({ certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/abc" }),
    "opsbook:backup": JSON.stringify({ image: "registry.example.com/backup-job", tag: "1" }),
  };
  const problems = (postgres: unknown): string[] => {
    try {
      parseConfig("test", { ...base, "opsbook:postgres": JSON.stringify(postgres) });
      return [];
    } catch (error) {
      return (error as ConfigError).problems.map((p) => `${p.key}: ${p.allowed}`);
    }
  };

  test("off by default, with the documented pool defaults", () => {
    expect(parseConfig("test", base).postgres.proxy).toEqual({
      enabled: false,
      idleClientTimeoutSeconds: 1800,
      maxConnectionsPercent: 90,
      maxIdleConnectionsPercent: 50,
      connectionBorrowTimeoutSeconds: 120,
    });
    expect(problems({ proxy: { enabled: true } })).toEqual([]);
  });

  test.each([
    // Not offered: the task roles get no rds-db:connect, so REQUIRED would lock the apps out.
    [{ iamAuth: "REQUIRED" }, /^opsbook:postgres\.proxy\.iamAuth: /],
    [
      { idleClientTimeoutSeconds: 0 },
      /^opsbook:postgres\.proxy\.idleClientTimeoutSeconds: a whole number from 1 to 28800/,
    ],
    [
      { idleClientTimeoutSeconds: 28801 },
      /^opsbook:postgres\.proxy\.idleClientTimeoutSeconds: a whole number from 1 to 28800/,
    ],
    [{ maxConnectionsPercent: 0 }, /^opsbook:postgres\.proxy\.maxConnectionsPercent: a whole number from 1 to 100/],
    [{ maxConnectionsPercent: 101 }, /^opsbook:postgres\.proxy\.maxConnectionsPercent: a whole number from 1 to 100/],
    [
      { maxIdleConnectionsPercent: -1 },
      /^opsbook:postgres\.proxy\.maxIdleConnectionsPercent: a whole number from 0 to 100/,
    ],
    [
      { maxConnectionsPercent: 40, maxIdleConnectionsPercent: 50 },
      /^opsbook:postgres\.proxy\.maxIdleConnectionsPercent: at most proxy\.maxConnectionsPercent \(40\)/,
    ],
    [
      { connectionBorrowTimeoutSeconds: 3601 },
      /^opsbook:postgres\.proxy\.connectionBorrowTimeoutSeconds: a whole number from 0 to 3600/,
    ],
    [{ enabled: "yes" }, /^opsbook:postgres\.proxy\.enabled: true or false/],
    [{ pool: 5 }, /^opsbook:postgres\.proxy\.pool: /],
  ])("refuses %j", (proxy, message) => {
    expect(problems({ proxy: { enabled: true, ...proxy } })).toEqual([expect.stringMatching(message)]);
  });

  test("the proxy's name, <identifier>-proxy, must stay within 60 characters", () => {
    const identifier = `a${"b".repeat(54)}`; // 55 characters
    expect(problems({ identifier, proxy: { enabled: true } })).toEqual([
      expect.stringMatching(/^opsbook:postgres\.identifier: at most 54 characters with the proxy/),
    ]);
    expect(problems({ identifier, proxy: { enabled: false } })).toEqual([]);
    expect(problems({ identifier: identifier.slice(1), proxy: { enabled: true } })).toEqual([]);
  });
});
