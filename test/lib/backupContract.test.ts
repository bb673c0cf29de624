/**
 * The backup contract on the Backups component alone, with its alarms as the stack declares them.
 * The stack tests run the same checks on each stack, where the database settings come from the
 * stack's own wiring instead of the connection below.
 */
import { Backups, backupMetrics } from "../../components/backup/backups";
import { AlarmSet } from "../../components/monitoring/alarmSet";
import { backupAlarms } from "../../components/monitoring/alarmCatalogue";
import { backupContract, containerEnv, backupContainers, parseWatched } from "../helpers/backupContract";
import { type RecordedResource, idOfOne, recordResources, settle } from "../helpers/mocks";
import { backupsArgs } from "../helpers/backups";

// libpq's variables, as the stack hands the database to the job.
const args = backupsArgs({ PGHOST: "db.internal", PGPORT: "6432", PGDATABASE: "app", PGSSLMODE: "verify-full" });

let resources: RecordedResource[];
beforeAll(async () => {
  resources = await recordResources("prod");
  new Backups("prod", args);
  new AlarmSet("prod", {
    namePrefix: "opsbook-prod",
    definitions: backupAlarms({ database: args.database.name, rpoHours: 24, metrics: backupMetrics("prod") }),
    topicArns: { warning: "arn:warning", critical: "arn:critical" },
  });
  await settle();
});

describe("the backup contract, on the Backups component", () => {
  backupContract(() => resources);

  test("hands the job the component's settings as the parser reads them", () => {
    const { config } = parseWatched(containerEnv(backupContainers(resources)[0]!.container));
    expect(config).toMatchObject({
      postgres: {
        host: "db.internal",
        port: 6432,
        database: "app",
        user: "from-secrets-manager",
        sslMode: "verify-full",
      },
      storage: {
        bucket: idOfOne(resources, "aws:s3/bucket:Bucket", "prod"),
        prefix: "postgres",
        region: "eu-west-1",
        endpoint: undefined,
      },
      metrics: { enabled: true, namespace: "Opsbook/Backup/prod", endpoint: undefined },
    });
  });
});
