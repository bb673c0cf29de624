import { EXIT, main } from "../src/main";
import { RecordingLogger, RecordingPublisher } from "./support/recorders";

describe("main", () => {
  test.each([[[]], [["restore"]], [["backup", "now"]]])("command line %j is a usage error", async (args) => {
    const log = new RecordingLogger();
    await expect(main(args, {}, { log })).resolves.toBe(EXIT.usage);
    expect(log.errors()).toEqual([
      `usage: opsbook-backup <backup|restore-drill|bootstrap-roles|maintenance-analyze|maintenance-vacuum> (got: ${JSON.stringify(args)})`,
    ]);
  });

  test("secret values are masked in every log line, even where an invalid value is quoted", async () => {
    const log = new RecordingLogger();
    const env = {
      PGHOST: "db",
      PGDATABASE: "top secret",
      PGUSER: "backup",
      PGPASSWORD: "top secret",
      BACKUP_BUCKET: "bucket",
      AWS_REGION: "eu-west-1",
    };

    await expect(main(["backup"], env, { log })).resolves.toBe(EXIT.usage);

    expect(log.errors()).toEqual([
      'invalid configuration (1 problem): PGDATABASE="****" is invalid (the database to back up; it is also part of the S3 keys). ' +
        "Allowed: 1-63 characters of A-Z, a-z, 0-9, '_' and '-', not starting with '-'.",
    ]);
  });

  test("bad configuration stops the run before any work, without publishing anything", async () => {
    const log = new RecordingLogger();
    const metrics = new RecordingPublisher();
    const env = {
      PGHOST: "db",
      PGDATABASE: "app",
      PGUSER: "backup",
      PGPASSWORD: "hunter2",
      BACKUP_BUCKET: "b",
      AWS_REGION: "eu-west-1",
    };

    await expect(main(["restore-drill"], env, { log, metrics })).resolves.toBe(EXIT.usage);

    expect(log.lines).toEqual([
      {
        level: "error",
        message:
          'invalid configuration (1 problem): BACKUP_BUCKET="b" is invalid (the S3 bucket that holds the dumps). ' +
          "Allowed: an S3 bucket name: 3-63 characters of a-z, 0-9, '.' and '-', starting and ending with a letter or digit.",
        fields: {},
      },
    ]);
    expect(metrics.publications).toEqual([]);
  });
});
