/**
 * Checks that the backup component and the backup job still agree, from the real code on both
 * sides: the task definitions a build recorded against the job's own config parser, and the alarms
 * against what the job's own publisher sends. Used on the component alone and on each stack, where
 * the database settings come from the stack's wiring.
 */
import type { CloudWatchClient, PutMetricDataCommandInput } from "@aws-sdk/client-cloudwatch";
import type { RDSClient } from "@aws-sdk/client-rds";
import type { S3Client } from "@aws-sdk/client-s3";
import { BACKUP_ENV_UNSET_IN_TASK } from "../../lib/backupContract";
import { runBackup } from "../../jobs/backup/src/backup";
import { ConfigError, type Env, type JobConfig, loadConfig, showValue } from "../../jobs/backup/src/config";
import { runRestoreDrill } from "../../jobs/backup/src/drill";
import type { Logger } from "../../jobs/backup/src/log";
import { backupSucceededMetrics, cloudWatchPublisher } from "../../jobs/backup/src/metrics";
import { type RecordedResource, ofType, policyOf } from "./mocks";

interface Container {
  name: string;
  environment: Array<{ name: string; value: unknown }>;
  secrets: Array<{ name: string; valueFrom: unknown }>;
}

/** A value the execution role would resolve a secret to; valid for a user name and a password. */
const SECRET_VALUE = "from-secrets-manager";

interface K8sContainer {
  name: string;
  env: Array<{ name: string; value?: unknown; valueFrom?: { secretKeyRef?: { name: unknown; key: string } } }>;
}

/**
 * The containers of the Backups component's jobs (the backup and the restore drill): its ECS task
 * definitions, or on Kubernetes its CronJobs, whose `secretKeyRef` variables count as secrets.
 */
export function backupContainers(resources: RecordedResource[]): Array<{ task: string; container: Container }> {
  const components = new Set(resources.filter((r) => r.type === "opsbook:backup:Backups").map((r) => r.urn));
  const jobSets = new Set(
    resources
      .filter((r) => r.type === "opsbook:kubernetes:BackupCronJobs" && components.has(r.parent ?? ""))
      .map((r) => r.urn),
  );
  const onEcs = ofType(resources, "aws:ecs/taskDefinition:TaskDefinition")
    .filter((td) => components.has(td.parent ?? ""))
    .flatMap((td) =>
      (JSON.parse(td.inputs.containerDefinitions as string) as Container[]).map((container) => ({
        task: td.name,
        container,
      })),
    );
  const onKubernetes = ofType(resources, "kubernetes:batch/v1:CronJob")
    .filter((cj) => jobSets.has(cj.parent ?? ""))
    .flatMap((cj) => {
      const spec = cj.inputs.spec as { jobTemplate: { spec: { template: { spec: { containers: K8sContainer[] } } } } };
      return spec.jobTemplate.spec.template.spec.containers.map((c) => ({
        task: cj.name,
        container: {
          name: c.name,
          environment: c.env.filter((e) => e.valueFrom === undefined).map((e) => ({ name: e.name, value: e.value })),
          secrets: c.env.flatMap((e) => (e.valueFrom?.secretKeyRef ? [{ name: e.name, valueFrom: e.valueFrom }] : [])),
        },
      }));
    });
  return [...onEcs, ...onKubernetes];
}

/** The environment a container starts with: its plain variables, and its secrets as resolved values. */
export function containerEnv(container: Container): Record<string, string> {
  return {
    ...Object.fromEntries(container.environment.map((e) => [e.name, String(e.value)])),
    ...Object.fromEntries(container.secrets.map((s) => [s.name, SECRET_VALUE])),
  };
}

/** What the job's parser made of `env`, and every variable it asked for that `env` does not hold. */
export function parseWatched(env: Env): { config?: JobConfig; problems?: readonly string[]; askedUnset: string[] } {
  const askedUnset = new Set<string>();
  // Only reads of absent keys are recorded: the parser also enumerates the environment (to hand
  // PG* on to libpq), which touches every key it holds.
  const watched = new Proxy(env, {
    get(target, key, receiver) {
      if (typeof key === "string" && !Object.hasOwn(target, key)) askedUnset.add(key);
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  try {
    return { config: loadConfig(watched), askedUnset: [...askedUnset].sort() };
  } catch (error) {
    if (error instanceof ConfigError) return { problems: error.problems, askedUnset: [...askedUnset].sort() };
    throw error;
  }
}

function without(env: Record<string, string>, name: string): Record<string, string> {
  const rest = { ...env };
  delete rest[name];
  return rest;
}

const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };

/**
 * What the job sends to CloudWatch when started with `env`: a backup and a drill that fail at
 * their first S3 call (the real code paths up to the failure metrics), and the metrics of a
 * verified backup through the same publisher, as backup.ts sends them after a dump (that path
 * needs a PostgreSQL server).
 */
export async function publishedMetrics(
  env: Env,
): Promise<Array<{ namespace: string; metricName: string; dimensions: Record<string, string> }>> {
  const config = loadConfig(env);
  const sent: PutMetricDataCommandInput[] = [];
  const client = {
    send: (command: { input: PutMetricDataCommandInput }) => Promise.resolve(void sent.push(command.input)),
  };
  const publisher = cloudWatchPublisher(client as unknown as CloudWatchClient, config.metrics.namespace);
  const s3 = { send: () => Promise.reject(Object.assign(new Error("no S3 in this test"), { name: "TimeoutError" })) };
  // The drill fails at its first S3 call, before it would ask RDS for anything.
  const rds = { send: () => Promise.reject(new Error("no RDS in this test")) };
  const deps = {
    s3: s3 as unknown as S3Client,
    rds: rds as unknown as RDSClient,
    metrics: publisher,
    log: quiet,
    now: () => new Date(0),
  };
  await expect(runBackup(config, deps)).rejects.toThrow();
  await expect(runRestoreDrill(config, deps)).rejects.toThrow();
  await publisher.publish(config.postgres.database, backupSucceededMetrics(new Date(0), 1, 1), new Date(0));
  return sent.flatMap((input) =>
    (input.MetricData ?? []).map((datum) => ({
      namespace: String(input.Namespace),
      metricName: String(datum.MetricName),
      dimensions: Object.fromEntries((datum.Dimensions ?? []).map((d) => [String(d.Name), String(d.Value)])),
    })),
  );
}

interface WatchedMetric {
  namespace?: unknown;
  metricName?: unknown;
  dimensions?: unknown;
}

/** The metrics an alarm watches, whether as its own metric or as metric queries. */
function watchedMetrics(alarm: RecordedResource): WatchedMetric[] {
  const inputs = alarm.inputs as WatchedMetric & { metricQueries?: Array<{ metric?: WatchedMetric }> };
  const own = inputs.metricName === undefined ? [] : [inputs];
  return [...own, ...(inputs.metricQueries ?? []).flatMap((q) => (q.metric ? [q.metric] : []))].map((m) => ({
    namespace: m.namespace,
    metricName: m.metricName,
    dimensions: m.dimensions ?? {},
  }));
}

/** Declares the contract's tests over the resources `getResources` returns once they are built. */
export function backupContract(getResources: () => RecordedResource[]): void {
  const containers = () => {
    const found = backupContainers(getResources());
    expect(found.length).toBeGreaterThanOrEqual(2); // the backup and the drill
    return found;
  };

  test("the job's parser accepts each backup task definition's environment and secrets", () => {
    for (const { task, container } of containers())
      expect({ task, problems: parseWatched(containerEnv(container)).problems }).toEqual({ task, problems: undefined });
  });

  test("the parser reads each variable the task sets: without it, it fails naming it or takes its default", () => {
    for (const { task, container } of containers()) {
      const env = containerEnv(container);
      for (const name of Object.keys(env)) {
        const { problems = [], askedUnset } = parseWatched(without(env, name));
        // A required variable fails with "<name> is not set"; an optional one takes its default.
        const otherProblems = problems.filter((p) => !p.startsWith(`${name} is not set `));
        expect({ task, name, asked: askedUnset.includes(name), otherProblems }).toEqual({
          task,
          name,
          asked: true,
          otherProblems: [],
        });
      }
    }
  });

  test("the parser reads no variable the task leaves unset, except the contract's local and tuning ones", () => {
    for (const { task, container } of containers())
      expect({ task, askedUnset: parseWatched(containerEnv(container)).askedUnset }).toEqual({
        task,
        askedUnset: [...BACKUP_ENV_UNSET_IN_TASK].sort(),
      });
  });

  test("every variable the job masks as a secret arrives as a task secret, never as plain environment", () => {
    for (const { task, container } of containers()) {
      const plain = container.environment.map((e) => e.name).filter((name) => showValue(name, "x") !== '"x"');
      expect({ task, plain }).toEqual({ task, plain: [] });
    }
  });

  test("the backup alarms watch metrics the job publishes: namespace, name and dimensions", async () => {
    const alarms = ofType(getResources(), "aws:cloudwatch/metricAlarm:MetricAlarm").filter(
      (a) => (a.inputs.tags as Record<string, string> | undefined)?.subject === "backups",
    );
    expect(alarms.length).toBeGreaterThanOrEqual(2); // the RPO and the drill
    for (const { container } of containers()) {
      const published = await publishedMetrics(containerEnv(container));
      for (const alarm of alarms) {
        const watched = watchedMetrics(alarm);
        expect({ alarm: alarm.name, watches: watched.length }).not.toEqual({ alarm: alarm.name, watches: 0 });
        for (const metric of watched) expect(published).toContainEqual(metric);
      }
    }
  });

  test("the task role may publish in the namespace the job publishes in", async () => {
    const allowed = ofType(getResources(), "aws:iam/rolePolicy:RolePolicy")
      .flatMap((p) => policyOf(p).Statement)
      .filter((s) => s.Action === "cloudwatch:PutMetricData")
      .map((s) => (s.Condition as { StringEquals?: Record<string, string> } | undefined)?.StringEquals);
    for (const { container } of containers())
      for (const { namespace } of await publishedMetrics(containerEnv(container)))
        expect(allowed).toContainEqual({ "cloudwatch:namespace": namespace });
  });
}
