/**
 * The drill's temporary instance, against RDS mocked with aws-sdk-client-mock: what it asks RDS
 * for and in which order, that it deletes its instance whatever happens, that it sweeps up what a
 * killed run left, and that the production instance is never named by anything but Describe*.
 */
import {
  CreateDBInstanceCommand,
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
  type DBInstance,
} from "@aws-sdk/client-rds";
import { mockClient } from "aws-sdk-client-mock";
import { DRILL_TAG } from "../../../lib/backupContract";
import type { DrillConfig } from "../src/config";
import {
  createDrillInstance,
  deleteDrillInstance,
  DRILL_MASTER_USER,
  drillInstanceIdentifier,
  sweepLeftovers,
} from "../src/drillInstance";
import { RecordingLogger, steppingClock } from "./support/recorders";

const SOURCE = "opsbook-production";
const CONFIG: DrillConfig = {
  sourceInstance: SOURCE,
  instancePrefix: "opsbook-production-drill",
  instanceClass: "db.t4g.medium",
  securityGroupId: "sg-0drill",
  rtoSeconds: 4 * 3600,
  createTimeoutMinutes: 60,
};
const PRODUCTION: DBInstance = {
  DBInstanceIdentifier: SOURCE,
  DBInstanceStatus: "available",
  EngineVersion: "16.3",
  AllocatedStorage: 140,
  KmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/db",
  DBParameterGroups: [{ DBParameterGroupName: "production-db-pg" }],
  DBSubnetGroup: { DBSubnetGroupName: "production-db-subnets" },
  Endpoint: { Address: "opsbook-production.x.eu-west-1.rds.amazonaws.com", Port: 5432 },
};

const rds = mockClient(RDSClient);
const client = new RDSClient({ region: "eu-west-1" });
let log: RecordingLogger;
const deps = () => ({ rds: client, log, now: steppingClock("2026-11-22T06:00:00Z"), sleep: () => Promise.resolve() });

/** Every call RDS received, as [command, identifier it names]. */
function calls(): Array<[string, string | undefined]> {
  return rds.calls().map((call) => {
    const command = call.args[0] as { constructor: { name: string }; input: { DBInstanceIdentifier?: string } };
    return [command.constructor.name, command.input.DBInstanceIdentifier];
  });
}

/** Nothing but Describe* ever names the production instance. */
function productionOnlyDescribed(): void {
  for (const [command, identifier] of calls()) if (identifier === SOURCE) expect(command).toMatch(/^Describe/);
}

beforeEach(() => {
  rds.reset();
  log = new RecordingLogger();
  rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: SOURCE }).resolves({ DBInstances: [PRODUCTION] });
  rds.on(DescribeDBSnapshotsCommand).resolves({
    DBSnapshots: [
      { Status: "available", SnapshotCreateTime: new Date("2026-11-21T02:10:00Z"), EngineVersion: "16.4" },
      { Status: "available", SnapshotCreateTime: new Date("2026-11-20T02:10:00Z"), EngineVersion: "16.3" },
      { Status: "creating", SnapshotCreateTime: new Date("2026-11-22T02:10:00Z"), EngineVersion: "16.5" },
    ],
  });
  rds.on(CreateDBInstanceCommand).resolves({});
  rds.on(DeleteDBInstanceCommand).resolves({});
});

test("identifiers are unique per run, prefixed, and valid for RDS", () => {
  const id = drillInstanceIdentifier(CONFIG.instancePrefix, new Date("2026-11-22T06:00:00.123Z"), "3fa9");
  expect(id).toBe("opsbook-production-drill-20261122t060000-3fa9");
  expect(id).toMatch(/^[a-z](?!.*--)[a-z0-9-]{0,61}[a-z0-9]$/);
});

describe("creating the drill instance", () => {
  test("copies the source's settings at the latest automated snapshot's engine version, small and private", async () => {
    let polls = 0;
    rds.on(DescribeDBInstancesCommand).callsFake((input: { DBInstanceIdentifier?: string }) => {
      if (input.DBInstanceIdentifier === SOURCE) return { DBInstances: [PRODUCTION] };
      polls++;
      return {
        DBInstances: [
          polls < 3
            ? { DBInstanceIdentifier: input.DBInstanceIdentifier, DBInstanceStatus: "creating" }
            : {
                DBInstanceIdentifier: input.DBInstanceIdentifier,
                DBInstanceStatus: "available",
                Endpoint: { Address: "drill.x.eu-west-1.rds.amazonaws.com", Port: 5432 },
              },
        ],
      };
    });
    let created: string | undefined;
    const instance = await createDrillInstance(CONFIG, deps(), (id) => (created = id));

    expect(instance).toMatchObject({
      host: "drill.x.eu-west-1.rds.amazonaws.com",
      port: 5432,
      user: DRILL_MASTER_USER,
    });
    expect(instance.identifier).toBe(created);
    expect(instance.password).toMatch(/^[0-9a-f]{48}$/);
    const [create] = rds.commandCalls(CreateDBInstanceCommand);
    expect(create!.args[0].input).toEqual({
      DBInstanceIdentifier: instance.identifier,
      Engine: "postgres",
      EngineVersion: "16.4",
      DBInstanceClass: "db.t4g.medium",
      AllocatedStorage: 140,
      StorageType: "gp3",
      StorageEncrypted: true,
      KmsKeyId: PRODUCTION.KmsKeyId,
      DBParameterGroupName: "production-db-pg",
      DBSubnetGroupName: "production-db-subnets",
      VpcSecurityGroupIds: ["sg-0drill"],
      PubliclyAccessible: false,
      MultiAZ: false,
      DeletionProtection: false,
      BackupRetentionPeriod: 0,
      AutoMinorVersionUpgrade: false,
      CopyTagsToSnapshot: false,
      MasterUsername: DRILL_MASTER_USER,
      MasterUserPassword: instance.password,
      Port: 5432,
      Tags: [{ Key: DRILL_TAG, Value: SOURCE }],
    });
    expect(calls()).toEqual([
      ["DescribeDBInstancesCommand", SOURCE],
      ["DescribeDBSnapshotsCommand", SOURCE],
      ["CreateDBInstanceCommand", instance.identifier],
      ["DescribeDBInstancesCommand", instance.identifier],
      ["DescribeDBInstancesCommand", instance.identifier],
      ["DescribeDBInstancesCommand", instance.identifier],
    ]);
    productionOnlyDescribed();
  });

  test("without an automated snapshot, takes the source's engine version", async () => {
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
    rds.on(DescribeDBInstancesCommand).callsFake((input: { DBInstanceIdentifier?: string }) => ({
      DBInstances: [
        input.DBInstanceIdentifier === SOURCE
          ? PRODUCTION
          : { DBInstanceStatus: "available", Endpoint: { Address: "drill.x", Port: 5432 } },
      ],
    }));
    await createDrillInstance(CONFIG, deps(), () => undefined);
    expect(rds.commandCalls(CreateDBInstanceCommand)[0]!.args[0].input.EngineVersion).toBe("16.3");
  });

  test("reports the identifier it created before failing on a status that never becomes available", async () => {
    rds.on(DescribeDBInstancesCommand).callsFake((input: { DBInstanceIdentifier?: string }) => ({
      DBInstances: [
        input.DBInstanceIdentifier === SOURCE ? PRODUCTION : { DBInstanceStatus: "incompatible-parameters" },
      ],
    }));
    let created: string | undefined;
    await expect(createDrillInstance(CONFIG, deps(), (id) => (created = id))).rejects.toThrow(
      /^the drill instance opsbook-production-drill-20261122t06000\d-[0-9a-f]{4} became incompatible-parameters instead of available$/,
    );
    expect(created).toMatch(/^opsbook-production-drill-/);
  });

  test("gives up after the timeout", async () => {
    rds.on(DescribeDBInstancesCommand).callsFake((input: { DBInstanceIdentifier?: string }) => ({
      DBInstances: [input.DBInstanceIdentifier === SOURCE ? PRODUCTION : { DBInstanceStatus: "creating" }],
    }));
    // The stepping clock advances a second per reading: a one-minute timeout ends after about 60 polls.
    await expect(createDrillInstance({ ...CONFIG, createTimeoutMinutes: 1 }, deps(), () => undefined)).rejects.toThrow(
      /was not available after 1 min \(status creating\)$/,
    );
  });
});

describe("deleting", () => {
  test("deletes a drill instance without a final snapshot", async () => {
    await deleteDrillInstance(CONFIG, { rds: client }, "opsbook-production-drill-20261122t060000-3fa9");
    expect(rds.commandCalls(DeleteDBInstanceCommand)[0]!.args[0].input).toEqual({
      DBInstanceIdentifier: "opsbook-production-drill-20261122t060000-3fa9",
      SkipFinalSnapshot: true,
      DeleteAutomatedBackups: true,
    });
  });

  test.each([SOURCE, "opsbook-production-drillx", "other-db"])("refuses to delete %s", async (identifier) => {
    await expect(deleteDrillInstance(CONFIG, { rds: client }, identifier)).rejects.toThrow(
      `refusing to modify RDS instance ${identifier}: the drill only creates and deletes instances named opsbook-production-drill-*`,
    );
    expect(rds.calls()).toEqual([]);
  });
});

describe("sweeping leftovers", () => {
  const instance = (identifier: string, created: string, tagged = true, status = "available"): DBInstance => ({
    DBInstanceIdentifier: identifier,
    DBInstanceStatus: status,
    InstanceCreateTime: new Date(created),
    TagList: tagged ? [{ Key: DRILL_TAG, Value: SOURCE }] : [],
  });

  test("deletes only tagged, prefixed drill instances older than the cut-off, across pages", async () => {
    const pages: Record<string, { DBInstances: DBInstance[]; Marker?: string }> = {
      first: {
        DBInstances: [
          {
            ...PRODUCTION,
            InstanceCreateTime: new Date("2020-01-01T00:00:00Z"),
            TagList: [{ Key: DRILL_TAG, Value: SOURCE }],
          },
          instance("opsbook-production-drill-20261115t060000-aaaa", "2026-11-15T06:00:00Z"),
          instance("opsbook-production-drill-20261122t053000-bbbb", "2026-11-22T05:30:00Z"),
        ],
        Marker: "page-2",
      },
      "page-2": {
        DBInstances: [
          instance("opsbook-production-drill-20261101t060000-cccc", "2026-11-01T06:00:00Z", false),
          instance("opsbook-production-drill-20261108t060000-dddd", "2026-11-08T06:00:00Z", true, "deleting"),
          instance("opsbook-production-drill-20261108t060000-eeee", "2026-11-08T06:00:00Z"),
          instance("someone-elses-db", "2026-01-01T00:00:00Z"),
        ],
      },
    };
    rds
      .on(DescribeDBInstancesCommand)
      .callsFake((input: { Marker?: string; DBInstanceIdentifier?: string }) => pages[input.Marker ?? "first"]);
    const swept = await sweepLeftovers(CONFIG, deps());
    expect(swept).toEqual([
      "opsbook-production-drill-20261115t060000-aaaa",
      "opsbook-production-drill-20261108t060000-eeee",
    ]);
    expect(
      calls()
        .filter(([command]) => command === "DeleteDBInstanceCommand")
        .map(([, id]) => id),
    ).toEqual(swept);
    productionOnlyDescribed();
  });

  test("a failing sweep is logged and does not stop the drill", async () => {
    rds.on(DescribeDBInstancesCommand).rejects(new Error("Throttling: Rate exceeded"));
    await expect(sweepLeftovers(CONFIG, deps())).resolves.toEqual([]);
    expect(log.errors()).toEqual(["sweeping leftover drill instances failed; the next drill tries again"]);
  });
});
