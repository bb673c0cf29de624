import * as st from "../../rules/stack";
import { violations } from "../helpers";

const RDS = "aws:rds/instance:Instance";

describe("stateful-resource-protected", () => {
  test("passes a protected database and ignores what is not stateful", async () => {
    expect(await violations(st.statefulResourceProtected, RDS, {}, { protect: true })).toEqual([]);
    expect(await violations(st.statefulResourceProtected, "aws:ec2/vpc:Vpc", {}, { protect: false })).toEqual([]);
  });

  test("reports an unprotected key, reading Pulumi's protect option", async () => {
    expect(
      await violations(
        st.statefulResourceProtected,
        "aws:kms/key:Key",
        { enableKeyRotation: true },
        { name: "logs-key", protect: false },
      ),
    ).toEqual([
      "KMS key \"logs-key\": protect (resource option) is false; required: true. Fix: pass { protect: true } (pulumi config set 'opsbook:protect' true); to replace or delete it later, unprotect it first with `pulumi state unprotect`.",
    ]);
  });

  test("checks by default every type the shared table marks protected, a DynamoDB table too", async () => {
    expect(
      await violations(st.statefulResourceProtected, "aws:dynamodb/table:Table", {}, { name: "sessions" }),
    ).toEqual([expect.stringContaining('DynamoDB table "sessions": protect (resource option) is false')]);
  });

  test("reads the stateful types from config", async () => {
    expect(await violations(st.statefulResourceProtected, "aws:sqs/queue:Queue", {}, { name: "sessions" })).toEqual([]);
    expect(
      await violations(
        st.statefulResourceProtected,
        "aws:sqs/queue:Queue",
        {},
        { name: "sessions", config: { types: ["aws:sqs/queue:Queue"] } },
      ),
    ).toEqual([expect.stringContaining('Resource "sessions": protect (resource option) is false')]);
  });
});

describe("stateful-resource-keeps-data-on-delete", () => {
  test.each([
    [RDS, { skipFinalSnapshot: false, finalSnapshotIdentifier: "db-final" }],
    // A read replica: RDS refuses its final snapshot; the source's keeps the data (R-db-read-replicas).
    [RDS, { replicateSourceDb: "db", skipFinalSnapshot: true }],
    ["aws:elasticache/replicationGroup:ReplicationGroup", { finalSnapshotIdentifier: "redis-final" }],
    ["aws:s3/bucket:Bucket", { bucket: "backups" }],
    ["aws:kms/key:Key", { enableKeyRotation: true }],
    ["aws:secretsmanager/secret:Secret", { recoveryWindowInDays: 7 }],
  ])("passes a %s that keeps its data", async (type, props) => {
    expect(await violations(st.statefulResourceKeepsData, type, props)).toEqual([]);
  });

  test.each([
    [
      RDS,
      { skipFinalSnapshot: true },
      'RDS instance "subject": skipFinalSnapshot is true; required: false, with finalSnapshotIdentifier set. Fix: set skipFinalSnapshot: false and finalSnapshotIdentifier.',
    ],
    [
      RDS,
      {},
      'RDS instance "subject": finalSnapshotIdentifier is not set; required: a snapshot name taken when the database is deleted (RDS refuses the delete without one). Fix: set finalSnapshotIdentifier, e.g. "<name>-final".',
    ],
    [
      "aws:elasticache/replicationGroup:ReplicationGroup",
      {},
      'ElastiCache replication group "subject": finalSnapshotIdentifier is not set; required: a snapshot name taken when the group is deleted. Fix: set finalSnapshotIdentifier.',
    ],
    [
      "aws:s3/bucket:Bucket",
      { forceDestroy: true },
      'S3 bucket "subject": forceDestroy is true; required: false or unset, so a bucket with objects is never deleted by an update. Fix: remove forceDestroy: true.',
    ],
    [
      "aws:kms/key:Key",
      { deletionWindowInDays: 7 },
      'KMS key "subject": deletionWindowInDays is 7; required: at least 30 days (30 when unset). Fix: set deletionWindowInDays: 30 or more, so a scheduled deletion can be cancelled.',
    ],
    [
      "aws:secretsmanager/secret:Secret",
      { recoveryWindowInDays: 0 },
      'Secret "subject": recoveryWindowInDays is 0 (deleted at once); required: 7 to 30 days (30 when unset). Fix: remove recoveryWindowInDays: 0.',
    ],
  ])("reports a %s that loses its data: %j", async (type, props, expected) => {
    expect(await violations(st.statefulResourceKeepsData, type, props)).toEqual([expected]);
  });

  test("reads the key deletion window from config", async () => {
    expect(
      await violations(
        st.statefulResourceKeepsData,
        "aws:kms/key:Key",
        { deletionWindowInDays: 7 },
        { config: { minimumKeyDeletionWindowDays: 7 } },
      ),
    ).toEqual([]);
  });
});
