/**
 * The backup contract on the Backups component alone, with its alarms as the stack declares them.
 * The stack tests run the same checks on each stack, where the database settings come from the
 * stack's own wiring instead of the connection below.
 */
import { Backups, backupMetrics, type BackupsArgs } from "../../components/backup/backups";
import { AlarmSet } from "../../components/monitoring/alarmSet";
import { backupAlarms } from "../../components/monitoring/alarmCatalogue";
import { backupContract, containerEnv, backupContainers, parseWatched } from "../helpers/backupContract";
import { type RecordedResource, recordResources, settle } from "../helpers/mocks";

const args: BackupsArgs = {
  image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/opsbook/backup-job",
  tag: "1.0.0",
  database: {
    name: "app",
    // libpq's variables, as the stack hands the database to the job.
    connection: {
      environment: { PGHOST: "db.internal", PGPORT: "6432", PGDATABASE: "app", PGSSLMODE: "verify-full" },
      secrets: { PGUSER: "arn:secret:db:username::", PGPASSWORD: "arn:secret:db:password::" },
      secretArns: ["arn:secret:db"],
      kmsKeyArns: ["arn:key:db"],
    },
  },
  dailyAt: "02:00",
  restoreDrillDay: "SUN",
  restoreDrillAt: "04:00",
  timeZone: "Europe/London",
  retentionDays: 30,
  objectLock: true,
  kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/backups",
  cluster: { arn: "arn:aws:ecs:eu-west-1:123456789012:cluster/opsbook-prod" },
  subnetIds: ["subnet-a", "subnet-b"],
  securityGroupId: "sg-app",
  logRetentionDays: 365,
  logKmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/logs",
  protect: true,
  region: "eu-west-1",
  accountId: "123456789012",
  partition: "aws",
};

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
      storage: { bucket: "prod-mock", prefix: "postgres", region: "eu-west-1", endpoint: undefined },
      metrics: { enabled: true, namespace: "Opsbook/Backup/prod", endpoint: undefined },
    });
  });
});
