import { Redis, type RedisArgs } from "../../../../components/data/redis/redis";
import { redisSettings, redisStackRules } from "../../../../components/data/redis/settings";
import { settingsProblems } from "../../../helpers/settings";
import { type RecordedResource, idOfOne, ofType, one, recordResources, resolve, settle } from "../../../helpers/mocks";

const GROUP = "aws:elasticache/replicationGroup:ReplicationGroup";
const LOG_KEY = "arn:aws:kms:eu-west-1:123456789012:key/logs";

/** Production-like arguments; Berlin shows the snapshot window's conversion to UTC. */
function args(overrides: Partial<RedisArgs> = {}): RedisArgs {
  return {
    ...redisSettings.parse({
      nodeType: "cache.r6g.large",
      nodes: 2,
      snapshotRetentionDays: 7,
      snapshotWindowStart: "03:00",
      maintenanceWindow: "sun:05:00-sun:06:00",
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
    ...overrides,
  };
}

// One recording for every group the assertions below look at: building under mocks is the slow part.
let resources: RecordedResource[];
let prod: Redis;
let three: Redis;
beforeAll(async () => {
  resources = await recordResources();
  prod = new Redis("prod", args());
  three = new Redis("three", args({ nodes: 3 }));
  new Redis(
    "staging",
    args({
      nodes: 1,
      multiAz: false,
      protect: false,
      snapshotRetentionDays: 1,
      timeZone: "UTC",
      engine: "valkey",
      engineVersion: "8.0",
      replicationGroupId: "staging-cache",
    }),
  );
  new Redis("x", args({ multiAz: false }));
  await settle();
});

/** The recorded resources of type `type` that belong to the component named `component`. */
function of(component: string, type: string): RecordedResource[] {
  return ofType(resources, type).filter((r) => r.parent?.endsWith(`::${component}`));
}

describe("Redis", () => {
  test("declares a replication group encrypted at rest and in transit, with failover across zones, snapshots and protection", () => {
    const group = one(resources, GROUP, "prod-redis");
    expect(group.inputs).toEqual({
      replicationGroupId: "opsbook-prod",
      description: "opsbook prod: cache and sessions",
      engine: "redis",
      engineVersion: "7.1",
      autoMinorVersionUpgrade: true,
      nodeType: "cache.r6g.large",
      numCacheClusters: 2,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      port: 6379,
      subnetGroupName: "prod-redis",
      securityGroupIds: [idOfOne(resources, "aws:ec2/securityGroup:SecurityGroup", "prod-redis")],
      atRestEncryptionEnabled: true,
      kmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/prod-redis-key",
      transitEncryptionEnabled: true,
      transitEncryptionMode: "required",
      authToken: "[secret]",
      snapshotRetentionLimit: 7,
      snapshotWindow: "02:00-03:00",
      maintenanceWindow: "sun:05:00-sun:06:00",
      finalSnapshotIdentifier: "opsbook-prod-final-0a1b2c3d",
      logDeliveryConfigurations: [
        {
          destinationType: "cloudwatch-logs",
          destination: "/aws/elasticache/opsbook-prod/slow-log",
          logFormat: "json",
          logType: "slow-log",
        },
        {
          destinationType: "cloudwatch-logs",
          destination: "/aws/elasticache/opsbook-prod/engine-log",
          logFormat: "json",
          logType: "engine-log",
        },
      ],
    });
    expect(group.protect).toBe(true);
    expect(one(resources, "aws:kms/key:Key", "prod-redis-key")).toMatchObject({
      protect: true,
      inputs: { enableKeyRotation: true },
    });
    expect(one(resources, "aws:elasticache/subnetGroup:SubnetGroup", "prod-redis").inputs).toEqual({
      description: "opsbook prod: isolated subnets of the cache",
      subnetIds: ["isolated-a", "isolated-b", "isolated-c"],
    });
    expect(of("prod", "aws:cloudwatch/logGroup:LogGroup").map((g) => [g.name, g.inputs])).toEqual([
      [
        "prod-redis-engine-log",
        { name: "/aws/elasticache/opsbook-prod/engine-log", retentionInDays: 365, kmsKeyId: LOG_KEY },
      ],
      [
        "prod-redis-slow-log",
        { name: "/aws/elasticache/opsbook-prod/slow-log", retentionInDays: 365, kmsKeyId: LOG_KEY },
      ],
    ]);
  });

  test("generates the auth token within ElastiCache's rules and keeps it only as a secret, in Secrets Manager under the cache key", () => {
    expect(one(resources, "random:index/randomPassword:RandomPassword", "prod-redis-auth-token").inputs).toEqual({
      length: 64,
      special: false,
    });
    const secret = one(resources, "aws:secretsmanager/secret:Secret", "prod-redis-auth-token");
    expect(secret.inputs).toEqual({
      namePrefix: "opsbook/opsbook-prod/auth-token-",
      description: "AUTH token of the ElastiCache replication group opsbook-prod",
      kmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/prod-redis-key",
    });
    expect(secret.protect).toBe(true);
    expect(one(resources, "aws:secretsmanager/secretVersion:SecretVersion", "prod-redis-auth-token").inputs).toEqual({
      secretId: idOfOne(resources, "aws:secretsmanager/secret:Secret", "prod-redis-auth-token"),
      secretString: "[secret]",
    });
  });

  test("admits only the client security group on 6379 and gives it the matching egress", () => {
    expect(one(resources, "aws:ec2/securityGroup:SecurityGroup", "prod-redis").inputs).toEqual({
      vpcId: "vpc-1",
      description: "Redis: 6379 from the app tier only",
      tags: { Name: "prod-redis" },
    });
    expect(of("prod", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map((r) => r.inputs)).toEqual([
      {
        securityGroupId: idOfOne(resources, "aws:ec2/securityGroup:SecurityGroup", "prod-redis"),
        description: "Redis from the app tasks",
        ipProtocol: "tcp",
        fromPort: 6379,
        toPort: 6379,
        referencedSecurityGroupId: "sg-app",
      },
    ]);
    expect(of("prod", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule").map((r) => r.inputs)).toEqual([
      {
        securityGroupId: "sg-app",
        description: "Redis to the cache",
        ipProtocol: "tcp",
        fromPort: 6379,
        toPort: 6379,
        referencedSecurityGroupId: idOfOne(resources, "aws:ec2/securityGroup:SecurityGroup", "prod-redis"),
      },
    ]);
  });

  test("hands services the primary endpoint, TLS, the token secret and the rediss:// URL secret, and exposes the ids alarms use", async () => {
    const secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod-redis-auth-token";
    const url = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod-redis-url";
    const { secretVersions, ...connection } = prod.connection;
    expect(await resolve(connection)).toEqual({
      environment: {
        REDIS_HOST: "master.opsbook-prod.mock.cache.amazonaws.com",
        REDIS_PORT: "6379",
        REDIS_TLS: "true",
      },
      secrets: { REDIS_AUTH_TOKEN: secret, REDIS_URL: url },
      secretArns: [secret, url],
      kmsKeyArns: ["arn:aws:kms:eu-west-1:123456789012:key/prod-redis-key"],
    });
    // What a reader of the values (a Kubernetes Secret) waits for: the versions of both secrets.
    const urns = (await resolve((secretVersions ?? []).map((v) => v.urn))).map((u) => u.split("::").pop());
    expect(urns).toEqual(["prod-redis-auth-token", "prod-redis-url"]);
    expect(
      await resolve({
        id: three.replicationGroupId,
        members: three.memberClusterIds,
        reader: three.readerEndpoint,
        port: three.port,
        nodeType: three.nodeType,
        nodes: three.nodes,
      }),
    ).toEqual({
      id: "opsbook-three",
      members: ["opsbook-three-001", "opsbook-three-002", "opsbook-three-003"],
      reader: "replica.opsbook-three.mock.cache.amazonaws.com",
      port: 6379,
      nodeType: "cache.r6g.large",
      nodes: 3,
    });
  });

  test("a single staging node: no failover, unprotected, still encrypted and snapshotted", () => {
    const group = one(resources, GROUP, "staging-redis");
    expect(group.inputs).toMatchObject({
      replicationGroupId: "staging-cache",
      engine: "valkey",
      engineVersion: "8.0",
      numCacheClusters: 1,
      automaticFailoverEnabled: false,
      multiAzEnabled: false,
      atRestEncryptionEnabled: true,
      transitEncryptionEnabled: true,
      snapshotRetentionLimit: 1,
      snapshotWindow: "03:00-04:00",
      finalSnapshotIdentifier: "staging-cache-final-0a1b2c3d",
    });
    expect(group.protect).toBe(false);
    expect(one(resources, "aws:secretsmanager/secret:Secret", "staging-redis-auth-token").protect).toBe(false);
  });

  test("two nodes without Multi-AZ still fail over within the zone", () => {
    expect(one(resources, GROUP, "x-redis").inputs).toMatchObject({
      numCacheClusters: 2,
      automaticFailoverEnabled: true,
      multiAzEnabled: false,
    });
  });
});

describe("Redis checks the group id its name gives (the settings schema checks the settings)", () => {
  test("a group id longer than 40", async () => {
    await recordResources();
    expect(() => new Redis("prod", args({ replicationGroupId: `a${"b".repeat(40)}` }))).toThrow(
      `replicationGroupId "a${"b".repeat(40)}" is not an ElastiCache id`,
    );
  });
});

describe("redis settings reject what ElastiCache would refuse", () => {
  test.each<[string, Record<string, unknown>, string[]]>([
    [
      "Multi-AZ with one node",
      { nodes: 1 },
      ["nodes: at least 2 when redis.multiAz is true (a primary and a replica in another zone)"],
    ],
    ["seven nodes", { nodes: 7 }, ["nodes: a whole number from 1 to 6"]],
    [
      "a Valkey version with engine redis",
      { engineVersion: "7.2" },
      [
        "engineVersion: 7.0 or 7.1 for engine redis; ElastiCache's later versions are Valkey's: set redis.engine to valkey",
      ],
    ],
    [
      "a Redis version with engine valkey",
      { engine: "valkey", engineVersion: "7.1" },
      ["engineVersion: 7.2 or later for engine valkey; for Redis OSS 7.0 or 7.1 set redis.engine to redis"],
    ],
    ["snapshots off", { snapshotRetentionDays: 0 }, ["snapshotRetentionDays: a whole number from 1 to 35 days"]],
  ])("%s", (_, input, problems) => {
    expect(settingsProblems(redisSettings, input)).toEqual(problems);
  });

  test("a snapshot window overlapping maintenance, in the stack's time zone", () => {
    const found: string[] = [];
    redisStackRules(
      redisSettings.parse({ maintenanceWindow: "wed:03:30-wed:04:30" }),
      { timeZone: "UTC" },
      (p, _v, a) => found.push(`${p.join(".")}: ${a}`),
    );
    expect(found).toEqual([
      "maintenanceWindow: a window that does not overlap the daily snapshot window (03:00 UTC, one hour)",
    ]);
  });
});
