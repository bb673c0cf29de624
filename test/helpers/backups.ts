import type { BackupsArgs } from "../../components/backup/backups";

/**
 * Production-like arguments of the Backups component, with the database handed over as libpq's
 * variables (`environment`: PGHOST, PGPORT, PGDATABASE, PGSSLMODE; credentials as secrets).
 */
export function backupsArgs(environment: Record<string, string>): BackupsArgs {
  return {
    image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/opsbook/backup-job",
    tag: "1.0.0",
    database: {
      name: "app",
      connection: {
        environment,
        secrets: { PGUSER: "arn:secret:db:username::", PGPASSWORD: "arn:secret:db:password::" },
        secretArns: ["arn:secret:db"],
        kmsKeyArns: ["arn:key:db"],
      },
      drillSource: {
        identifier: "opsbook-prod",
        parameterGroupName: "prod-db-pg",
        subnetGroupName: "prod-db-subnets",
        kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/db",
      },
    },
    vpcId: "vpc-1",
    drillInstanceClass: "db.t4g.medium",
    rtoHours: 4,
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
}
