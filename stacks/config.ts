/**
 * The stack config: the only code that reads Pulumi config. It composes the parts' settings schemas
 * (`components/<part>/settings.ts`) under the keys of `Pulumi.<stack>.yaml`, adds the stack-wide
 * keys and the rules that span parts, and turns every problem into one `ConfigError` that names the
 * key, the value given, what is allowed and the `pulumi config` command that fixes it, before any
 * resource is declared.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import {
  backupSettings,
  backupStackRules,
  databaseMaintenanceSettings,
  databaseMaintenanceStackRules,
} from "../components/backup/settings";
import { deploySettings, deployStackRules } from "../components/deploy/settings";
import { postgresSettings, postgresStackRules } from "../components/data/postgres/settings";
import { redisSettings, redisStackRules } from "../components/data/redis/settings";
import { registrySettings, registryStackRules } from "../components/registry/settings";
import {
  computeSettings,
  dataSettings,
  dataStackRules,
  kubernetesSettings,
  kubernetesStackRules,
} from "../components/kubernetes/settings";
import { alertsSettings, customAlarmsSettings, thresholdsSettings } from "../components/monitoring/settings";
import { availabilityZones, networkSettings, networkStackRules } from "../components/network/settings";
import {
  appSecretsSettings,
  domainSettings,
  environmentStackRules,
  healthCheckSettings,
  loadBalancerSettings,
  maintenanceSettings,
  maintenanceStackRules,
  migrationsSettings,
  migrationsStackRules,
  scalingStackRules,
  readReplicaStackRules,
  rollbackSettings,
  servicesSettings,
  usesStackRules,
} from "../components/service/settings";
import { awsConfigProblems } from "../lib/awsConfig";
import { secretConfigKeys } from "../lib/pulumiConfig";
import { bool, inList, matching, reporter, timeZone, ON_VALID } from "../lib/schema";
import { closest, ConfigError, ProblemWriter, quote, rmFix, SECRET, type ConfigProblem } from "../lib/configErrors";

export { ConfigError, type ConfigProblem } from "../lib/configErrors";

export const PROJECT = "opsbook";

/** Namespaces a stack file may use besides the project's own. */
const OTHER_NAMESPACES = ["aws", "pulumi"];

/** CloudWatch Logs accepts only these retention periods. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** Keys of the whole stack, then each part's keys. */
const schema = z.strictObject({
  // Every name the stack declares starts with it (the RDS instance, the cache, the cluster, the
  // alarms), and AWS refuses "--" or a trailing "-" in several of them: refused here, by name.
  environment: matching(
    /^(?=.{2,16}$)[a-z][a-z0-9]*(-[a-z0-9]+)*$/,
    "lower-case letters and digits, single '-' between them, starting with a letter, 2 to 16 characters, e.g. staging",
  ).describe("name used in resource names and tags, e.g. `staging`"),
  protect: bool().default(true).describe("Pulumi `protect` on stateful resources (database, cache, buckets, keys)"),
  timeZone: timeZone
    .default("UTC")
    .describe("IANA zone in which the runbooks' times of day are meant (backups at 02:00)"),
  logRetentionDays: inList(LOG_RETENTION_DAYS)
    .default(365)
    .describe("retention of every CloudWatch log group, in days"),
  network: networkSettings,
  postgres: postgresSettings,
  redis: redisSettings,
  healthCheck: healthCheckSettings,
  services: servicesSettings,
  appSecrets: appSecretsSettings,
  migrations: migrationsSettings,
  loadBalancer: loadBalancerSettings,
  maintenance: maintenanceSettings,
  domain: domainSettings.optional(),
  alerts: alertsSettings,
  thresholds: thresholdsSettings,
  customAlarms: customAlarmsSettings,
  rollback: rollbackSettings,
  backup: backupSettings,
  databaseMaintenance: databaseMaintenanceSettings,
  registry: registrySettings,
  deploy: deploySettings,
  compute: computeSettings,
  kubernetes: kubernetesSettings,
  data: dataSettings,
});

/** The schema of the `opsbook:` namespace, for the config reference (`npm run docs`). */
export const configSchema = schema;

type Parsed = z.output<typeof schema>;

/** The validated stack config every component is built from. */
export type PlatformConfig = Omit<Parsed, "network" | "postgres"> & {
  /** The Pulumi stack name. */
  stack: string;
  /** `aws:region`; empty when `data.platform` is `kubernetes` (no AWS provider). */
  region: string;
  network: Omit<Parsed["network"], "availabilityZones"> & { availabilityZones: string[] };
  postgres: Omit<Parsed["postgres"], "identifier"> & { identifier: string };
};

/** The RDS identifier of the stack's database: configured, or derived from the environment. */
function postgresIdentifier(c: Pick<Parsed, "environment" | "postgres">): string {
  return c.postgres.identifier ?? `${PROJECT}-${c.environment}`;
}

/** Rules between parts, and between a part and the stack's region; each names the key to change. */
function stackRules(region: string, values: Record<string, unknown>) {
  return (c: Parsed, ctx: z.RefinementCtx): void => {
    const identifier = postgresIdentifier(c);
    const inCluster = c.data.platform === "kubernetes";
    // An in-cluster data tier has no VPC: `network` is refused by dataStackRules instead.
    if (!inCluster) networkStackRules(c.network, { region }, reporter(ctx, ["network"]));
    // In the cluster there are no zones, read replicas or proxy: `postgres.readReplicas` and
    // `postgres.proxy` are AWS-only keys, refused by name (dataStackRules), not sized against AWS.
    const postgres = inCluster
      ? {
          ...c.postgres,
          readReplicas: { ...c.postgres.readReplicas, count: 0 },
          proxy: { ...c.postgres.proxy, enabled: false },
        }
      : c.postgres;
    postgresStackRules(
      postgres,
      { timeZone: c.timeZone, identifier, region, zones: inCluster ? 0 : availabilityZones(c.network, region).length },
      reporter(ctx, ["postgres"]),
    );
    redisStackRules(c.redis, { timeZone: c.timeZone }, reporter(ctx, ["redis"]));
    migrationsStackRules(c.migrations, c.services, reporter(ctx, ["migrations"]));
    scalingStackRules(c.services, c.thresholds.cpuPercent.warning, reporter(ctx, ["services"]));
    usesStackRules(c.services, c.appSecrets.names, reporter(ctx, ["services"]));
    registryStackRules(c.environment, c.services, reporter(ctx, ["services"]));
    environmentStackRules(c.services, c.appSecrets.names, reporter(ctx, ["services"]));
    readReplicaStackRules(c.services, c.postgres.readReplicas.count, reporter(ctx, ["services"]), inCluster);
    backupStackRules(
      c.backup,
      {
        region,
        pointInTimeDays: c.postgres.backupRetentionDays,
        timeZone: c.timeZone,
        engineVersion: c.postgres.engineVersion,
        maintenanceWindow: c.postgres.maintenanceWindow,
        rdsBackupWindowStart: c.postgres.backupWindowStart,
      },
      reporter(ctx, ["backup"]),
    );
    // The in-cluster data tier schedules no maintenance tasks: `databaseMaintenance` is an
    // AWS-only key there (dataStackRules), and its defaults must not clash with anything.
    if (!inCluster) {
      databaseMaintenanceStackRules(
        c.databaseMaintenance,
        {
          timeZone: c.timeZone,
          maintenanceWindow: c.postgres.maintenanceWindow,
          rdsBackupWindowStart: c.postgres.backupWindowStart,
          backup: c.backup,
        },
        reporter(ctx, ["databaseMaintenance"]),
      );
    }
    deployStackRules(c.deploy, c.services, reporter(ctx, ["deploy"]));
    maintenanceStackRules(
      c.maintenance,
      { platform: c.compute.platform, services: c.services },
      reporter(ctx, ["maintenance"]),
    );
    // The load balancer's certificate: only ECS has one (the Kubernetes Ingress has `kubernetes.tls`).
    if (c.compute.platform === "ecs" && c.domain === undefined) {
      reporter(ctx)(["domain"], undefined, "{ certificateArn } or { name, hostedZoneId } on the ECS platform");
    }
    kubernetesStackRules(
      c.kubernetes,
      { platform: c.compute.platform, data: c.data.platform, services: c.services },
      reporter(ctx, ["kubernetes"]),
      reporter(ctx),
    );
    dataStackRules(c.data, { platform: c.compute.platform, values }, reporter(ctx));
    // An in-cluster stack has no ECR repositories to default the images to (R-local-postgres).
    if (c.data.platform === "kubernetes") {
      const allowed =
        "an image without its tag, from a registry the cluster can pull from (a stack on the cluster's data tier has no ECR repository to default to)";
      c.services.forEach((s, i) => {
        if (s.image === undefined)
          reporter(ctx)(["services", i, "image"], undefined, allowed, `registry.example.com/${s.name}`);
      });
      if (c.backup.image === undefined)
        reporter(ctx)(["backup", "image"], undefined, allowed, "registry.example.com/opsbook-backup-job");
    }
  };
}

/**
 * Validates a stack's raw config and applies the runbook defaults. Pure: `raw` maps full keys
 * (`opsbook:postgres`, `aws:region`) to the strings Pulumi hands a program (JSON for objects);
 * `secretKeys` are the keys whose values are secrets, which no problem shows
 * (R-config-secrets-masked). Throws `ConfigError` listing every problem.
 */
export function parseConfig(
  stack: string,
  raw: Record<string, string>,
  secretKeys: ReadonlySet<string> = new Set(),
): PlatformConfig {
  const own: Record<string, unknown> = {};
  // Data on the cluster (R-local-postgres): the stack declares nothing on AWS, so no aws: key applies.
  const inCluster =
    (parseValue(raw[`${PROJECT}:data`] ?? "{}") as { platform?: unknown } | null)?.platform === "kubernetes";
  const problems: ConfigProblem[] = inCluster
    ? Object.keys(raw)
        .filter((k) => k.startsWith("aws:"))
        .map((k) => ({
          // ConfigError masks the value of a secret key.
          key: k,
          value: parseValue(raw[k]!),
          allowed: "no aws: key when opsbook:data.platform is kubernetes: the stack has no AWS provider",
          fix: rmFix(stack, k, false),
        }))
    : [...awsConfigProblems(stack, raw, secretKeys)];

  for (const [fullKey, text] of Object.entries(raw)) {
    const [ns, key] = fullKey.includes(":")
      ? [fullKey.slice(0, fullKey.indexOf(":")), fullKey.slice(fullKey.indexOf(":") + 1)]
      : [PROJECT, fullKey];
    if (ns === PROJECT) own[key] = parseValue(text);
    else if (!OTHER_NAMESPACES.includes(ns)) {
      const suggestion = closest(ns, [PROJECT, ...OTHER_NAMESPACES]);
      problems.push({
        key: fullKey,
        value: parseValue(text),
        allowed: `keys in the namespaces ${[PROJECT, ...OTHER_NAMESPACES].join(", ")}${suggestion ? `; did you mean "${suggestion}:${key}"?` : ""}`,
        fix: rmFix(stack, fullKey, false),
      });
    }
  }

  // No opsbook key is secret-aware: a `secure:` value would reach resource inputs in plain text
  // (in services[].environment, a plain environment variable of every task). Refused.
  for (const fullKey of secretKeys) {
    if (!fullKey.startsWith(`${PROJECT}:`)) continue;
    problems.push({
      key: fullKey,
      value: SECRET,
      allowed:
        fullKey === `${PROJECT}:services`
          ? "no secure: values in services: a service's environment is plain text in the task definition; keep secrets in Secrets Manager (appSecrets.names generates them and injects them as ECS secrets)"
          : "a plain value: this key is not kept secret by the program, so a secure: value would reach AWS in plain text",
      fix: `edit Pulumi.${stack}.yaml: replace the secure: value under ${fullKey} (pulumi config set --path ${quote(`${fullKey}.<path>`)} <plain value> --stack ${stack})`,
    });
  }

  const region = raw["aws:region"];

  const result = schema.superRefine(stackRules(region ?? "", own), ON_VALID).safeParse(own);
  const writer = new ProblemWriter(stack, PROJECT, schema);
  if (!result.success) problems.push(...result.error.issues.flatMap((issue) => writer.fromIssue(own, issue)));

  if (problems.length > 0 || !result.success) throw new ConfigError(stack, problems, secretKeys);
  const data = result.data;
  return {
    ...data,
    stack,
    region: region ?? "",
    network: { ...data.network, availabilityZones: inCluster ? [] : availabilityZones(data.network, region!) },
    postgres: { ...data.postgres, identifier: postgresIdentifier(data) },
  };
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Reads the running stack's config. The only place that touches Pulumi config: components get
 * values from the result.
 */
export function loadConfig(): PlatformConfig {
  const raw = pulumi.runtime.allConfig();
  return parseConfig(pulumi.getStack(), raw, secretConfigKeys(raw));
}
