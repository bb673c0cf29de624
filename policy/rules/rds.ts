/**
 * PostgreSQL on RDS: private, encrypted, backed up as long as R-backup-retention asks, watched, and
 * only reachable over TLS (R-db-tls).
 */
import type * as aws from "@pulumi/aws";
import type { Unwrap } from "@pulumi/pulumi";
import {
  type OpsbookPolicy,
  type Outputs,
  idSet,
  message,
  ofTypes,
  dayCount,
  resourceRule,
  show,
  stackRule,
} from "./common";
import { dailyMeetsWeekly, parseDailyWindow, parseWeeklyWindow } from "./windows";

export const RDS_INSTANCE = "aws:rds/instance:Instance";
export const RDS_PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup";

type Instance = Unwrap<aws.rds.InstanceArgs>;
type ParameterGroup = Outputs<aws.rds.ParameterGroupState>;

const KEY_PREVIEW =
  "a KMS key or IAM role created in the same update has no ARN yet; the engine then reports this rule as advisory until the update.";

function instanceRule<C = Record<string, never>>(
  meta: Omit<Parameters<typeof resourceRule<Instance, C>>[0], "types" | "kind">,
): OpsbookPolicy {
  return resourceRule<Instance, C>({ ...meta, types: [RDS_INSTANCE], kind: "RDS instance" });
}

export const rdsStorageEncrypted = instanceRule({
  name: "rds-storage-encrypted",
  description: "Every RDS instance encrypts its storage with a customer-managed KMS key.",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["CKV_AWS_16", "RDS.3", "awsguard rds-storage-encrypted"],
  preview: KEY_PREVIEW,
  remediationSteps:
    "Set storageEncrypted: true and kmsKeyId to the stack's database key. An existing unencrypted instance is encrypted by restoring an encrypted copy of its snapshot.",
  check: ({ props, report }) => {
    if (props.storageEncrypted !== true) {
      report(
        "storageEncrypted",
        show(props.storageEncrypted),
        "true",
        "set storageEncrypted: true and kmsKeyId to a customer-managed key; an existing instance is encrypted by restoring an encrypted snapshot copy",
      );
    } else if (!props.kmsKeyId) {
      report(
        "kmsKeyId",
        "not set (the AWS-managed aws/rds key)",
        "the ARN of a customer-managed KMS key, whose policy and rotation the stack controls",
        "set kmsKeyId to the stack's database key ARN",
      );
    }
  },
});

export const rdsNotPublic = instanceRule({
  name: "rds-not-public",
  description: "No RDS instance is publicly accessible; each sits in its own DB subnet group.",
  enforcementLevel: "mandatory",
  severity: "critical",
  sources: ["CKV_AWS_17", "RDS.2"],
  remediationSteps:
    "Set publiclyAccessible: false and dbSubnetGroupName to a subnet group of the isolated (data) subnets.",
  check: ({ props, report }) => {
    if (props.publiclyAccessible === true)
      report(
        "publiclyAccessible",
        "true",
        "false (reachable only from inside the VPC)",
        "set publiclyAccessible: false",
      );
    if (!props.dbSubnetGroupName)
      report(
        "dbSubnetGroupName",
        "not set (the default VPC's default subnets)",
        "a DB subnet group of the isolated subnets",
        "set dbSubnetGroupName to the stack's data subnet group",
      );
  },
});

export const rdsMultiAz = instanceRule({
  name: "rds-multi-az",
  description: "Every RDS instance runs Multi-AZ, so a zone outage fails over instead of stopping the database.",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["CKV_AWS_157", "RDS.5"],
  remediationSteps: "Set multiAz: true (postgres.multiAz in the stack file).",
  check: ({ props, report }) => {
    if (props.multiAz !== true)
      report(
        "multiAz",
        show(props.multiAz),
        "true",
        "set multiAz: true (pulumi config set --path 'opsbook:postgres.multiAz' true)",
      );
  },
});

export const rdsBackupRetention = instanceRule<{ minimumRetentionDays: number; requireBackupWindow: boolean }>({
  name: "rds-backup-retention",
  description:
    "Every RDS instance keeps automated backups (point-in-time recovery) for at least the configured days, taken in a daily window that does not overlap its maintenance window.",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["CKV_AWS_133", "RDS.11", "runbook 001"], // R-backup-retention, R-backup-window
  remediationSteps:
    "Set backupRetentionPeriod to at least the configured days and backupWindow to a daily UTC window clear of maintenanceWindow.",
  config: {
    minimumRetentionDays: {
      type: "integer",
      minimum: 1,
      maximum: 35,
      default: 7,
      description: "Fewest days of automated backups; the runbooks want 30 in production.",
    },
    requireBackupWindow: {
      type: "boolean",
      default: true,
      description: "Require an explicit backupWindow (otherwise AWS picks a random one).",
    },
  },
  check: ({ props, report }, config) => {
    // RDS for PostgreSQL keeps no automated backups of a read replica; its source's cover the data
    // (R-db-read-replicas).
    if (props.replicateSourceDb) return;
    const days = props.backupRetentionPeriod;
    if (typeof days !== "number" || days < config.minimumRetentionDays) {
      report(
        "backupRetentionPeriod",
        days === undefined ? "not set (RDS keeps 1 day)" : show(days),
        `at least ${dayCount(config.minimumRetentionDays)}`,
        `set backupRetentionPeriod: ${config.minimumRetentionDays} or more (pulumi config set --path 'opsbook:postgres.backupRetentionDays' ${config.minimumRetentionDays})`,
      );
    }
    if (!config.requireBackupWindow) return;
    const backup = parseDailyWindow(props.backupWindow);
    if (!backup || backup.end - backup.start < 30) {
      report(
        "backupWindow",
        props.backupWindow === undefined ? "not set (AWS picks a time)" : show(props.backupWindow),
        'a daily UTC window "hh24:mi-hh24:mi" of at least 30 minutes',
        "set backupWindow (postgres.backupWindowStart in the stack file)",
      );
      return;
    }
    const maintenance = parseWeeklyWindow(props.maintenanceWindow);
    if (maintenance && dailyMeetsWeekly(backup, maintenance)) {
      report(
        "backupWindow",
        `${show(props.backupWindow)}, which overlaps maintenanceWindow ${show(props.maintenanceWindow)}`,
        "a backup window clear of the maintenance window (RDS rejects the change otherwise)",
        "move postgres.backupWindowStart or postgres.maintenanceWindow",
      );
    }
  },
});

export const rdsDeletionProtection = instanceRule({
  name: "rds-deletion-protection",
  description: "Every RDS instance has deletion protection, so no API call or update deletes it by accident.",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["CKV_AWS_293", "RDS.8"],
  remediationSteps: "Set deletionProtection: true (postgres.deletionProtection in the stack file).",
  check: ({ props, report }) => {
    if (props.deletionProtection !== true)
      report(
        "deletionProtection",
        show(props.deletionProtection),
        "true",
        "set deletionProtection: true (pulumi config set --path 'opsbook:postgres.deletionProtection' true)",
      );
  },
});

export const rdsIamAuth = instanceRule({
  name: "rds-iam-auth",
  description:
    "Every RDS instance accepts IAM database authentication, so people and jobs can log in without a shared password.",
  enforcementLevel: "advisory",
  severity: "medium",
  sources: ["CKV_AWS_161", "RDS.10"],
  remediationSteps: "Set iamDatabaseAuthenticationEnabled: true.",
  check: ({ props, report }) => {
    if (props.iamDatabaseAuthenticationEnabled !== true)
      report(
        "iamDatabaseAuthenticationEnabled",
        show(props.iamDatabaseAuthenticationEnabled),
        "true",
        "set iamDatabaseAuthenticationEnabled: true",
      );
  },
});

export const rdsEnhancedMonitoring = instanceRule<{ maximumIntervalSeconds: number }>({
  name: "rds-enhanced-monitoring",
  description:
    "Every RDS instance has enhanced monitoring at least as often as configured, through its own monitoring role.",
  enforcementLevel: "mandatory",
  severity: "medium",
  sources: ["CKV_AWS_118", "RDS.6"],
  preview: KEY_PREVIEW,
  remediationSteps:
    "Set monitoringInterval (1-60 s) and monitoringRoleArn to a role trusted by monitoring.rds.amazonaws.com.",
  config: {
    maximumIntervalSeconds: {
      type: "integer",
      enum: [1, 5, 10, 15, 30, 60],
      default: 60,
      description: "Longest allowed monitoring interval.",
    },
  },
  check: ({ props, report }, config) => {
    const interval = props.monitoringInterval;
    if (typeof interval !== "number" || interval <= 0 || interval > config.maximumIntervalSeconds) {
      report(
        "monitoringInterval",
        interval === undefined ? "not set (off)" : show(interval),
        `1 to ${config.maximumIntervalSeconds} seconds`,
        "set monitoringInterval (postgres.monitoringIntervalSeconds in the stack file)",
      );
    }
    if (!props.monitoringRoleArn)
      report(
        "monitoringRoleArn",
        "not set",
        "the ARN of a role monitoring.rds.amazonaws.com may assume",
        "create a role with AmazonRDSEnhancedMonitoringRole and set monitoringRoleArn",
      );
  },
});

export const rdsPerformanceInsights = instanceRule({
  name: "rds-performance-insights",
  description: "Every RDS instance has Performance Insights, encrypted with a customer-managed KMS key.",
  enforcementLevel: "mandatory",
  severity: "medium",
  sources: ["CKV_AWS_353", "CKV_AWS_354"],
  preview: KEY_PREVIEW,
  remediationSteps: "Set performanceInsightsEnabled: true and performanceInsightsKmsKeyId to the stack's database key.",
  check: ({ props, report }) => {
    if (props.performanceInsightsEnabled !== true)
      report(
        "performanceInsightsEnabled",
        show(props.performanceInsightsEnabled),
        "true",
        "set performanceInsightsEnabled: true",
      );
    else if (!props.performanceInsightsKmsKeyId)
      report(
        "performanceInsightsKmsKeyId",
        "not set (the AWS-managed key)",
        "a customer-managed KMS key ARN",
        "set performanceInsightsKmsKeyId to the stack's database key ARN",
      );
  },
});

export const rdsAutoMinorUpgrade = instanceRule({
  name: "rds-auto-minor-upgrade",
  description: "Every RDS instance takes minor engine upgrades (security fixes) in its maintenance window.",
  enforcementLevel: "mandatory",
  severity: "medium",
  sources: ["CKV_AWS_226", "RDS.13"],
  remediationSteps:
    'Leave autoMinorVersionUpgrade unset or set it to true; pin only the major version (engineVersion "16").',
  check: ({ props, report }) => {
    if (props.autoMinorVersionUpgrade === false)
      report(
        "autoMinorVersionUpgrade",
        "false",
        "true (the default)",
        "remove autoMinorVersionUpgrade: false and pin only the major engine version",
      );
  },
});

export const rdsLogExports = instanceRule<{ requiredLogTypes: string[] }>({
  name: "rds-log-exports",
  description:
    "Every RDS instance exports the configured logs to CloudWatch Logs (slow queries and errors in `postgresql`, upgrades in `upgrade`).",
  enforcementLevel: "mandatory",
  severity: "medium",
  sources: ["CKV_AWS_129", "RDS.9"],
  remediationSteps: "List every required log type in enabledCloudwatchLogsExports.",
  config: {
    requiredLogTypes: {
      type: "array",
      items: { type: "string" },
      default: ["postgresql", "upgrade"],
      description: "Log types every instance must export.",
    },
  },
  check: ({ props, report }, config) => {
    const exported = props.enabledCloudwatchLogsExports ?? [];
    const missing = config.requiredLogTypes.filter((t) => !exported.includes(t));
    if (missing.length > 0)
      report(
        "enabledCloudwatchLogsExports",
        `${show(props.enabledCloudwatchLogsExports)}, missing ${show(missing)}`,
        `every one of ${show(config.requiredLogTypes)}`,
        `add ${missing.map((m) => `"${m}"`).join(", ")} to enabledCloudwatchLogsExports`,
      );
  },
});

export const rdsCopyTagsToSnapshot = instanceRule({
  name: "rds-copy-tags-to-snapshot",
  description:
    "Every RDS instance copies its tags to its snapshots, so a snapshot shows which stack and environment it belongs to.",
  enforcementLevel: "advisory",
  severity: "low",
  sources: ["CKV2_AWS_60", "RDS.17"],
  remediationSteps: "Set copyTagsToSnapshot: true.",
  check: ({ props, report }) => {
    if (props.copyTagsToSnapshot !== true)
      report("copyTagsToSnapshot", show(props.copyTagsToSnapshot), "true", "set copyTagsToSnapshot: true");
  },
});

export const rdsForceSsl = stackRule<{ requiredParameters: Record<string, string> }>({
  name: "rds-force-ssl",
  description:
    "Every RDS instance uses a parameter group declared in this stack that forces TLS (rds.force_ssl = 1) and sets every other required parameter.",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["CKV2_AWS_69", "runbook 003"], // R-db-tls
  preview:
    "the name of a parameter group created in the same update is unknown; the engine then reports this rule as advisory until the update.",
  remediationSteps:
    "Declare an aws.rds.ParameterGroup with the required parameters and set the instance's parameterGroupName to it.",
  config: {
    requiredParameters: {
      type: "object",
      additionalProperties: { type: "string" },
      default: { "rds.force_ssl": "1" },
      description: "Parameter name -> value every instance's parameter group must set.",
    },
  },
  check: (resources, config, report) => {
    const groups = ofTypes(resources, [RDS_PARAMETER_GROUP]);
    for (const db of ofTypes(resources, [RDS_INSTANCE])) {
      const subject = `RDS instance "${db.name}"`;
      const groupName = (db.props as Instance).parameterGroupName;
      if (!groupName) {
        report(
          db,
          message(
            subject,
            "parameterGroupName",
            "not set (the engine's default group, which the stack cannot change)",
            `a parameter group of this stack setting ${describeParameters(config.requiredParameters)}`,
            "declare an aws.rds.ParameterGroup and set parameterGroupName to its name",
          ),
        );
        continue;
      }
      const group = groups.find((g) =>
        idSet((g.props as ParameterGroup).name, (g.props as ParameterGroup).id).has(groupName),
      );
      if (!group) {
        report(
          db,
          message(
            subject,
            "parameterGroupName",
            `${show(groupName)}, which is not declared in this stack`,
            `a parameter group of this stack, so that ${describeParameters(config.requiredParameters)} can be checked`,
            "declare the parameter group in this stack",
          ),
        );
        continue;
      }
      const params = (group.props as ParameterGroup).parameters ?? [];
      for (const [name, value] of Object.entries(config.requiredParameters)) {
        const found = params.find((p) => p.name === name);
        if (String(found?.value) !== value) {
          report(
            db,
            message(
              `${subject} (parameter group "${group.name}")`,
              `parameter ${name}`,
              found ? show(found.value) : "not set",
              show(value),
              `add { name: "${name}", value: "${value}" } to the parameter group's parameters`,
            ),
          );
        }
      }
    }
  },
});

function describeParameters(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k} = ${v}`)
    .join(", ");
}

export const rdsPolicies: OpsbookPolicy[] = [
  rdsStorageEncrypted,
  rdsNotPublic,
  rdsMultiAz,
  rdsBackupRetention,
  rdsDeletionProtection,
  rdsIamAuth,
  rdsEnhancedMonitoring,
  rdsPerformanceInsights,
  rdsAutoMinorUpgrade,
  rdsLogExports,
  rdsCopyTagsToSnapshot,
  rdsForceSsl,
];
