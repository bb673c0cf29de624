import { Backups, backupMetrics, scheduleExpression } from "../../../components/backup/backups";
import { alarmInputs } from "../../../components/monitoring/alarmSet";
import { backupAlarms, describe as describeAlarm } from "../../../components/monitoring/alarmCatalogue";
import {
  type RecordedResource,
  idOfOne,
  ofType,
  one,
  policyOf,
  recordResources,
  settle,
  containersOf,
} from "../../helpers/mocks";
import { backupsArgs } from "../../helpers/backups";

const args = backupsArgs({ PGHOST: "db.internal", PGPORT: "5432", PGDATABASE: "app", PGSSLMODE: "require" });

describe("scheduleExpression", () => {
  test.each([
    ["02:00", undefined, "cron(0 2 * * ? *)"],
    ["04:30", "SUN", "cron(30 4 ? * SUN *)"],
    ["23:05", "WED", "cron(5 23 ? * WED *)"],
  ])("%s %s -> %s", (at, day, expected) => {
    expect(scheduleExpression(at, day)).toBe(expected);
  });
});

describe("Backups", () => {
  let resources: RecordedResource[];
  beforeAll(async () => {
    resources = await recordResources();
    new Backups("prod", args);
    await settle();
  });

  describe("the drill's own instance (R-backup-restore-test)", () => {
    const statement = (sid: string) =>
      policyOf(one(resources, "aws:iam/rolePolicy:RolePolicy", "prod-task")).Statement.find((s) => s.Sid === sid);

    test("the job may create and delete only drill-prefixed instances tagged with their source", () => {
      expect(statement("CreateDrillInstance")).toEqual({
        Sid: "CreateDrillInstance",
        Effect: "Allow",
        Action: ["rds:CreateDBInstance", "rds:AddTagsToResource"],
        Resource: "arn:aws:rds:eu-west-1:123456789012:db:opsbook-prod-drill-*",
        Condition: {
          StringEquals: { "aws:RequestTag/opsbook:restore-drill": "opsbook-prod" },
          "ForAllValues:StringEquals": { "aws:TagKeys": ["opsbook:restore-drill"] },
        },
      });
      expect(statement("CreateDrillInstanceFrom")).toMatchObject({
        Action: "rds:CreateDBInstance",
        Resource: [
          "arn:aws:rds:eu-west-1:123456789012:pg:prod-db-pg",
          "arn:aws:rds:eu-west-1:123456789012:subgrp:prod-db-subnets",
          "arn:aws:rds:eu-west-1:123456789012:og:default:postgres-*",
        ],
      });
      expect(statement("DeleteDrillInstance")).toEqual({
        Sid: "DeleteDrillInstance",
        Effect: "Allow",
        Action: "rds:DeleteDBInstance",
        Resource: "arn:aws:rds:eu-west-1:123456789012:db:opsbook-prod-drill-*",
        Condition: { StringEquals: { "aws:ResourceTag/opsbook:restore-drill": "opsbook-prod" } },
      });
      expect(statement("DescribeDatabases")).toMatchObject({
        Action: ["rds:DescribeDBInstances", "rds:DescribeDBSnapshots"],
      });
      expect(statement("EncryptDrillInstance")).toMatchObject({
        Action: ["kms:CreateGrant", "kms:DescribeKey"],
        Resource: "arn:aws:kms:eu-west-1:123456789012:key/db",
        Condition: { StringEquals: { "kms:ViaService": "rds.eu-west-1.amazonaws.com" } },
      });
      // Nothing else of RDS, and no role to pass: the drill instance has no monitoring role.
      const actions = policyOf(one(resources, "aws:iam/rolePolicy:RolePolicy", "prod-task"))
        .Statement.flatMap((s) => [s.Action].flat() as string[])
        .filter((a) => a.startsWith("rds:") || a.startsWith("iam:"));
      expect([...new Set(actions)].sort()).toEqual([
        "rds:AddTagsToResource",
        "rds:CreateDBInstance",
        "rds:DeleteDBInstance",
        "rds:DescribeDBInstances",
        "rds:DescribeDBSnapshots",
      ]);
    });

    test("the drill runs in a group of its own that reaches only its instance's group, which admits only it", () => {
      const rules = [
        ...ofType(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"),
        ...ofType(resources, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"),
      ].map((r) => [
        r.type.split(":")[2],
        r.inputs.securityGroupId,
        r.inputs.fromPort,
        r.inputs.referencedSecurityGroupId ?? r.inputs.cidrIpv4,
      ]);
      expect(rules).toEqual([
        [
          "SecurityGroupIngressRule",
          idOfOne(resources, "aws:ec2/securityGroup:SecurityGroup", "prod-restore-drill-db"),
          5432,
          idOfOne(resources, "aws:ec2/securityGroup:SecurityGroup", "prod-restore-drill-task"),
        ],
        [
          "SecurityGroupEgressRule",
          idOfOne(resources, "aws:ec2/securityGroup:SecurityGroup", "prod-restore-drill-task"),
          443,
          "0.0.0.0/0",
        ],
        [
          "SecurityGroupEgressRule",
          idOfOne(resources, "aws:ec2/securityGroup:SecurityGroup", "prod-restore-drill-task"),
          5432,
          idOfOne(resources, "aws:ec2/securityGroup:SecurityGroup", "prod-restore-drill-db"),
        ],
      ]);
      const network = (schedule: string) =>
        (
          one(resources, "aws:scheduler/schedule:Schedule", schedule).inputs.target as {
            ecsParameters: { networkConfiguration: { securityGroups: string[] } };
          }
        ).ecsParameters.networkConfiguration.securityGroups;
      expect(network("prod-restore-drill")).toEqual([
        idOfOne(resources, "aws:ec2/securityGroup:SecurityGroup", "prod-restore-drill-task"),
      ]);
      expect(network("prod-backup")).toEqual(["sg-app"]);
    });

    test("the drill task is told what to copy, what to call its instance and the RTO", () => {
      const [drill] = containersOf(one(resources, "aws:ecs/taskDefinition:TaskDefinition", "prod-restore-drill"));
      const env = Object.fromEntries(drill!.environment.map((e) => [e.name, e.value]));
      expect(env).toMatchObject({
        DRILL_SOURCE_INSTANCE: "opsbook-prod",
        DRILL_INSTANCE_PREFIX: "opsbook-prod-drill",
        DRILL_INSTANCE_CLASS: "db.t4g.medium",
        DRILL_SECURITY_GROUP_ID: idOfOne(resources, "aws:ec2/securityGroup:SecurityGroup", "prod-restore-drill-db"),
        DRILL_RTO_SECONDS: String(4 * 3600),
      });
    });
  });

  test("keeps dumps 30 days in a KMS-encrypted, versioned, locked and logged bucket", () => {
    const bucket = one(resources, "aws:s3/bucket:Bucket", "prod");
    expect(bucket.protect).toBe(true);
    // Locked by its configuration, not the bucket's own flag, which would replace an existing bucket.
    expect(bucket.inputs.objectLockEnabled).toBeUndefined();
    expect(one(resources, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", "prod").inputs).toEqual(
      {
        bucket: idOfOne(resources, "aws:s3/bucket:Bucket", "prod"),
        objectLockEnabled: "Enabled",
        rule: { defaultRetention: { mode: "GOVERNANCE", days: 30 } },
      },
    );
    expect(
      one(resources, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "prod")
        .inputs.rules,
    ).toEqual([
      {
        applyServerSideEncryptionByDefault: {
          sseAlgorithm: "aws:kms",
          kmsMasterKeyId: "arn:aws:kms:eu-west-1:123456789012:key/backups",
        },
        bucketKeyEnabled: true,
      },
    ]);
    expect(
      (
        one(resources, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "prod").inputs
          .rules as Array<Record<string, unknown>>
      )[0],
    ).toMatchObject({ expiration: { days: 30 }, noncurrentVersionExpiration: { noncurrentDays: 7 } });
    expect(one(resources, "aws:s3/bucketLogging:BucketLogging", "prod").inputs).toEqual({
      bucket: idOfOne(resources, "aws:s3/bucket:Bucket", "prod"),
      targetBucket: idOfOne(resources, "aws:s3/bucket:Bucket", "prod-backup-access-logs"),
      targetPrefix: "backups/",
    });
    expect(
      policyOf(one(resources, "aws:s3/bucketPolicy:BucketPolicy", "prod-backup-access-logs")).Statement[1],
    ).toMatchObject({
      Principal: { Service: "logging.s3.amazonaws.com" },
      Action: "s3:PutObject",
      Condition: { StringEquals: { "aws:SourceAccount": "123456789012" } },
    });
  });

  test("runs the job image with the database settings, its credentials as secrets, and a read-only root", () => {
    const [container] = containersOf(one(resources, "aws:ecs/taskDefinition:TaskDefinition", "prod-backup"));
    expect(container).toMatchObject({
      name: "backup",
      image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/opsbook/backup-job:1.0.0",
      command: ["backup"],
      readonlyRootFilesystem: true,
      environment: [
        { name: "PGHOST", value: "db.internal" },
        { name: "PGPORT", value: "5432" },
        { name: "PGDATABASE", value: "app" },
        { name: "PGSSLMODE", value: "require" },
        { name: "BACKUP_BUCKET", value: idOfOne(resources, "aws:s3/bucket:Bucket", "prod") },
        { name: "BACKUP_PREFIX", value: "postgres" },
        { name: "AWS_REGION", value: "eu-west-1" },
        { name: "METRICS_NAMESPACE", value: "Opsbook/Backup/prod" },
        // One environment for both tasks: the backup ignores the drill's.
        { name: "DRILL_SOURCE_INSTANCE", value: "opsbook-prod" },
        { name: "DRILL_INSTANCE_PREFIX", value: "opsbook-prod-drill" },
        { name: "DRILL_INSTANCE_CLASS", value: "db.t4g.medium" },
        {
          name: "DRILL_SECURITY_GROUP_ID",
          value: idOfOne(resources, "aws:ec2/securityGroup:SecurityGroup", "prod-restore-drill-db"),
        },
        { name: "DRILL_RTO_SECONDS", value: "14400" },
      ],
      secrets: [
        { name: "PGUSER", valueFrom: "arn:secret:db:username::" },
        { name: "PGPASSWORD", valueFrom: "arn:secret:db:password::" },
      ],
    });
    const [drill] = containersOf(one(resources, "aws:ecs/taskDefinition:TaskDefinition", "prod-restore-drill"));
    expect(drill?.command).toEqual(["restore-drill"]);
  });

  test("lets the job touch only its bucket, its key, its metric namespace and its drill instances", () => {
    expect(policyOf(one(resources, "aws:iam/rolePolicy:RolePolicy", "prod-task")).Statement).toEqual([
      {
        Sid: "ListDumps",
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: `arn:aws:s3:::${idOfOne(resources, "aws:s3/bucket:Bucket", "prod")}`,
      },
      {
        Sid: "ReadWriteDumps",
        Effect: "Allow",
        Action: ["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
        Resource: `arn:aws:s3:::${idOfOne(resources, "aws:s3/bucket:Bucket", "prod")}/postgres/*`,
      },
      {
        Sid: "EncryptDumps",
        Effect: "Allow",
        Action: ["kms:GenerateDataKey", "kms:Decrypt"],
        Resource: "arn:aws:kms:eu-west-1:123456789012:key/backups",
      },
      expect.objectContaining({ Sid: "CreateDrillInstance" }),
      expect.objectContaining({ Sid: "CreateDrillInstanceFrom" }),
      expect.objectContaining({ Sid: "DeleteDrillInstance" }),
      {
        Sid: "DescribeDatabases",
        Effect: "Allow",
        Action: ["rds:DescribeDBInstances", "rds:DescribeDBSnapshots"],
        Resource: "*",
      },
      {
        Sid: "EncryptDrillInstance",
        Effect: "Allow",
        Action: ["kms:CreateGrant", "kms:DescribeKey"],
        Resource: "arn:aws:kms:eu-west-1:123456789012:key/db",
        Condition: { StringEquals: { "kms:ViaService": "rds.eu-west-1.amazonaws.com" } },
      },
      {
        Sid: "PublishBackupMetrics",
        Effect: "Allow",
        Action: "cloudwatch:PutMetricData",
        Resource: "*",
        Condition: { StringEquals: { "cloudwatch:namespace": "Opsbook/Backup/prod" } },
      },
    ]);
  });

  test("starts the backup daily at 02:00 and the drill on Sundays at 04:00, in the stack's time zone, privately", () => {
    const backup = one(resources, "aws:scheduler/schedule:Schedule", "prod-backup").inputs;
    expect(backup).toMatchObject({
      scheduleExpression: "cron(0 2 * * ? *)",
      scheduleExpressionTimezone: "Europe/London",
      flexibleTimeWindow: { mode: "OFF" },
    });
    expect(backup.target).toMatchObject({
      arn: "arn:aws:ecs:eu-west-1:123456789012:cluster/opsbook-prod",
      roleArn: "arn:aws:iam::123456789012:role/prod-scheduler",
      ecsParameters: {
        taskDefinitionArn: "arn:aws:ecs:eu-west-1:123456789012:taskdefinition/prod-backup",
        launchType: "FARGATE",
        networkConfiguration: { subnets: ["subnet-a", "subnet-b"], securityGroups: ["sg-app"], assignPublicIp: false },
      },
    });
    expect(one(resources, "aws:scheduler/schedule:Schedule", "prod-restore-drill").inputs).toMatchObject({
      scheduleExpression: "cron(0 4 ? * SUN *)",
      scheduleExpressionTimezone: "Europe/London",
    });
    expect(policyOf(one(resources, "aws:iam/rolePolicy:RolePolicy", "prod-scheduler")).Statement).toEqual([
      {
        Sid: "RunJobs",
        Effect: "Allow",
        Action: "ecs:RunTask",
        Resource: [
          "arn:aws:ecs:eu-west-1:123456789012:task-definition/opsbook-prod-backup:*",
          "arn:aws:ecs:eu-west-1:123456789012:task-definition/opsbook-prod-restore-drill:*",
        ],
        Condition: { ArnEquals: { "ecs:cluster": "arn:aws:ecs:eu-west-1:123456789012:cluster/opsbook-prod" } },
      },
      {
        Sid: "PassJobRoles",
        Effect: "Allow",
        Action: "iam:PassRole",
        Resource: ["arn:aws:iam::123456789012:role/prod-execution", "arn:aws:iam::123456789012:role/prod-task"],
        Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
      },
    ]);
    expect(ofType(resources, "aws:scheduler/schedule:Schedule")).toHaveLength(2);
  });
});

describe("backup alarms", () => {
  const [rpo, drill] = backupAlarms({ database: "app", rpoHours: 24, metrics: backupMetrics("prod") });

  test("page when no verified backup arrived in any of the last 24 hours", () => {
    expect(alarmInputs("opsbook-prod", rpo!, "critical", "arn:critical")).toMatchObject({
      name: "opsbook-prod-backups-last-good-backup-critical",
      namespace: "Opsbook/Backup/prod",
      metricName: "LastSuccessfulBackupTimestamp",
      dimensions: { Database: "app" },
      statistic: "SampleCount",
      period: 3600,
      evaluationPeriods: 24,
      datapointsToAlarm: 24,
      comparisonOperator: "LessThanThreshold",
      threshold: 1,
      treatMissingData: "breaching",
    });
    expect(describeAlarm(rpo!, "critical")).toMatch(/^CRITICAL: verified backups of app per hour below 1 for 24 h\./);
  });

  test("warn when a restore drill fails, and stay in ALARM through the drill-less hours until the next drill", () => {
    expect(alarmInputs("opsbook-prod", drill!, "warning", "arn:warning")).toMatchObject({
      metricName: "RestoreDrillSuccess",
      statistic: "Minimum",
      threshold: 1,
      comparisonOperator: "LessThanThreshold",
      treatMissingData: "ignore",
    });
    expect(drill!.thresholds.critical).toBeUndefined();
  });
});

describe("Backups with a disaster-recovery region", () => {
  let resources: RecordedResource[];
  beforeAll(async () => {
    resources = await recordResources();
    new Backups("prod", {
      ...args,
      drRegion: "eu-central-1",
      database: {
        ...args.database,
        instanceArn: "arn:aws:rds:eu-west-1:123456789012:db:opsbook-prod",
        backupRetentionDays: 30,
      },
    });
    await settle();
  });

  test("keeps a locked, encrypted replica bucket and its own key in the other region", () => {
    expect(one(resources, "aws:s3/bucket:Bucket", "prod-replica").inputs).toMatchObject({ region: "eu-central-1" });
    expect(
      one(resources, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", "prod-replica").inputs,
    ).toMatchObject({ region: "eu-central-1", rule: { defaultRetention: { mode: "GOVERNANCE", days: 30 } } });
    expect(one(resources, "aws:kms/key:Key", "prod-dr-key").inputs).toMatchObject({
      region: "eu-central-1",
      enableKeyRotation: true,
    });
    for (const type of [
      "aws:s3/bucketVersioning:BucketVersioning",
      "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
      "aws:s3/bucketPolicy:BucketPolicy",
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    ]) {
      expect({ type, region: one(resources, type, "prod-replica").inputs.region }).toEqual({
        type,
        region: "eu-central-1",
      });
    }
  });

  test("replicates every KMS-encrypted dump there, but not deletions", () => {
    expect(one(resources, "aws:s3/bucketReplicationConfig:BucketReplicationConfig", "prod").inputs).toEqual({
      bucket: idOfOne(resources, "aws:s3/bucket:Bucket", "prod"),
      role: "arn:aws:iam::123456789012:role/prod-replication",
      rules: [
        {
          id: "dumps-to-dr",
          status: "Enabled",
          filter: {},
          deleteMarkerReplication: { status: "Disabled" },
          sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" } },
          destination: {
            bucket: `arn:aws:s3:::${idOfOne(resources, "aws:s3/bucket:Bucket", "prod-replica")}`,
            storageClass: "STANDARD",
            encryptionConfiguration: { replicaKmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/prod-dr-key" },
          },
        },
      ],
    });
  });

  test("copies the database's automated backups there for the same days", () => {
    expect(
      one(resources, "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication", "prod-rds")
        .inputs,
    ).toEqual({
      sourceDbInstanceArn: "arn:aws:rds:eu-west-1:123456789012:db:opsbook-prod",
      kmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/prod-dr-key",
      retentionPeriod: 30,
      region: "eu-central-1",
    });
  });

  test("logs the replica's access to a log bucket in its own region (S3 delivers nowhere else)", () => {
    const logs = one(resources, "aws:s3/bucket:Bucket", "prod-replica-access-logs");
    expect([logs.inputs.region, logs.protect]).toEqual(["eu-central-1", true]);
    expect(one(resources, "aws:s3/bucketLogging:BucketLogging", "prod-replica").inputs).toEqual({
      bucket: idOfOne(resources, "aws:s3/bucket:Bucket", "prod-replica"),
      region: "eu-central-1",
      targetBucket: idOfOne(resources, "aws:s3/bucket:Bucket", "prod-replica-access-logs"),
      targetPrefix: "backups/",
    });
  });

  test("declares nothing in another region without drRegion", async () => {
    const plain = await recordResources();
    new Backups("solo", args);
    await settle();
    expect(ofType(plain, "aws:s3/bucketReplicationConfig:BucketReplicationConfig")).toEqual([]);
    expect(plain.filter((r) => r.inputs.region !== undefined).map((r) => r.name)).toEqual([]);
  });
});
