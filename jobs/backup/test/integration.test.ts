/**
 * The backup job and the restore drill against a real PostgreSQL server, a local S3-compatible
 * server and (for the Prometheus path) a Pushgateway stand-in, through the same entry point the image runs, spawning the real pg_dump, pg_restore and
 * psql. The tests run in order and share one bucket: the first backup is what the drill and the
 * failure cases work on. RDS is mocked (aws-sdk-client-mock): the drill's "temporary instance" is
 * the same local server, reached as the master user the mocked CreateDBInstance creates with the
 * password the drill chose.
 */
import { createHash } from "node:crypto";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateDBInstanceCommand,
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
  type CreateDBInstanceCommandInput,
} from "@aws-sdk/client-rds";
import { mockClient } from "aws-sdk-client-mock";
import { DRILL_MASTER_USER } from "../src/drillInstance";
import { main } from "../src/main";
import { parseManifest, type TableRowCount } from "../src/manifest";
import { METRIC } from "../src/metrics";
import { freePort } from "./support/ports";
import { startTestPostgres, type TestPostgres } from "./support/postgres";
import { startTestPushgateway } from "./support/pushgateway";
import { RecordingLogger, RecordingPublisher, steppingClock } from "./support/recorders";
import { S3RVER_CREDENTIALS, startTestS3, type TestS3 } from "./support/s3";

const BUCKET = "opsbook-backups";
const DATABASE = "app";
const LATEST = "postgres/app/latest.json";
const DUMP = "postgres/app/2026/11/22/app-20261122T020000.000Z.dump";
const MANIFEST = "postgres/app/2026/11/22/app-20261122T020000.000Z.manifest.json";

// attachments holds 5.6 MB of random bytes, so the compressed dump still needs two 5 MiB parts
// and the multipart path of the upload is exercised.
const SEED = `
CREATE SCHEMA billing;
CREATE TABLE public.customers (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO public.customers SELECT g, 'customer ' || g FROM generate_series(1, 250) g;
CREATE TABLE billing.invoices (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES public.customers (id), cents bigint NOT NULL);
INSERT INTO billing.invoices SELECT g, 1 + g % 250, g * 100 FROM generate_series(1, 1000) g;
CREATE TABLE public."audit log" (id bigserial PRIMARY KEY, entry text NOT NULL);
INSERT INTO public."audit log" (entry) VALUES ('created'), ('updated'), ('deleted');
CREATE TABLE public.empty_table (id int);
CREATE TABLE public.attachments (id int PRIMARY KEY, content bytea NOT NULL);
INSERT INTO public.attachments
  SELECT g, (SELECT string_agg(uuid_send(gen_random_uuid()), ''::bytea) FROM generate_series(1, 3500) WHERE g > 0)
  FROM generate_series(1, 100) g;
`;

const SEEDED_TABLES: TableRowCount[] = [
  { schema: "billing", table: "invoices", rows: 1000 },
  { schema: "public", table: "attachments", rows: 100 },
  { schema: "public", table: "audit log", rows: 3 },
  { schema: "public", table: "customers", rows: 250 },
  { schema: "public", table: "empty_table", rows: 0 },
];

let pg: TestPostgres;
let s3: TestS3;

const SOURCE = "opsbook-test";
const DRILL_ENV = {
  DRILL_SOURCE_INSTANCE: SOURCE,
  DRILL_INSTANCE_PREFIX: "opsbook-test-drill",
  DRILL_INSTANCE_CLASS: "db.t4g.micro",
  DRILL_SECURITY_GROUP_ID: "sg-0drill",
};
const rds = mockClient(RDSClient);

/** RDS as the drill sees it: the source, and each instance it creates becoming available at once as the local server. */
function fakeRds(): void {
  rds.reset();
  const created = new Set<string>();
  rds.on(DescribeDBInstancesCommand).callsFake((input: { DBInstanceIdentifier?: string }) => {
    if (input.DBInstanceIdentifier === undefined) return { DBInstances: [] };
    if (input.DBInstanceIdentifier === SOURCE)
      return {
        DBInstances: [
          {
            DBInstanceIdentifier: SOURCE,
            DBInstanceStatus: "available",
            EngineVersion: "16.4",
            AllocatedStorage: 20,
            KmsKeyId: "arn:aws:kms:us-east-1:123456789012:key/db",
            DBParameterGroups: [{ DBParameterGroupName: "test-db" }],
            DBSubnetGroup: { DBSubnetGroupName: "test-db" },
          },
        ],
      };
    if (!created.has(input.DBInstanceIdentifier)) throw new Error(`DBInstanceNotFound: ${input.DBInstanceIdentifier}`);
    return {
      DBInstances: [
        {
          DBInstanceStatus: "available",
          Endpoint: { Address: "127.0.0.1", Port: pg.port },
          DBInstanceIdentifier: input.DBInstanceIdentifier,
        },
      ],
    };
  });
  rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
  rds.on(CreateDBInstanceCommand).callsFake(async (input: CreateDBInstanceCommandInput) => {
    await pg.sql(
      `DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = '${DRILL_MASTER_USER}') THEN ` +
        `ALTER ROLE ${DRILL_MASTER_USER} PASSWORD '${input.MasterUserPassword}'; ` +
        `ELSE CREATE ROLE ${DRILL_MASTER_USER} LOGIN CREATEDB PASSWORD '${input.MasterUserPassword}'; END IF; END $$`,
    );
    created.add(input.DBInstanceIdentifier!);
    return {};
  });
  rds.on(DeleteDBInstanceCommand).resolves({});
}

/** The RDS calls of the last run: [command, instance identifier]. */
function rdsCalls(): Array<[string, string | undefined]> {
  return rds.calls().map((call) => {
    const command = call.args[0] as { constructor: { name: string }; input: { DBInstanceIdentifier?: string } };
    return [command.constructor.name.replace(/Command$/, ""), command.input.DBInstanceIdentifier];
  });
}

/** The drill created one instance, deleted it, and named the source in Describe* calls only. */
function createdAndDeletedOne(): void {
  const calls = rdsCalls();
  const createdIds = calls.filter(([c]) => c === "CreateDBInstance").map(([, id]) => id);
  expect(createdIds).toHaveLength(1);
  expect(createdIds[0]).toMatch(/^opsbook-test-drill-\d{8}t\d{6}-[0-9a-f]{4}$/);
  expect(calls.filter(([c]) => c === "DeleteDBInstance").map(([, id]) => id)).toEqual(createdIds);
  for (const [command, id] of calls) if (id === SOURCE) expect(command).toMatch(/^Describe/);
}

beforeAll(async () => {
  // allSettled, so that whichever server did start is assigned and stopped in afterAll.
  const started = await Promise.allSettled([
    startTestPostgres().then((server) => (pg = server)),
    startTestS3([BUCKET]).then((server) => (s3 = server)),
  ]);
  for (const result of started) {
    if (result.status === "rejected") throw result.reason;
  }
  await pg.sql(`CREATE DATABASE ${DATABASE}`);
  await pg.sql(SEED, DATABASE);
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([pg?.stop(), s3?.stop()]);
}, 30_000);

interface JobRun {
  code: number;
  log: RecordingLogger;
  metrics: RecordingPublisher;
}

/** `recordMetrics: false`: the job builds its own publisher from the environment, as in the image. */
interface RunOptions {
  /** Milliseconds the job's clock moves per reading (1 s unless a test needs time to pass). */
  clockStepMs?: number;
  recordMetrics?: boolean;
}

/** Runs a command through `main`, as the image does, with local servers and recording stand-ins. */
async function runJob(
  command: "backup" | "restore-drill",
  clockStart: string,
  overrides: Record<string, string> = {},
  options: RunOptions = {},
): Promise<JobRun> {
  const log = new RecordingLogger();
  const metrics = new RecordingPublisher();
  fakeRds();
  const env = {
    ...pg.env(DATABASE),
    ...DRILL_ENV,
    BACKUP_BUCKET: BUCKET,
    AWS_REGION: "us-east-1",
    S3_ENDPOINT: s3.endpoint,
    BACKUP_PART_SIZE_MIB: "5",
    ...overrides,
  };
  const code = await main([command], env, {
    log,
    ...(options.recordMetrics === false ? {} : { metrics }),
    credentials: S3RVER_CREDENTIALS,
    now:
      (options.clockStepMs ?? 1000) === 1000 ? steppingClock(clockStart) : steppedBy(clockStart, options.clockStepMs!),
  });
  return { code, log, metrics };
}

/** A clock that starts at `start` and moves `stepMs` forward on every reading. */
function steppedBy(start: string, stepMs: number): () => Date {
  let next = Date.parse(start);
  return () => new Date((next += stepMs) - stepMs);
}

const sha256 = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("hex");

/**
 * Runs `test` with a PATH whose `pg_dump` is a shell script: `--version` goes to the real one,
 * anything else runs `body` (which can call "$REAL_PG_DUMP").
 */
async function withFakePgDump(body: string[], test: (path: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "opsbook-backup-fake-"));
  const script = [
    "#!/bin/sh",
    `REAL_PG_DUMP="${pg.binDir}/pg_dump"`,
    'if [ "$1" = "--version" ]; then exec "$REAL_PG_DUMP" "$@"; fi',
    ...body,
    "",
  ].join("\n");
  await writeFile(join(dir, "pg_dump"), script);
  await chmod(join(dir, "pg_dump"), 0o755);
  try {
    await test(`${dir}:${pg.env().PATH}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const drillDatabasesLeft = (): Promise<string> =>
  pg.sql("SELECT string_agg(datname, ',') FROM pg_database WHERE datname LIKE 'restore_drill_%'");

/** Snapshot of the bucket, to show a failed run changed nothing. */
async function bucketState(): Promise<{ keys: string[]; latest: string }> {
  return { keys: await s3.keys(BUCKET), latest: (await s3.read(BUCKET, LATEST)).toString("utf8") };
}

describe("backup and restore drill against PostgreSQL and S3", () => {
  let firstDump: Buffer | undefined;
  /** The bytes of the first test's backup, which the later tests corrupt and restore. */
  const dump = (): Buffer => {
    if (firstDump === undefined) throw new Error("the first backup test did not store a dump; fix that test first");
    return firstDump;
  };

  test("backup streams a verified dump, its manifest and latest.json, and publishes the backup metrics", async () => {
    const run = await runJob("backup", "2026-11-22T02:00:00Z");

    expect(run.log.errors()).toEqual([]);
    expect(run.code).toBe(0);
    expect(await s3.keys(BUCKET)).toEqual([DUMP, MANIFEST, LATEST]);
    const stored = await s3.read(BUCKET, DUMP);
    expect(stored.length).toBeGreaterThan(5_400_000); // more than one part, and more than the failing test lets through
    expect(stored.subarray(0, 5).toString("latin1")).toBe("PGDMP");
    firstDump = stored;

    const latestText = (await s3.read(BUCKET, LATEST)).toString("utf8");
    const latest = parseManifest(latestText, LATEST);
    expect(latest).toEqual({
      formatVersion: 1,
      database: DATABASE,
      dumpKey: DUMP,
      manifestKey: MANIFEST,
      sizeBytes: stored.length,
      sha256: sha256(stored),
      startedAt: "2026-11-22T02:00:00.000Z",
      finishedAt: "2026-11-22T02:00:01.000Z",
      pgDumpVersion: expect.stringMatching(/^pg_dump \(PostgreSQL\) \d+\.\d+/) as jest.AsymmetricMatcher,
      serverVersion: expect.stringMatching(/^\d+\.\d+/) as jest.AsymmetricMatcher,
      tables: SEEDED_TABLES,
    });
    expect((await s3.read(BUCKET, MANIFEST)).toString("utf8")).toBe(latestText);

    const finishedAt = new Date("2026-11-22T02:00:01.000Z");
    expect(run.metrics.publications).toEqual([
      {
        database: DATABASE,
        at: finishedAt,
        metrics: [
          { name: METRIC.backupSuccess, value: 1, unit: "Count" },
          { name: METRIC.lastSuccessfulBackupTimestamp, value: finishedAt.getTime() / 1000, unit: "Seconds" },
          { name: METRIC.backupSizeBytes, value: stored.length, unit: "Bytes" },
          { name: METRIC.backupDurationSeconds, value: 2, unit: "Seconds" },
        ],
      },
    ]);
    expect(JSON.stringify(run.log.lines)).not.toContain(pg.password);
  }, 30_000);

  test("restore drill restores latest.json's dump into an instance of its own, finds every row, and deletes it", async () => {
    const run = await runJob("restore-drill", "2026-11-23T03:00:00Z");

    expect(run.log.errors()).toEqual([]);
    expect(run.code).toBe(0);
    const [, created] = rdsCalls().find(([c]) => c === "CreateDBInstance")!;
    // The clock steps a second per reading: the instance's name, its wait's deadline and the
    // database's name are read between the start and the end of the time to recover.
    expect(run.log.lines).toContainEqual({
      level: "info",
      message: "restore drill passed",
      fields: { key: DUMP, instance: created, tables: SEEDED_TABLES.length, timeToRecoverSeconds: 4 },
    });
    expect(rdsCalls()).toEqual([
      ["DescribeDBInstances", undefined],
      ["DescribeDBInstances", SOURCE],
      ["DescribeDBSnapshots", SOURCE],
      ["CreateDBInstance", created],
      ["DescribeDBInstances", created],
      ["DeleteDBInstance", created],
    ]);
    createdAndDeletedOne();
    expect(run.metrics.publications).toEqual([
      {
        database: DATABASE,
        at: new Date("2026-11-23T03:00:06Z"),
        metrics: [
          { name: METRIC.restoreDrillSuccess, value: 1, unit: "Count" },
          { name: METRIC.restoreDrillTimeToRecoverSeconds, value: 4, unit: "Seconds" },
        ],
      },
    ]);
    expect(await drillDatabasesLeft()).toBe("");
  }, 30_000);

  test("DRILL_IN_SERVER: the drill restores into a throwaway database on its own server, with no RDS call, and drops it", async () => {
    const run = await runJob("restore-drill", "2026-11-23T03:30:00Z", {
      DRILL_SOURCE_INSTANCE: "",
      DRILL_IN_SERVER: "true",
    });

    expect(run.log.errors()).toEqual([]);
    expect(run.code).toBe(0);
    expect(rdsCalls()).toEqual([]);
    expect(run.log.lines).toContainEqual({
      level: "info",
      message: "restore drill passed",
      fields: { key: DUMP, instance: pg.env(DATABASE).PGHOST, tables: SEEDED_TABLES.length, timeToRecoverSeconds: 2 },
    });
    expect(run.metrics.publications).toEqual([
      {
        database: DATABASE,
        at: new Date("2026-11-23T03:30:03Z"),
        metrics: [
          { name: METRIC.restoreDrillSuccess, value: 1, unit: "Count" },
          { name: METRIC.restoreDrillTimeToRecoverSeconds, value: 2, unit: "Seconds" },
        ],
      },
    ]);
    expect(await drillDatabasesLeft()).toBe("");
    // The database it backs up is untouched.
    expect(await pg.sql("SELECT count(*) FROM public.customers", DATABASE)).toBe("250");
  }, 30_000);

  test("DRILL_IN_SERVER beside a drill instance is refused before anything runs", async () => {
    const run = await runJob("restore-drill", "2026-11-23T03:40:00Z", { DRILL_IN_SERVER: "true" });

    expect(run.code).not.toBe(0);
    expect(rdsCalls()).toEqual([]);
    expect(JSON.stringify(run.log.lines)).toContain(
      "DRILL_IN_SERVER=true and DRILL_SOURCE_INSTANCE are both set (restore drill into a throwaway database on the job's own server instead of an instance of its own). Allowed: one of them.",
    );
  }, 30_000);

  test("a drill slower than the RTO restores everything, publishes its time, deletes its instance, and fails", async () => {
    // A clock of 30 s a reading: the four readings of the time to recover make 120 s, over a 60 s RTO.
    const run = await runJob(
      "restore-drill",
      "2026-11-23T04:00:00Z",
      { DRILL_RTO_SECONDS: "60" },
      { clockStepMs: 30_000 },
    );

    expect(run.code).toBe(1);
    expect(run.log.errors()).toEqual([
      "restore-drill failed: the restore drill restored every row, but in 120 s: over the RTO of 60 s (backup.rtoHours)",
    ]);
    expect(run.metrics.publications.map((p) => p.metrics)).toEqual([
      [
        { name: METRIC.restoreDrillSuccess, value: 0, unit: "Count" },
        { name: METRIC.restoreDrillTimeToRecoverSeconds, value: 120, unit: "Seconds" },
      ],
    ]);
    createdAndDeletedOne();
    expect(await drillDatabasesLeft()).toBe("");
  }, 30_000);

  test("pg_dump failing mid-stream fails the backup, leaves no object behind and keeps latest.json", async () => {
    const before = await bucketState();
    // A pg_dump that writes 5.4 MB of a real dump (more than one upload part) and then dies, the way
    // a dropped connection ends a dump: its output looks complete, only its exit status says not.
    const dieMidway = [
      '"$REAL_PG_DUMP" "$@" | head -c 5400000',
      'echo "pg_dump: error: connection to server lost (simulated)" >&2',
      "exit 1",
    ];
    await withFakePgDump(dieMidway, async (path) => {
      const run = await runJob("backup", "2026-11-23T02:00:00Z", { PATH: path });

      expect(run.code).toBe(1);
      expect(run.log.errors()).toEqual([
        "backup failed: pg_dump failed, so nothing was kept at s3://opsbook-backups/postgres/app/2026/11/23/app-20261123T020000.000Z.dump: " +
          "pg_dump exited with code 1: pg_dump: error: connection to server lost (simulated)",
      ]);
      expect(run.metrics.publications.map((p) => p.metrics)).toEqual([
        [{ name: METRIC.backupSuccess, value: 0, unit: "Count" }],
      ]);
      expect(await bucketState()).toEqual(before);
    });
  }, 30_000);

  test("a dump cut short by a pg_dump that still exits 0 fails verification, is deleted and keeps latest.json", async () => {
    const before = await bucketState();
    // The archive's table of contents comes first and is complete, so only reading the data itself
    // can tell: the cut falls inside the table data, after a whole upload part.
    const cutShort = ['"$REAL_PG_DUMP" "$@" | head -c 5400000', "exit 0"];
    await withFakePgDump(cutShort, async (path) => {
      const run = await runJob("backup", "2026-11-23T02:00:00Z", { PATH: path });

      expect(run.code).toBe(1);
      expect(run.log.errors()).toHaveLength(1);
      expect(run.log.errors()[0]).toMatch(
        /^backup failed: verification failed: pg_restore cannot read all the data of s3:\/\/opsbook-backups\/postgres\/app\/2026\/11\/23\/app-20261123T020000\.000Z\.dump: pg_restore exited with code 1: pg_restore: error: /,
      );
      expect(run.metrics.publications.map((p) => p.metrics)).toEqual([
        [{ name: METRIC.backupSuccess, value: 0, unit: "Count" }],
      ]);
      expect(await bucketState()).toEqual(before);
    });
  }, 30_000);

  test("an unreachable database fails the backup before anything is uploaded", async () => {
    const before = await bucketState();
    const closedPort = await freePort();

    const run = await runJob("backup", "2026-11-23T02:00:00Z", { PGPORT: String(closedPort) });

    expect(run.code).toBe(1);
    expect(run.log.errors()).toHaveLength(1);
    expect(run.log.errors()[0]).toMatch(
      new RegExp(
        `^backup failed: cannot connect to PostgreSQL at 127\\.0\\.0\\.1:${closedPort}/app: psql exited with code 2: .*Connection refused`,
      ),
    );
    expect(run.metrics.publications.map((p) => p.metrics)).toEqual([
      [{ name: METRIC.backupSuccess, value: 0, unit: "Count" }],
    ]);
    expect(await bucketState()).toEqual(before);
  }, 30_000);

  test("a missing bucket fails the backup with the bucket's name before pg_dump starts", async () => {
    const before = await bucketState();

    const run = await runJob("backup", "2026-11-23T02:00:00Z", { BACKUP_BUCKET: "opsbook-no-such-bucket" });

    expect(run.code).toBe(1);
    expect(run.log.errors()).toEqual([
      'backup failed: S3 bucket "opsbook-no-such-bucket" does not exist (HeadBucket returned 404); check BACKUP_BUCKET and AWS_REGION',
    ]);
    expect(run.log.lines.map((l) => l.message)).not.toContain("snapshot exported");
    expect(await bucketState()).toEqual(before);
  }, 30_000);

  test("the drill fails clearly when no backup has been recorded under the prefix", async () => {
    const run = await runJob("restore-drill", "2026-11-24T03:00:00Z", { BACKUP_PREFIX: "elsewhere" });

    expect(run.code).toBe(1);
    expect(run.log.errors()).toEqual([
      "restore-drill failed: the pointer to the latest verified backup (written only after a backup passed verification) does not exist: " +
        `s3://${BUCKET}/elsewhere/app/latest.json`,
    ]);
    expect(run.metrics.publications.map((p) => p.metrics)).toEqual([
      [{ name: METRIC.restoreDrillSuccess, value: 0, unit: "Count" }],
    ]);
  }, 30_000);

  test("the drill rejects a truncated dump by its size before restoring anything", async () => {
    const before = await bucketState();
    const half = Math.floor(dump().length / 2);
    await s3.write(BUCKET, DUMP, dump().subarray(0, half));
    try {
      const run = await runJob("restore-drill", "2026-11-24T03:00:00Z");

      expect(run.code).toBe(1);
      expect(run.log.errors()).toEqual([
        `restore-drill failed: the dump is corrupted: s3://${BUCKET}/${DUMP} holds ${half} bytes but latest.json records ${dump().length}`,
      ]);
      expect(run.metrics.publications.map((p) => p.metrics)).toEqual([
        [{ name: METRIC.restoreDrillSuccess, value: 0, unit: "Count" }],
      ]);
      expect((await bucketState()).latest).toBe(before.latest);
    } finally {
      await s3.write(BUCKET, DUMP, dump());
    }
  }, 30_000);

  test("the drill rejects a garbled dump of the right size by its sha256, and drops the throwaway database", async () => {
    const before = await bucketState();
    const garbled = Buffer.from(dump());
    for (let i = 4096; i < garbled.length; i += 512) {
      garbled[i] = (garbled[i] ?? 0) ^ 0xff;
    }
    await s3.write(BUCKET, DUMP, garbled);
    try {
      const run = await runJob("restore-drill", "2026-11-24T03:00:00Z");

      expect(run.code).toBe(1);
      expect(run.log.errors()).toHaveLength(1);
      expect(run.log.errors()[0]).toMatch(
        new RegExp(
          `^restore-drill failed: the dump is corrupted: s3://${BUCKET}/${DUMP.replace(/\./g, "\\.")} has sha256 ${sha256(garbled)} ` +
            `but latest.json records ${sha256(dump())} \\(pg_restore exited with code 1: pg_restore: error: .+\\)$`,
        ),
      );
      expect(run.metrics.publications.map((p) => p.metrics)).toEqual([
        [{ name: METRIC.restoreDrillSuccess, value: 0, unit: "Count" }],
      ]);
      expect(await drillDatabasesLeft()).toBe("");
      createdAndDeletedOne();
      expect((await bucketState()).latest).toBe(before.latest);
    } finally {
      await s3.write(BUCKET, DUMP, dump());
    }
  }, 30_000);

  test("the drill fails when restored row counts differ from those recorded at dump time", async () => {
    const original = (await s3.read(BUCKET, LATEST)).toString("utf8");
    const latest = parseManifest(original, LATEST);
    const edited = {
      ...latest,
      tables: [
        ...latest.tables.map((t) => (t.table === "customers" ? { ...t, rows: 249 } : t)),
        { schema: "public", table: "ghost", rows: 7 },
      ],
    };
    await s3.write(BUCKET, LATEST, JSON.stringify(edited));
    try {
      const run = await runJob("restore-drill", "2026-11-24T03:00:00Z");

      expect(run.code).toBe(1);
      expect(run.log.errors()).toEqual([
        `restore-drill failed: row counts after restoring s3://${BUCKET}/${DUMP} differ from those recorded at dump time: ` +
          "public.customers: 249 rows at dump time, 250 after restore; public.ghost: 7 rows at dump time, table missing after restore",
      ]);
      expect(await drillDatabasesLeft()).toBe("");
      createdAndDeletedOne();
    } finally {
      await s3.write(BUCKET, LATEST, original);
    }
  }, 30_000);

  test("rows written after the counts are in neither the counts nor the dump: both come from one snapshot", async () => {
    // The insert commits after the row counts were taken and before the real pg_dump starts.
    const insertFirst = [
      `psql --no-psqlrc --quiet --command "INSERT INTO public.customers SELECT g, 'late' FROM generate_series(1001, 1010) g"`,
      'exec "$REAL_PG_DUMP" "$@"',
    ];
    try {
      await withFakePgDump(insertFirst, async (path) => {
        const backup = await runJob("backup", "2026-11-25T02:00:00Z", { PATH: path });
        expect(backup.log.errors()).toEqual([]);
        expect(backup.code).toBe(0);
      });
      expect(await pg.sql("SELECT count(*) FROM public.customers", DATABASE)).toBe("260");
      const latest = parseManifest((await s3.read(BUCKET, LATEST)).toString("utf8"), LATEST);
      expect(latest.dumpKey).toBe("postgres/app/2026/11/25/app-20261125T020000.000Z.dump");
      expect(latest.tables).toEqual(SEEDED_TABLES);

      const drill = await runJob("restore-drill", "2026-11-25T03:00:00Z");
      expect(drill.log.errors()).toEqual([]);
      expect(drill.code).toBe(0);
    } finally {
      await pg.sql("DELETE FROM public.customers WHERE id > 1000", DATABASE);
    }
  }, 30_000);

  test("with PUSHGATEWAY_URL the backup and the drill push their metrics to a Pushgateway, as Prometheus reads them", async () => {
    const gateway = await startTestPushgateway();
    try {
      const env = { PUSHGATEWAY_URL: gateway.url };
      const backup = await runJob("backup", "2026-11-26T02:00:00Z", env, { recordMetrics: false });
      expect(backup.log.errors()).toEqual([]);
      expect(backup.code).toBe(0);
      const drill = await runJob("restore-drill", "2026-11-26T03:00:00Z", env, { recordMetrics: false });
      expect(drill.log.errors()).toEqual([]);
      expect(drill.code).toBe(0);

      expect(gateway.requests.map((r) => `${r.method} ${r.path}`)).toEqual(
        Array(2).fill("POST /metrics/job/opsbook_backup/database/app"),
      );
      const latest = parseManifest((await s3.read(BUCKET, LATEST)).toString("utf8"), LATEST);
      const samples = gateway.group({ job: "opsbook_backup", database: DATABASE })!;
      expect(samples).toEqual({
        opsbook_backup_success: 1,
        opsbook_backup_last_success_timestamp_seconds: new Date(latest.finishedAt).getTime() / 1000,
        opsbook_backup_size_bytes: latest.sizeBytes,
        opsbook_backup_duration_seconds: 2,
        opsbook_restore_drill_success: 1,
        opsbook_restore_drill_time_to_recover_seconds: expect.any(Number) as number,
      });
      expect(latest.finishedAt).toBe("2026-11-26T02:00:01.000Z");
    } finally {
      await gateway.stop();
    }
  }, 30_000);
});
