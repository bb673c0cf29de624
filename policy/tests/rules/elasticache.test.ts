import * as ec from "../../rules/elasticache";
import { changed, violations } from "../helpers";

const TYPE = ec.REPLICATION_GROUP;

/** A replication group as the redis component should declare it in production. */
const compliant = {
  replicationGroupId: "prod-redis",
  description: "opsbook production cache",
  engine: "redis",
  engineVersion: "7.1",
  nodeType: "cache.r6g.large",
  numCacheClusters: 2,
  automaticFailoverEnabled: true,
  multiAzEnabled: true,
  atRestEncryptionEnabled: true,
  kmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/cache-key",
  transitEncryptionEnabled: true,
  authToken: "[secret]",
  snapshotRetentionLimit: 7,
  snapshotWindow: "03:00-04:00",
  subnetGroupName: "prod-cache",
  finalSnapshotIdentifier: "prod-redis-final",
};

test.each(ec.elasticachePolicies.map((p) => [p.name, p] as const))(
  "%s passes the compliant replication group",
  async (_name, policy) => {
    expect(await violations(policy, TYPE, compliant)).toEqual([]);
  },
);

describe("elasticache-encrypted-at-rest", () => {
  test("reports unencrypted storage", async () => {
    expect(
      await violations(ec.elasticacheEncryptedAtRest, TYPE, changed(compliant, { atRestEncryptionEnabled: false }), {
        name: "redis",
      }),
    ).toEqual([
      'ElastiCache replication group "redis": atRestEncryptionEnabled is false; required: true. Fix: set atRestEncryptionEnabled: true and kmsKeyId (this replaces the group; seed it from a snapshot).',
    ]);
  });

  test("reports the AWS-managed key", async () => {
    expect(
      await violations(ec.elasticacheEncryptedAtRest, TYPE, changed(compliant, { kmsKeyId: undefined }), {
        name: "redis",
      }),
    ).toEqual([
      'ElastiCache replication group "redis": kmsKeyId is not set (the AWS-managed key); required: a customer-managed KMS key ARN. Fix: set kmsKeyId to the stack\'s cache key ARN.',
    ]);
  });
});

describe("elasticache-encrypted-in-transit", () => {
  test("reports plain-text connections", async () => {
    expect(
      await violations(
        ec.elasticacheEncryptedInTransit,
        TYPE,
        changed(compliant, { transitEncryptionEnabled: undefined }),
      ),
    ).toEqual([
      'ElastiCache replication group "subject": transitEncryptionEnabled is not set; required: true. Fix: set transitEncryptionEnabled: true and connect with rediss://.',
    ]);
  });

  test('reports the "preferred" mode, which still accepts plain text', async () => {
    expect(
      await violations(
        ec.elasticacheEncryptedInTransit,
        TYPE,
        changed(compliant, { transitEncryptionMode: "preferred" }),
      ),
    ).toEqual([
      'ElastiCache replication group "subject": transitEncryptionMode is "preferred" (plain-text connections still accepted); required: "required". Fix: set transitEncryptionMode: "required" once every client uses TLS.',
    ]);
  });

  test("reports a group anyone in the network can use without a token", async () => {
    expect(
      await violations(ec.elasticacheEncryptedInTransit, TYPE, changed(compliant, { authToken: undefined })),
    ).toEqual([
      'ElastiCache replication group "subject": authToken is not set, and no userGroupIds; required: an AUTH token (at least 16 characters, kept in Secrets Manager) or RBAC user groups. Fix: generate a token with @pulumi/random, store it in Secrets Manager and set authToken.',
    ]);
  });

  test("accepts RBAC user groups instead of a token", async () => {
    expect(
      await violations(
        ec.elasticacheEncryptedInTransit,
        TYPE,
        changed(compliant, { authToken: undefined, userGroupIds: ["app-users"] }),
      ),
    ).toEqual([]);
  });
});

describe("elasticache-failover", () => {
  test("reports a single node, with failover and Multi-AZ off", async () => {
    expect(
      await violations(
        ec.elasticacheFailover,
        TYPE,
        changed(compliant, { numCacheClusters: 1, automaticFailoverEnabled: false, multiAzEnabled: undefined }),
      ),
    ).toEqual([
      "ElastiCache replication group \"subject\": numCacheClusters is 1; required: at least 2 (a primary and a replica). Fix: set numCacheClusters: 2 or more (pulumi config set --path 'opsbook:redis.nodes' 2).",
      'ElastiCache replication group "subject": automaticFailoverEnabled is false; required: true. Fix: set automaticFailoverEnabled: true.',
      "ElastiCache replication group \"subject\": multiAzEnabled is not set; required: true. Fix: set multiAzEnabled: true (pulumi config set --path 'opsbook:redis.multiAz' true).",
    ]);
  });

  test("counts cluster-mode nodes as shards times (1 + replicas)", async () => {
    expect(
      await violations(
        ec.elasticacheFailover,
        TYPE,
        changed(compliant, { numCacheClusters: undefined, numNodeGroups: 2, replicasPerNodeGroup: 1 }),
      ),
    ).toEqual([]);
    expect(
      await violations(
        ec.elasticacheFailover,
        TYPE,
        changed(compliant, { numCacheClusters: undefined, numNodeGroups: 1, replicasPerNodeGroup: 0 }),
      ),
    ).toEqual([expect.stringContaining("numCacheClusters is 1; required: at least 2")]);
  });
});

describe("elasticache-snapshots", () => {
  test("reports no automatic snapshots", async () => {
    expect(
      await violations(ec.elasticacheSnapshots, TYPE, changed(compliant, { snapshotRetentionLimit: undefined })),
    ).toEqual([
      "ElastiCache replication group \"subject\": snapshotRetentionLimit is not set (no automatic snapshots); required: at least 1 day. Fix: set snapshotRetentionLimit: 1 or more (pulumi config set --path 'opsbook:redis.snapshotRetentionDays' 1).",
    ]);
  });

  test("reads the minimum from config", async () => {
    expect(
      await violations(ec.elasticacheSnapshots, TYPE, changed(compliant, { snapshotRetentionLimit: 3 }), {
        config: { minimumRetentionDays: 7 },
      }),
    ).toEqual([expect.stringContaining("snapshotRetentionLimit is 3; required: at least 7 days")]);
  });
});

test("elasticache-auto-minor-upgrade reports upgrades switched off", async () => {
  expect(
    await violations(ec.elasticacheAutoMinorUpgrade, TYPE, changed(compliant, { autoMinorVersionUpgrade: false })),
  ).toEqual([
    'ElastiCache replication group "subject": autoMinorVersionUpgrade is false; required: true (the default). Fix: remove autoMinorVersionUpgrade: false.',
  ]);
});

test("elasticache-own-subnet-group reports the default subnet group", async () => {
  expect(
    await violations(ec.elasticacheOwnSubnetGroup, TYPE, changed(compliant, { subnetGroupName: undefined })),
  ).toEqual([
    "ElastiCache replication group \"subject\": subnetGroupName is not set (the default VPC's default subnet group); required: a subnet group of the isolated subnets. Fix: set subnetGroupName to the stack's cache subnet group.",
  ]);
});
