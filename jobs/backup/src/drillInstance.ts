/**
 * The restore drill's own database server (R-backup-restore-test): a temporary RDS instance shaped
 * like the production one (its engine version as of the latest automated snapshot, its parameter
 * group, KMS key and isolated subnets) at a small class, reachable only from the drill's security
 * group, deleted again whatever happens. The production instance is only ever described.
 */
import { randomBytes } from "node:crypto";
import {
  CreateDBInstanceCommand,
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  type DBInstance,
  type RDSClient,
} from "@aws-sdk/client-rds";
import { DRILL_TAG } from "../../../lib/backupContract";
import type { DrillConfig } from "./config";
import { JobError, errorMessage } from "./errors";
import { keyTimestamp } from "./keys";
import type { Logger } from "./log";

/** The drill instance's master user; its password lives only in this run's memory. */
export const DRILL_MASTER_USER = "drill_admin";

/** A drill instance older than this is a leftover of a killed run: the sweep deletes it. */
export const LEFTOVER_AFTER_HOURS = 6;

/** Statuses from which an instance never becomes available by itself. */
const TERMINAL = new Set([
  "failed",
  "incompatible-network",
  "incompatible-parameters",
  "incompatible-restore",
  "storage-full",
  "deleting",
  "inaccessible-encryption-credentials",
]);

/** How the drill reaches the instance it created. */
export interface DrillInstance {
  identifier: string;
  host: string;
  port: number;
  user: string;
  password: string;
}

export interface DrillInstanceDeps {
  rds: RDSClient;
  log: Logger;
  now: () => Date;
  /** Waits between status polls; tests pass one that returns at once. */
  sleep: (ms: number) => Promise<void>;
}

const POLL_MS = 30_000;

/** `<prefix>-20261122t060000-3fa9`: unique per run, a valid RDS identifier (the config checked the prefix). */
export function drillInstanceIdentifier(prefix: string, at: Date, suffix: string): string {
  return `${prefix}-${keyTimestamp(at).slice(0, 15).toLowerCase()}-${suffix}`;
}

/** Throws unless `identifier` is one of the drill's own: nothing but Describe* may name another. */
function assertDrillOwned(config: DrillConfig, identifier: string): void {
  if (!identifier.startsWith(`${config.instancePrefix}-`) || identifier === config.sourceInstance) {
    throw new JobError(
      `refusing to modify RDS instance ${identifier}: the drill only creates and deletes instances named ${config.instancePrefix}-*`,
    );
  }
}

function isDrillInstance(config: DrillConfig, instance: DBInstance): boolean {
  const identifier = instance.DBInstanceIdentifier ?? "";
  const tagged = (instance.TagList ?? []).some((t) => t.Key === DRILL_TAG && t.Value === config.sourceInstance);
  return tagged && identifier.startsWith(`${config.instancePrefix}-`) && identifier !== config.sourceInstance;
}

async function describeAll(rds: RDSClient): Promise<DBInstance[]> {
  const instances: DBInstance[] = [];
  let marker: string | undefined;
  do {
    const page = await rds.send(new DescribeDBInstancesCommand({ ...(marker && { Marker: marker }) }));
    instances.push(...(page.DBInstances ?? []));
    marker = page.Marker;
  } while (marker);
  return instances;
}

/**
 * Deletes drill instances a killed run left behind (tagged for this source, named with the prefix,
 * older than {@link LEFTOVER_AFTER_HOURS}). A failure here is logged, not fatal: the drill itself
 * still runs, and the next sweep tries again.
 */
export async function sweepLeftovers(config: DrillConfig, deps: DrillInstanceDeps): Promise<string[]> {
  const cutoff = deps.now().getTime() - LEFTOVER_AFTER_HOURS * 3_600_000;
  const swept: string[] = [];
  try {
    for (const instance of await describeAll(deps.rds)) {
      const created = instance.InstanceCreateTime?.getTime();
      if (!isDrillInstance(config, instance) || instance.DBInstanceStatus === "deleting") continue;
      if (created === undefined || created > cutoff) continue;
      const identifier = instance.DBInstanceIdentifier!;
      deps.log.warn("deleting a drill instance a previous run left behind", {
        identifier,
        created: new Date(created).toISOString(),
      });
      await deleteDrillInstance(config, deps, identifier);
      swept.push(identifier);
    }
  } catch (error) {
    deps.log.error("sweeping leftover drill instances failed; the next drill tries again", {
      error: errorMessage(error),
    });
  }
  return swept;
}

/** The production instance and the engine version of its latest automated snapshot (or its own). */
async function describeSource(
  config: DrillConfig,
  rds: RDSClient,
): Promise<{ source: DBInstance; engineVersion: string }> {
  const described = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: config.sourceInstance }));
  const source = described.DBInstances?.[0];
  if (!source) throw new JobError(`RDS describes no instance ${config.sourceInstance} (DRILL_SOURCE_INSTANCE)`);
  const snapshots = await rds.send(
    new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: config.sourceInstance, SnapshotType: "automated" }),
  );
  const latest = (snapshots.DBSnapshots ?? [])
    .filter((s) => s.Status === "available" && s.SnapshotCreateTime)
    .sort((a, b) => b.SnapshotCreateTime!.getTime() - a.SnapshotCreateTime!.getTime())[0];
  const engineVersion = latest?.EngineVersion ?? source.EngineVersion;
  if (!engineVersion) throw new JobError(`RDS reports no engine version for ${config.sourceInstance}`);
  return { source, engineVersion };
}

/**
 * Creates the drill instance and waits until it accepts connections.
 *
 * @returns the instance; its identifier is known to the caller through `onCreated` even if waiting fails
 */
export async function createDrillInstance(
  config: DrillConfig,
  deps: DrillInstanceDeps,
  onCreated: (identifier: string) => void,
): Promise<DrillInstance> {
  const { source, engineVersion } = await describeSource(config, deps.rds);
  const parameterGroup = source.DBParameterGroups?.[0]?.DBParameterGroupName;
  const subnetGroup = source.DBSubnetGroup?.DBSubnetGroupName;
  if (!parameterGroup || !subnetGroup || !source.KmsKeyId || !source.AllocatedStorage) {
    throw new JobError(
      `RDS describes ${config.sourceInstance} without a parameter group, subnet group, KMS key or storage size; the drill copies them`,
    );
  }
  const identifier = drillInstanceIdentifier(config.instancePrefix, deps.now(), randomBytes(2).toString("hex"));
  assertDrillOwned(config, identifier);
  const password = randomBytes(24).toString("hex");
  deps.log.info("creating the drill instance", { identifier, engineVersion, instanceClass: config.instanceClass });
  await deps.rds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: identifier,
      Engine: "postgres",
      EngineVersion: engineVersion,
      DBInstanceClass: config.instanceClass,
      AllocatedStorage: source.AllocatedStorage,
      StorageType: "gp3",
      StorageEncrypted: true,
      KmsKeyId: source.KmsKeyId,
      DBParameterGroupName: parameterGroup,
      DBSubnetGroupName: subnetGroup,
      VpcSecurityGroupIds: [config.securityGroupId],
      PubliclyAccessible: false,
      MultiAZ: false,
      DeletionProtection: false,
      // A throwaway: no automated backups, no minor upgrades while it lives.
      BackupRetentionPeriod: 0,
      AutoMinorVersionUpgrade: false,
      CopyTagsToSnapshot: false,
      MasterUsername: DRILL_MASTER_USER,
      MasterUserPassword: password,
      Port: 5432,
      Tags: [{ Key: DRILL_TAG, Value: config.sourceInstance }],
    }),
  );
  onCreated(identifier);
  const available = await waitUntilAvailable(config, deps, identifier);
  return {
    identifier,
    host: available.Endpoint!.Address!,
    port: available.Endpoint!.Port ?? 5432,
    user: DRILL_MASTER_USER,
    password,
  };
}

async function waitUntilAvailable(
  config: DrillConfig,
  deps: DrillInstanceDeps,
  identifier: string,
): Promise<DBInstance> {
  const deadline = deps.now().getTime() + config.createTimeoutMinutes * 60_000;
  for (;;) {
    const described = await deps.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier }));
    const instance = described.DBInstances?.[0];
    const status = instance?.DBInstanceStatus ?? "unknown";
    if (status === "available" && instance?.Endpoint?.Address) return instance;
    if (TERMINAL.has(status))
      throw new JobError(`the drill instance ${identifier} became ${status} instead of available`);
    if (deps.now().getTime() >= deadline) {
      throw new JobError(
        `the drill instance ${identifier} was not available after ${config.createTimeoutMinutes} min (status ${status})`,
      );
    }
    await deps.sleep(POLL_MS);
  }
}

/** Deletes a drill instance without a final snapshot (it holds a copy of a dump, nothing else). */
export async function deleteDrillInstance(
  config: DrillConfig,
  deps: Pick<DrillInstanceDeps, "rds">,
  identifier: string,
): Promise<void> {
  assertDrillOwned(config, identifier);
  await deps.rds.send(
    new DeleteDBInstanceCommand({
      DBInstanceIdentifier: identifier,
      SkipFinalSnapshot: true,
      DeleteAutomatedBackups: true,
    }),
  );
}
