import { REPLACING_INPUTS } from "../../../tools/diff/replacement";
import { STATEFUL_TYPES } from "../../../tools/diff/rules/data";
import { ALARM, cache, database, diff, errorAlarm, LOG_GROUP, RDS, REDIS, resource, risksOf, urnOf } from "./builders";

describe("stateful resources", () => {
  test("an RDS identifier change is a replacement, and a risky one", () => {
    const report = diff(
      [resource(RDS, "db", database)],
      [resource(RDS, "db", { ...database, identifier: "production-pg" })],
    );
    expect(report.changes.map((c) => [c.op, c.name, c.changedKeys, c.replaceReasons])).toEqual([
      ["replace", "db", ["identifier"], ["identifier"]],
    ]);
    expect(report.risks).toEqual([
      {
        kind: "stateful-replaced",
        urn: urnOf(RDS, "db"),
        type: RDS,
        name: "db",
        detail: 'database replaced (identifier "production-postgres" → "production-pg"): the new one starts empty',
      },
    ]);
  });

  test("a cache moved to another subnet group is replaced", () => {
    expect(risksOf(REDIS, cache, { ...cache, subnetGroupName: "other-subnets" })).toEqual([
      [
        "stateful-replaced",
        'cache replaced (subnetGroupName "production-redis-subnets" → "other-subnets"): the new one starts empty',
      ],
    ]);
  });

  test("a renamed log group prefix replaces the log group", () => {
    expect(
      risksOf(
        LOG_GROUP,
        { namePrefix: "/opsbook/api-", retentionInDays: 365 },
        { namePrefix: "/opsbook/app-", retentionInDays: 365 },
      ),
    ).toEqual([
      [
        "stateful-replaced",
        'log group replaced (namePrefix "/opsbook/api-" → "/opsbook/app-"): the new one starts empty',
      ],
    ]);
  });

  test("a KMS key replaced: the cost named is the data it encrypted", () => {
    expect(risksOf("aws:kms/key:Key", { keyUsage: "ENCRYPT_DECRYPT" }, { keyUsage: "SIGN_VERIFY" })).toEqual([
      [
        "stateful-replaced",
        'KMS key replaced (keyUsage "ENCRYPT_DECRYPT" → "SIGN_VERIFY"): what the old key encrypted cannot be decrypted with the new one',
      ],
    ]);
  });

  test("the replacement table covers stateful types only, each input once", () => {
    for (const [type, keys] of Object.entries(REPLACING_INPUTS)) {
      expect([type, type in STATEFUL_TYPES, new Set(keys).size]).toEqual([type, true, keys.length]);
    }
  });

  test("a bucket that leaves the program (or is renamed without an alias) is deleted", () => {
    const bucket = resource("aws:s3/bucketV2:BucketV2", "backups", { bucketPrefix: "opsbook-backups-" });
    const report = diff(
      [bucket],
      [resource("aws:s3/bucketV2:BucketV2", "db-backups", { bucketPrefix: "opsbook-backups-" })],
    );
    expect(report.changes.map((c) => [c.op, c.name])).toEqual([
      ["delete", "backups"],
      ["create", "db-backups"],
    ]);
    expect(report.risks.map((r) => [r.kind, r.name, r.detail])).toEqual([
      ["stateful-deleted", "backups", "bucket deleted"],
    ]);
  });

  test("a deleted secret with retainOnDelete says that AWS keeps it", () => {
    const secret = resource(
      "aws:secretsmanager/secret:Secret",
      "jwt",
      { namePrefix: "opsbook/jwt-" },
      { retainOnDelete: true },
    );
    expect(diff([secret], []).risks.map((r) => r.detail)).toEqual([
      "secret deleted (retainOnDelete: AWS keeps it, Pulumi stops managing it)",
    ]);
  });
});

describe("protection", () => {
  test("deletion protection turned off", () => {
    expect(risksOf(RDS, database, { ...database, deletionProtection: false })).toEqual([
      ["deletion-protection-off", "deletionProtection true → false"],
    ]);
  });

  test("deletion protection dropped from a load balancer's inputs (its default is off)", () => {
    expect(
      risksOf(
        "aws:lb/loadBalancer:LoadBalancer",
        { enableDeletionProtection: true, internal: false },
        { internal: false },
      ),
    ).toEqual([["deletion-protection-off", "enableDeletionProtection true → (unset)"]]);
  });

  test("final snapshot skipped", () => {
    const { finalSnapshotIdentifier: _dropped, ...withoutIdentifier } = database;
    expect(risksOf(RDS, database, { ...withoutIdentifier, skipFinalSnapshot: true })).toEqual([
      ["final-snapshot-skipped", "skipFinalSnapshot false → true: deleting it keeps no snapshot"],
      ["final-snapshot-skipped", 'finalSnapshotIdentifier "production-postgres-final" → (unset)'],
    ]);
  });

  test("protect dropped, and retainOnDelete dropped", () => {
    const before = resource(
      "aws:kms/key:Key",
      "data-key",
      { enableKeyRotation: true },
      { protect: true, retainOnDelete: true },
    );
    const after = resource("aws:kms/key:Key", "data-key", { enableKeyRotation: true });
    const report = diff([before], [after]);
    expect(report.changes.map((c) => [c.op, c.changedKeys])).toEqual([["update", ["protect", "retainOnDelete"]]]);
    expect(report.risks.map((r) => [r.kind, r.detail])).toEqual([
      ["protect-dropped", "protect true → false: Pulumi may now delete it"],
      ["protect-dropped", "retainOnDelete true → false: deleting it from the program deletes it in AWS"],
    ]);
  });
});

describe("backups", () => {
  test("retention shortened", () => {
    expect(risksOf(RDS, database, { ...database, backupRetentionPeriod: 7 })).toEqual([
      ["backup-retention-shortened", "backupRetentionPeriod 30 → 7 days"],
    ]);
  });

  test("ElastiCache snapshots dropped from the inputs means none are kept", () => {
    const { snapshotRetentionLimit: _dropped, ...withoutRetention } = cache;
    expect(risksOf(REDIS, cache, withoutRetention)).toEqual([
      ["backup-retention-shortened", "snapshotRetentionLimit 7 → 0 days"],
    ]);
  });

  test("retention lengthened is no risk", () => {
    expect(risksOf(RDS, database, { ...database, backupRetentionPeriod: 35 })).toEqual([]);
  });

  test("backup window moved", () => {
    expect(risksOf(RDS, database, { ...database, backupWindow: "05:00-06:00" })).toEqual([
      ["backup-window-moved", 'backupWindow "02:00-03:00" → "05:00-06:00"'],
    ]);
    expect(risksOf(REDIS, cache, { ...cache, snapshotWindow: "01:00-02:00" })).toEqual([
      ["backup-window-moved", 'snapshotWindow "03:00-04:00" → "01:00-02:00"'],
    ]);
  });
});

describe("encryption and TLS", () => {
  test("storage encryption turned off replaces the database and is called out on its own", () => {
    expect(risksOf(RDS, database, { ...database, storageEncrypted: false })).toEqual([
      ["stateful-replaced", "database replaced (storageEncrypted true → false): the new one starts empty"],
      ["encryption-off", "storage encryption turned off (storageEncrypted true → false)"],
    ]);
  });

  test("a log group loses its customer-managed key", () => {
    expect(
      risksOf(
        LOG_GROUP,
        { namePrefix: "/opsbook/api-", kmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/logs-key" },
        { namePrefix: "/opsbook/api-" },
      ),
    ).toEqual([
      [
        "encryption-off",
        'kmsKeyId "arn:aws:kms:eu-west-1:123456789012:key/logs-key" → (unset): no longer encrypted with the customer-managed key',
      ],
    ]);
  });

  test("key rotation turned off", () => {
    expect(risksOf("aws:kms/key:Key", { enableKeyRotation: true }, { enableKeyRotation: false })).toEqual([
      ["encryption-off", "key rotation turned off (enableKeyRotation true → false)"],
    ]);
  });

  test("a bucket's default encryption deleted, or moved from KMS to S3-managed keys", () => {
    const SSE = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2";
    const kms = {
      bucket: "b",
      rules: [
        {
          applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: "k" },
          bucketKeyEnabled: true,
        },
      ],
    };
    const s3 = { bucket: "b", rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] };
    expect(risksOf(SSE, kms, undefined)).toEqual([
      ["encryption-off", "bucket default encryption configuration deleted"],
    ]);
    expect(risksOf(SSE, kms, s3)).toEqual([["encryption-off", "default encryption aws:kms → AES256"]]);
  });

  test("in-transit encryption turned off is updated in place on Redis 7, and is a TLS risk", () => {
    const report = diff(
      [resource(REDIS, "redis", cache)],
      [resource(REDIS, "redis", { ...cache, transitEncryptionEnabled: false })],
    );
    expect(report.changes.map((c) => c.op)).toEqual(["update"]);
    expect(report.risks.map((r) => [r.kind, r.detail])).toEqual([["tls-off", "transitEncryptionEnabled true → false"]]);
  });

  test("rds.force_ssl switched off in the parameter group", () => {
    const group = (forceSsl: string) => ({
      family: "postgres16",
      parameters: [
        { name: "log_min_duration_statement", value: "100" },
        { name: "rds.force_ssl", value: forceSsl },
      ],
    });
    expect(risksOf("aws:rds/parameterGroup:ParameterGroup", group("1"), group("0"))).toEqual([
      ["tls-off", 'parameter rds.force_ssl "1" → "0"'],
    ]);
  });

  test("the HTTP listener stops redirecting to HTTPS", () => {
    const redirect = {
      port: 80,
      protocol: "HTTP",
      defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }],
    };
    const forward = { port: 80, protocol: "HTTP", defaultActions: [{ type: "forward", targetGroupArn: "tg" }] };
    expect(risksOf("aws:lb/listener:Listener", redirect, forward)).toEqual([
      ["tls-off", "listener no longer redirects to HTTPS"],
    ]);
  });

  test("a bucket policy that stops refusing plain HTTP", () => {
    const tlsOnly = {
      bucket: "b",
      policy: '{"Statement":[{"Effect":"Deny","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}',
    };
    expect(risksOf("aws:s3/bucketPolicy:BucketPolicy", tlsOnly, { bucket: "b", policy: '{"Statement":[]}' })).toEqual([
      ["tls-off", "bucket policy no longer refuses requests without TLS (aws:SecureTransport)"],
    ]);
  });

  test("a bucket policy given as a document object (as an offline plan records it) is read too", () => {
    const document = { Statement: [{ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }] };
    const tlsOnly = { bucket: "b", policy: document };
    expect(risksOf("aws:s3/bucketPolicy:BucketPolicy", tlsOnly, { bucket: "b", policy: { Statement: [] } })).toEqual([
      ["tls-off", "bucket policy no longer refuses requests without TLS (aws:SecureTransport)"],
    ]);
    expect(risksOf("aws:s3/bucketPolicy:BucketPolicy", tlsOnly, undefined)).toEqual([
      ["tls-off", "bucket policy that refuses requests without TLS deleted"],
    ]);
  });
});

describe("public access", () => {
  const SG = "aws:ec2/securityGroup:SecurityGroup";
  const fromApp = { protocol: "tcp", fromPort: 5432, toPort: 5432, securityGroups: ["sg-app"] };

  test("a world-open ingress added to a security group", () => {
    const world = {
      protocol: "tcp",
      fromPort: 5432,
      toPort: 5432,
      cidrBlocks: ["0.0.0.0/0"],
      ipv6CidrBlocks: ["::/0"],
    };
    expect(risksOf(SG, { ingress: [fromApp] }, { ingress: [fromApp, world] })).toEqual([
      ["public-access", "ingress tcp 5432 from 0.0.0.0/0 added"],
      ["public-access", "ingress tcp 5432 from ::/0 added"],
    ]);
  });

  test("a world-open ingress that was already there is not new", () => {
    const https = { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] };
    expect(
      risksOf(SG, { ingress: [https], description: "alb" }, { ingress: [https], description: "load balancer" }),
    ).toEqual([]);
  });

  test("a new ingress rule resource open to the world", () => {
    const rule = { securityGroupId: "sg-alb", ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" };
    expect(risksOf("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", undefined, rule)).toEqual([
      ["public-access", "ingress tcp 443 from 0.0.0.0/0 added"],
    ]);
  });

  test("a database made publicly accessible", () => {
    expect(risksOf(RDS, database, { ...database, publiclyAccessible: true })).toEqual([
      ["public-access", "publiclyAccessible false → true"],
    ]);
  });

  test("a bucket's public access block relaxed", () => {
    const block = {
      bucket: "b",
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    };
    expect(
      risksOf("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", block, { ...block, blockPublicPolicy: false }),
    ).toEqual([["public-access", "blockPublicPolicy true → false"]]);
  });

  test("a subnet that hands out public IPs", () => {
    const subnet = { vpcId: "vpc", cidrBlock: "10.0.0.0/19", mapPublicIpOnLaunch: false };
    expect(risksOf("aws:ec2/subnet:Subnet", subnet, { ...subnet, mapPublicIpOnLaunch: true })).toEqual([
      ["public-access", "mapPublicIpOnLaunch false → true"],
    ]);
  });
});

describe("alarms", () => {
  test("an alarm removed", () => {
    expect(risksOf(ALARM, errorAlarm, undefined)).toEqual([
      ["alarm-removed", 'alarm "production-api-5xx-critical" deleted'],
    ]);
  });

  test("a GreaterThan threshold raised, and a LessThan threshold lowered, fire later", () => {
    expect(risksOf(ALARM, errorAlarm, { ...errorAlarm, threshold: 10 })).toEqual([
      ["alarm-loosened", "threshold 5 → 10 (GreaterThanThreshold)"],
    ]);
    const hitRate = { ...errorAlarm, comparisonOperator: "LessThanThreshold", threshold: 80 };
    expect(risksOf(ALARM, hitRate, { ...hitRate, threshold: 50 })).toEqual([
      ["alarm-loosened", "threshold 80 → 50 (LessThanThreshold)"],
    ]);
  });

  test("a tightened threshold is no risk", () => {
    expect(risksOf(ALARM, errorAlarm, { ...errorAlarm, threshold: 1 })).toEqual([]);
  });

  test("more periods, more datapoints and a longer period before it fires", () => {
    expect(
      risksOf(ALARM, errorAlarm, { ...errorAlarm, evaluationPeriods: 5, datapointsToAlarm: 4, period: 300 }),
    ).toEqual([
      ["alarm-loosened", "evaluationPeriods 3 → 5"],
      ["alarm-loosened", "period 60 → 300"],
      ["alarm-loosened", "datapointsToAlarm 2 → 4"],
    ]);
  });

  test("its action removed, its actions disabled, missing data treated as fine", () => {
    expect(
      risksOf(ALARM, errorAlarm, {
        ...errorAlarm,
        alarmActions: [],
        actionsEnabled: false,
        treatMissingData: "notBreaching",
      }),
    ).toEqual([
      ["alarm-loosened", 'alarm action "arn:aws:sns:eu-west-1:123456789012:production-critical" removed'],
      ["alarm-loosened", "actionsEnabled true → false"],
      ["alarm-loosened", 'treatMissingData "missing" → "notBreaching"'],
    ]);
  });

  test("a changed comparison operator", () => {
    expect(risksOf(ALARM, errorAlarm, { ...errorAlarm, comparisonOperator: "LessThanThreshold" })).toEqual([
      ["alarm-loosened", 'comparisonOperator "GreaterThanThreshold" → "LessThanThreshold"'],
    ]);
  });
});

describe("capacity", () => {
  test("fewer ECS tasks and a lower autoscaling minimum", () => {
    expect(
      risksOf(
        "aws:ecs/service:Service",
        { desiredCount: 3, launchType: "FARGATE" },
        { desiredCount: 2, launchType: "FARGATE" },
      ),
    ).toEqual([["capacity-lowered", "desiredCount 3 → 2"]]);
    expect(
      risksOf(
        "aws:appautoscaling/target:Target",
        { minCapacity: 2, maxCapacity: 6 },
        { minCapacity: 1, maxCapacity: 6 },
      ),
    ).toEqual([["capacity-lowered", "minCapacity 2 → 1"]]);
  });

  test("a cache node and its failover removed", () => {
    expect(
      risksOf(REDIS, cache, { ...cache, numCacheClusters: 1, multiAzEnabled: false, automaticFailoverEnabled: false }),
    ).toEqual([
      ["capacity-lowered", "numCacheClusters 2 → 1"],
      ["capacity-lowered", "multiAzEnabled true → false"],
      ["capacity-lowered", "automaticFailoverEnabled true → false"],
    ]);
  });

  test("the database's standby removed", () => {
    expect(risksOf(RDS, database, { ...database, multiAz: false })).toEqual([
      ["capacity-lowered", "multiAz true → false"],
    ]);
  });

  test("more capacity is no risk", () => {
    expect(risksOf("aws:ecs/service:Service", { desiredCount: 2 }, { desiredCount: 4 })).toEqual([]);
  });
});

describe("harmless changes", () => {
  const TASK = "aws:ecs/taskDefinition:TaskDefinition";
  const containers = (tag: string) =>
    JSON.stringify([
      { name: "api", image: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/opsbook/api:${tag}`, essential: true },
    ]);

  test("an image tag bump, a new alarm and a new tag are listed, and none is risky", () => {
    const base = [
      resource(TASK, "api", { family: "production-api", containerDefinitions: containers("1.4.0") }),
      resource(RDS, "db", database),
    ];
    const head = [
      resource(TASK, "api", { family: "production-api", containerDefinitions: containers("1.5.0") }),
      resource(RDS, "db", { ...database, tags: { service: "postgres", owner: "platform" } }),
      resource(ALARM, "db-cpu", { ...errorAlarm, alarmName: "production-db-cpu-warning" }),
    ];
    const report = diff(base, head);
    expect(report.changes.map((c) => [c.op, c.name, c.changedKeys])).toEqual([
      ["create", "db-cpu", []],
      ["update", "api", ["containerDefinitions"]],
      ["update", "db", ["tags"]],
    ]);
    expect(report.risks).toEqual([]);
  });

  test("an unchanged resource is counted, not listed", () => {
    const report = diff([resource(RDS, "db", database)], [resource(RDS, "db", { ...database })]);
    expect([report.changes, report.unchanged]).toEqual([[], 1]);
  });
});

test("risks come most severe kind first, whatever the order of the resources", () => {
  const report = diff(
    [
      resource("aws:ecs/service:Service", "a-api", { desiredCount: 2 }),
      resource(ALARM, "b-alarm", errorAlarm),
      resource(RDS, "c-db", database),
    ],
    [
      resource("aws:ecs/service:Service", "a-api", { desiredCount: 1 }),
      resource(RDS, "c-db", { ...database, identifier: "x" }),
    ],
  );
  expect(report.risks.map((r) => [r.kind, r.name])).toEqual([
    ["stateful-replaced", "c-db"],
    ["alarm-removed", "b-alarm"],
    ["capacity-lowered", "a-api"],
  ]);
});
