/**
 * The local stack (R-local-postgres, R-stack-environments): the whole platform on a developer's
 * cluster, built from `Pulumi.local.yaml` as `npm run plan -- --stack local` builds it.
 */
import { Deployment, type IDeployment } from "kubernetes-models/apps/v1/Deployment";
import { StatefulSet, type IStatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { CronJob, type ICronJob } from "kubernetes-models/batch/v1/CronJob";
import { Job, type IJob } from "kubernetes-models/batch/v1/Job";
import { ConfigMap, type IConfigMap } from "kubernetes-models/v1/ConfigMap";
import { ServiceAccount, type IServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import {
  HorizontalPodAutoscaler,
  type IHorizontalPodAutoscaler,
} from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { Namespace, type INamespace } from "kubernetes-models/v1/Namespace";
import { Secret, type ISecret } from "kubernetes-models/v1/Secret";
import { Service, type IService } from "kubernetes-models/v1/Service";
import { Ingress, type IIngress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import { NetworkPolicy, type INetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { PodDisruptionBudget, type IPodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import {
  PrometheusRule,
  type IPrometheusRule,
} from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule";
import {
  ServiceMonitor,
  type IServiceMonitor,
} from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";
import { ofType, one, sharedIds, type RecordedResource } from "../helpers/mocks";
import { type Plan, planStack } from "../helpers/stack";
import { planVariant } from "../helpers/variant";
import { checkPlan } from "../../tools/policy/cli";
import { providedVariables } from "../../lib/appVariables";
import { BACKUP_ENV } from "../../lib/backupContract";

let plan: Plan;
beforeAll(async () => {
  plan = await planStack("local");
});

const NS = "opsbook-local";

function manifest<T>(type: string, name: string): T {
  return one(plan.resources, type, name).inputs as T;
}

/** The kubernetes-models class that validates each kind the stack declares. */
const VALIDATORS: Record<string, (o: unknown) => { validate(): void }> = {
  "apps/v1 Deployment": (o) => new Deployment(o as IDeployment),
  "apps/v1 StatefulSet": (o) => new StatefulSet(o as IStatefulSet),
  "batch/v1 CronJob": (o) => new CronJob(o as ICronJob),
  "batch/v1 Job": (o) => new Job(o as IJob),
  "v1 ConfigMap": (o) => new ConfigMap(o as IConfigMap),
  "v1 ServiceAccount": (o) => new ServiceAccount(o as IServiceAccount),
  "autoscaling/v2 HorizontalPodAutoscaler": (o) => new HorizontalPodAutoscaler(o as IHorizontalPodAutoscaler),
  "v1 Namespace": (o) => new Namespace(o as INamespace),
  "v1 Secret": (o) => new Secret(o as ISecret),
  "v1 Service": (o) => new Service(o as IService),
  "networking.k8s.io/v1 Ingress": (o) => new Ingress(o as IIngress),
  "networking.k8s.io/v1 NetworkPolicy": (o) => new NetworkPolicy(o as INetworkPolicy),
  "policy/v1 PodDisruptionBudget": (o) => new PodDisruptionBudget(o as IPodDisruptionBudget),
  "monitoring.coreos.com/v1 PrometheusRule": (o) => new PrometheusRule(o as IPrometheusRule),
  "monitoring.coreos.com/v1 ServiceMonitor": (o) => new ServiceMonitor(o as IServiceMonitor),
};
/** cert-manager's kinds: kubernetes-models has no schema for them; their fields are asserted in certificates.test.ts. */
const CERT_MANAGER = ["cert-manager.io/v1 Certificate", "cert-manager.io/v1 Issuer"];

const kubernetesObjects = (): RecordedResource[] =>
  plan.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"));

type Env = Array<{ name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }>;

describe("local stack, built from Pulumi.local.yaml", () => {
  test("gives every resource a mock id of its own", () => {
    expect(sharedIds(plan.resources)).toEqual([]);
  });

  test("declares no aws: resource and no AWS provider; only Kubernetes objects and generated passwords", () => {
    const types = [...new Set(plan.resources.map((r) => r.type))];
    expect(types.filter((t) => t.startsWith("aws:") || t.includes("providers:aws"))).toEqual([]);
    expect(JSON.stringify(plan.resources)).not.toMatch(/arn:aws|amazonaws\.com|"aws:/);
    const custom = types.filter((t) => !t.startsWith("opsbook:"));
    expect(
      custom.every((t) => /^(kubernetes:|random:index\/randomPassword|pulumi:providers:kubernetes$)/.test(t)),
    ).toBe(true);
  });

  test("every object has its apiVersion and kind in the namespace and is valid by the kubernetes-models schemas", () => {
    const kinds = kubernetesObjects().map((r) => `${String(r.inputs.apiVersion)} ${String(r.inputs.kind)}`);
    expect([...new Set(kinds)].sort()).toEqual([...Object.keys(VALIDATORS), ...CERT_MANAGER].sort());
    for (const r of kubernetesObjects()) {
      const meta = r.inputs.metadata as { name: string; namespace?: string };
      if (r.inputs.kind !== "Namespace")
        expect({ name: meta.name, namespace: meta.namespace }).toEqual({ name: meta.name, namespace: NS });
      const validator = VALIDATORS[`${String(r.inputs.apiVersion)} ${String(r.inputs.kind)}`];
      if (!validator) continue;
      const { stringData: _masked, ...visible } = r.inputs;
      expect(() => validator(r.inputs.kind === "Secret" ? visible : r.inputs).validate()).not.toThrow();
    }
  });

  test("the policy pack, Kubernetes rules included, passes it with no mandatory violation", async () => {
    const report = await checkPlan(plan);
    expect(report.diagnostics.filter((d) => d.enforcementLevel === "mandatory")).toEqual([]);
  });

  test("laptop sizes: one replica each, small requests, images from public registries by tag", () => {
    for (const name of ["postgres", "redis", "minio"]) {
      const set = manifest<IStatefulSet>("kubernetes:apps/v1:StatefulSet", `local-${name}`);
      expect(set.spec!.replicas).toBe(1);
    }
    const pg = manifest<IStatefulSet>("kubernetes:apps/v1:StatefulSet", "local-postgres").spec!.template.spec!;
    expect(pg.containers.map((c) => c.image)).toEqual([
      "docker.io/library/postgres:16.4",
      "quay.io/prometheuscommunity/postgres-exporter:v0.15.0",
    ]);
    expect(pg.containers[0]!.resources).toEqual({
      limits: { cpu: "500m", memory: "512Mi" },
      requests: { cpu: "125m", memory: "128Mi" },
    });
    expect(pg.containers[0]!.args).toEqual(
      expect.arrayContaining(["max_connections=50", "log_min_duration_statement=100"]),
    );
    const redis = manifest<IStatefulSet>("kubernetes:apps/v1:StatefulSet", "local-redis").spec!.template.spec!;
    expect(redis.containers.map((c) => c.image)).toEqual([
      "docker.io/library/redis:7.4.1",
      "docker.io/oliver006/redis_exporter:v1.62.0",
    ]);
    const minio = manifest<IStatefulSet>("kubernetes:apps/v1:StatefulSet", "local-minio").spec!.template.spec!;
    expect(minio.containers[0]!.image).toMatch(/^quay\.io\/minio\/minio:RELEASE\.\d{4}-\d\d-\d\dT/);
    for (const service of ["api", "web"]) {
      const d = manifest<IDeployment>("kubernetes:apps/v1:Deployment", service);
      expect(d.spec!.replicas).toBe(1);
      expect(d.spec!.template.spec!.containers[0]!.image).toBe("docker.io/hashicorp/http-echo:1.0");
    }
  });

  test("the services get the AWS names of their variables, pointing at the in-cluster stores, credentials only from their Secret", () => {
    const api = manifest<IDeployment>("kubernetes:apps/v1:Deployment", "api").spec!.template.spec!.containers[0]!;
    const env = api.env as Env;
    expect(env.map((e) => e.name).sort()).toEqual(
      providedVariables(["database", "cache", "JWT_SECRET", "SESSION_SECRET"], []).sort(),
    );
    const plain = Object.fromEntries(env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
    expect(plain).toMatchObject({
      DB_HOST: `postgres.${NS}.svc.cluster.local`,
      DB_PORT: "5432",
      DB_NAME: "app",
      DB_SSLMODE: "require",
      DB_POOL_MIN: "5",
      DB_POOL_MAX: "20",
      REDIS_HOST: `redis.${NS}.svc.cluster.local`,
      REDIS_PORT: "6379",
      REDIS_TLS: "true",
    });
    const fromSecret = env.filter((e) => e.valueFrom).map((e) => [e.name, e.valueFrom!.secretKeyRef]);
    expect(Object.fromEntries(fromSecret)).toEqual(
      Object.fromEntries(
        ["JWT_SECRET", "SESSION_SECRET", "DB_USER", "DB_PASSWORD", "DATABASE_URL", "REDIS_AUTH_TOKEN", "REDIS_URL"].map(
          (k) => [k, { name: "api-env", key: k }],
        ),
      ),
    );
    const secret = one(plan.resources, "kubernetes:core/v1:Secret", "api-env");
    expect(secret.inputs.stringData).toBe("[secret]");
  });

  test("backup at 02:00 and the weekly drill in the stack's zone, into a throwaway database, metrics to the Pushgateway", () => {
    const backup = manifest<ICronJob>("kubernetes:batch/v1:CronJob", "local-backup").spec!;
    const drill = manifest<ICronJob>("kubernetes:batch/v1:CronJob", "local-restore-drill").spec!;
    expect([backup.schedule, backup.timeZone]).toEqual(["0 2 * * *", "UTC"]);
    expect([drill.schedule, drill.timeZone]).toEqual(["0 6 * * 0", "UTC"]);
    const envOf = (spec: typeof backup) => {
      const c = spec.jobTemplate.spec!.template.spec!.containers[0]!;
      return Object.fromEntries((c.env as Env).map((e) => [e.name, e.value ?? e.valueFrom!.secretKeyRef]));
    };
    const b = envOf(backup);
    expect(b).toMatchObject({
      [BACKUP_ENV.host]: `postgres.${NS}.svc.cluster.local`,
      [BACKUP_ENV.sslMode]: "verify-full",
      PGSSLROOTCERT: "/etc/opsbook/ca/ca.crt",
      [BACKUP_ENV.bucket]: "opsbook-local-backups",
      [BACKUP_ENV.s3Endpoint]: `https://minio.${NS}.svc.cluster.local:9000`,
      [BACKUP_ENV.forcePathStyle]: "true",
      [BACKUP_ENV.pushgatewayUrl]: "http://prometheus-pushgateway.monitoring.svc:9091",
      [BACKUP_ENV.user]: { name: "opsbook-backup-env", key: BACKUP_ENV.user },
      [BACKUP_ENV.password]: { name: "opsbook-backup-env", key: BACKUP_ENV.password },
      AWS_SECRET_ACCESS_KEY: { name: "opsbook-backup-env", key: "AWS_SECRET_ACCESS_KEY" },
    });
    expect(b[BACKUP_ENV.drillInServer]).toBeUndefined();
    expect(envOf(drill)).toMatchObject({
      [BACKUP_ENV.drillInServer]: "true",
      [BACKUP_ENV.drillRtoSeconds]: String(4 * 3600),
      [BACKUP_ENV.user]: { name: "opsbook-restore-drill-env", key: BACKUP_ENV.user },
    });
    expect(Object.keys(b).filter((k) => k.startsWith("DRILL_SOURCE") || k === BACKUP_ENV.metricsNamespace)).toEqual([]);
  });

  test("the stores admit only their clients, and Prometheus on the exporters' ports", () => {
    const pg = manifest<INetworkPolicy>(
      "kubernetes:networking.k8s.io/v1:NetworkPolicy",
      "local-postgres-allow-ingress",
    );
    expect(pg.spec!.ingress).toEqual([
      {
        from: [
          {
            podSelector: {
              matchExpressions: [{ key: "app.kubernetes.io/name", operator: "In", values: ["api", "opsbook-backup"] }],
            },
          },
        ],
        ports: [{ protocol: "TCP", port: 5432 }],
      },
      {
        from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }],
        ports: [{ protocol: "TCP", port: 9187 }],
      },
    ]);
    const redis = manifest<INetworkPolicy>(
      "kubernetes:networking.k8s.io/v1:NetworkPolicy",
      "local-redis-allow-ingress",
    );
    expect(redis.spec!.ingress![0]!.from).toEqual([
      { podSelector: { matchExpressions: [{ key: "app.kubernetes.io/name", operator: "In", values: ["api"] }] } },
    ]);
  });

  test("the backup pod reaches DNS, PostgreSQL, MinIO and the Pushgateway on its URL's port, and HTTPS", () => {
    const egress = manifest<INetworkPolicy>(
      "kubernetes:networking.k8s.io/v1:NetworkPolicy",
      "local-opsbook-backup-allow-egress",
    ).spec!.egress!;
    expect(egress.map((e) => e.ports!.map((p) => p.port))).toEqual([[53, 53], [5432], [9000], [9091], [443]]);
  });

  test("the data tier's alert rules at the stack's thresholds, for Prometheus to select, and the exporters' monitors", () => {
    const rule = manifest<IPrometheusRule>("kubernetes:monitoring.coreos.com/v1:PrometheusRule", "local-data-alerts");
    expect(rule.metadata!.labels).toMatchObject({ release: "kube-prometheus-stack" });
    const groups = rule.spec.groups!;
    expect(groups.map((g) => g.name)).toEqual([
      "opsbook-local-postgres",
      "opsbook-local-redis",
      "opsbook-local-minio",
      "opsbook-local-backups",
    ]);
    const rules = groups.flatMap((g) => g.rules!);
    expect(rules.find((r) => r.labels!.family === "db-connections" && r.labels!.severity === "critical")!.expr).toMatch(
      new RegExp(`namespace="${NS}".* > 95$`),
    );
    // R-alert-slow-queries: statements over postgres.slowQueryMs (100 ms by default), 60 a minute.
    expect(rules.find((r) => r.labels!.family === "slow-queries" && r.labels!.severity === "critical")!.expr).toMatch(
      / > 0\.1\)\) > 60$/,
    );
    // RPO 24 h from a nightly run, plus maxRunMinutes (120) and an hour: lib/time.ts rpoAlarmHours.
    expect(rules.find((r) => r.alert === "LastGoodBackup")!.expr).toContain(`> ${27 * 3600})`);
    for (const store of ["postgres", "redis"]) {
      const monitor = manifest<IServiceMonitor>(
        "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
        `local-${store}-metrics`,
      );
      expect(monitor.spec).toEqual({
        selector: { matchLabels: { "app.kubernetes.io/name": store } },
        namespaceSelector: { matchNames: [NS] },
        endpoints: [{ port: "metrics", path: "/metrics", interval: "30s", scheme: "http" }],
      });
    }
  });

  test("the Ingress's certificate comes from the stack's own CA", () => {
    const ingress = manifest<IIngress>("kubernetes:networking.k8s.io/v1:Ingress", "local");
    expect(ingress.metadata!.annotations).toMatchObject({ "cert-manager.io/issuer": "opsbook-ca" });
    expect(ingress.spec!.tls).toEqual([{ hosts: ["opsbook.localtest.me"], secretName: "opsbook-local-tls" }]);
  });

  test("outputs what a developer needs: the URL, the namespace, the stores' names", () => {
    expect(plan.outputs).toMatchObject({
      url: "https://opsbook.localtest.me",
      kubernetesNamespace: NS,
      deploymentNames: { api: "api", web: "web" },
      databaseHost: `postgres.${NS}.svc.cluster.local`,
      backupBucketName: "opsbook-local-backups",
    });
  });
});

test("the Deployments of the services that use the database wait for the roles' bootstrap Job (R-db-role-rotation)", () => {
  // A new or rotated login must exist in PostgreSQL before pods start with it; web uses no database.
  const [job] = ofType(plan.resources, "kubernetes:batch/v1:Job").filter((r) => r.name.endsWith("-db-roles"));
  expect(job?.name).toBe("local-db-roles");
  const waits = (name: string) =>
    one(plan.resources, "kubernetes:apps/v1:Deployment", name).dependencies.includes(job!.urn);
  expect([waits("api"), waits("web")]).toEqual([true, false]);
});

test("an https Pushgateway URL without a port opens 443 to the backup pod, not 80", async () => {
  const https = await planVariant("local", "local-https", (config) => {
    config["opsbook:data"] = { ...(config["opsbook:data"] as object), pushgatewayUrl: "https://push.example.com" };
  });
  const egress = (
    one(https.resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "local-opsbook-backup-allow-egress")
      .inputs as unknown as INetworkPolicy
  ).spec!.egress!;
  expect(egress.map((e) => e.ports!.map((p) => p.port))).toEqual([[53, 53], [5432], [9000], [443], [443]]);
});
