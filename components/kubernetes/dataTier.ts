/**
 * The data tier on the services' cluster (R-local-postgres, R-local-redis, R-local-object-store):
 * PostgreSQL, Redis and MinIO in the stack's namespace with certificates from the stack's own CA,
 * the database roles and their bootstrap Job, the generated app secrets, the backup job and the
 * restore drill as CronJobs pushing to a Pushgateway, and the NetworkPolicies that let exactly
 * those pods talk to each other. Nothing here is an AWS resource.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { BACKUP_ENV, DUMP_PREFIX } from "../../lib/backupContract";
import { libpqConnection, postgresUrl, redisUrl, type ServiceConnection } from "../../lib/connection";
import {
  BOOTSTRAP_COMMAND,
  DATABASE_ROLE_PURPOSES,
  ROLE_ROTATION_VARIABLE,
  ROLE_SLOTS,
  activeSlot,
  loginRole,
  rolePasswordEnv,
  rotationLabel,
  slotGeneration,
  type DatabaseRolePurpose,
  type RoleSlot,
} from "../../lib/databaseRoles";
import { APP_SECRETS_ROTATION_VARIABLE } from "../../lib/appVariables";
import { drillRtoSeconds, JOB_CPU, JOB_MEMORY } from "../backup/backups";
import type { Weekday } from "../backup/settings";
import type { Thresholds } from "../monitoring/alarmCatalogue";
import type { AlertGroup } from "./alertRules";
import type { ClusterScope } from "./apps";
import { backupAlertGroup } from "./backupAlertRules";
import { dataAlertGroups } from "./dataAlertRules";
import { BACKUP_JOBS, backupCronJobSpec, BACKUP_SERVICE_ACCOUNT, cronSchedule, type BackupJob } from "./backupJobs";
import { stackCertificateAuthority } from "./certificates";
import { allowEgressSpec, type MountedSecretFile, resources, rolesBootstrapJobSpec } from "./manifests";
import { InClusterObjectStore, MINIO_PORT, MINIO_ROOT_USER } from "./minio";
import { EXPORTER_PORT, InClusterPostgres, POSTGRES_PORT } from "./postgres";
import { InClusterRedis, REDIS_EXPORTER_PORT, REDIS_PORT } from "./redis";
import { connectionSecret } from "./secrets";
import { storeTlsSecret } from "./store";
import { ROLE_PASSWORD_LENGTH } from "../data/postgres/roles";
import { urlPort, type DataSettings, type KubernetesSettings } from "./settings";

/** The region MinIO answers for unless told otherwise; the S3 client signs for it. */
export const OBJECT_STORE_REGION = "us-east-1";
/** Where the jobs find the stack CA's certificate (libpq's `PGSSLROOTCERT`, Node's `NODE_EXTRA_CA_CERTS`). */
export const CA_DIR = "/etc/opsbook/ca";
/** Name labels of the pods that reach the stores besides the services. */
const BACKUP_POD = "opsbook-backup";
const BUCKET_POD = "minio-bucket";

/** What the in-cluster data tier is built from: the parsed settings and the cluster it lives on. */
export interface InClusterDataTierArgs {
  cluster: ClusterScope;
  environment: string;
  /** `opsbook:postgres`: version, database, owner, the parameters, pool sizes and role rotation. */
  postgres: {
    engineVersion: string;
    databaseName: string;
    masterUsername: string;
    slowQueryMs: number;
    maxConnections?: number;
    pool: { min: number; max: number };
    /** `postgres.roleRotation`: each purpose's generation; its parity picks the active login (R-db-role-rotation). */
    roleRotation: Record<DatabaseRolePurpose, number>;
  };
  /** `opsbook:data`: the stores' sizes, their StorageClass and the Pushgateway. */
  data: DataSettings;
  /** `opsbook:appSecrets`: generated here instead of in Secrets Manager (R-secret-generation). */
  appSecrets: { names: string[]; length: number; rotation: string };
  /** `opsbook:backup` and the stack's `timeZone`: the CronJobs' image, schedule and limits. */
  backup: {
    image: string;
    tag: string;
    dailyAt: string;
    restoreDrillAt: string;
    restoreDrillDay: Weekday;
    maxRunMinutes: number;
    rtoHours: number;
  };
  timeZone: string;
  requestPercentOfLimits: number;
  dns: KubernetesSettings["dns"];
  prometheus: KubernetesSettings["prometheus"];
  /** `kubernetes.namespace`: the namespace's name as the alert rules' selectors match it. */
  namespaceName: string;
  /** The data tier's alert rules (R-local-alerts): the stack's thresholds, the runbook map, the backup window. */
  alerts: {
    thresholds: Thresholds;
    runbookUrl: string;
    /** `backup.rpoHours`, and `lib/time.ts` `rpoAlarmHours` of the schedule. */
    rpoHours: number;
    alarmAfterHours: number;
  };
  /** The services whose pods the database and the cache admit (those whose `uses` names them). */
  clients: { database: string[]; cache: string[] };
  protect: boolean;
}

const byName = (names: string[]) => ({
  podSelector: { matchExpressions: [{ key: "app.kubernetes.io/name", operator: "In", values: names }] },
});
const fromNamespace = (namespace: string) => ({
  namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
});

/**
 * The in-cluster data tier. Its connections carry the same variable names as the AWS data tier's
 * (R-app-variables), with the generated credentials as `secretValues`, so the services' Secrets
 * hold them and the pods read them through `secretKeyRef` only.
 */
export class InClusterDataTier extends pulumi.ComponentResource {
  readonly postgres: InClusterPostgres;
  readonly redis: InClusterRedis;
  readonly objectStore: InClusterObjectStore;
  readonly bootstrapJob: k8s.batch.v1.Job;
  readonly cronJobs: Record<BackupJob, k8s.batch.v1.CronJob>;
  /** The data tier's and the backups' alert rules (R-local-alerts, R-local-backup-metrics). */
  readonly prometheusRule: k8s.apiextensions.CustomResource;
  readonly alertGroups: AlertGroup[];
  /** The backup bucket in MinIO. */
  readonly bucket: string;
  /** Per service name, the connections its `uses` picks: see {@link connectionsFor}. */
  readonly database: (purpose: DatabaseRolePurpose) => ServiceConnection;
  readonly cache: ServiceConnection;
  readonly appSecrets: { connectionFor(names: readonly string[]): ServiceConnection };

  constructor(name: string, args: InClusterDataTierArgs, opts?: pulumi.ComponentResourceOptions) {
    super("opsbook:kubernetes:DataTier", name, {}, opts);
    const { provider, namespace, commonLabels } = args.cluster;
    const child = { parent: this, provider };
    const metadata = (objectName: string, labels: Record<string, string> = commonLabels) => ({
      name: objectName,
      namespace,
      labels,
    });
    const ca = stackCertificateAuthority(`${name}-ca`, { namespace, labels: commonLabels }, child);
    const storeArgs = (store: { cpu: number; memory: number; storageGb: number }) => ({
      namespace,
      commonLabels,
      ...store,
      storageClassName: args.data.storageClassName,
      requestPercentOfLimits: args.requestPercentOfLimits,
      issuer: ca.issuer,
      protect: args.protect,
    });
    this.postgres = new InClusterPostgres(
      name,
      {
        ...storeArgs(args.data.postgres),
        engineVersion: args.postgres.engineVersion,
        databaseName: args.postgres.databaseName,
        username: args.postgres.masterUsername,
        slowQueryMs: args.postgres.slowQueryMs,
        maxConnections: args.postgres.maxConnections,
      },
      child,
    );
    this.redis = new InClusterRedis(name, storeArgs(args.data.redis), child);
    this.bucket = `opsbook-${args.environment}-backups`;
    this.objectStore = new InClusterObjectStore(
      name,
      { ...storeArgs(args.data.objectStore), bucket: this.bucket },
      child,
    );

    // Every client verifies the stores' certificates with the stack CA's (cert-manager copies it
    // into each certificate's Secret as ca.crt).
    const caFile: MountedSecretFile = {
      name: "ca",
      secretName: storeTlsSecret("postgres"),
      key: "ca.crt",
      mountPath: CA_DIR,
    };
    const pg = this.postgres.connection;

    // R-db-roles, R-db-role-rotation: two login roles per purpose, each with a generated password
    // that is renewed only when its login becomes the active one again, as on AWS.
    const passwords = Object.fromEntries(
      DATABASE_ROLE_PURPOSES.map((p) => [
        p,
        Object.fromEntries(
          ROLE_SLOTS.map((slot) => [
            slot,
            new random.RandomPassword(
              `${name}-db-role-${p}-${slot}`,
              {
                length: ROLE_PASSWORD_LENGTH,
                special: false,
                keepers: { generation: String(slotGeneration(args.postgres.roleRotation[p], slot)) },
              },
              { parent: this },
            ),
          ]),
        ),
      ]),
    ) as Record<DatabaseRolePurpose, Record<RoleSlot, random.RandomPassword>>;
    const databaseEnvironment = {
      DB_HOST: pg.host,
      DB_PORT: String(POSTGRES_PORT),
      DB_NAME: args.postgres.databaseName,
      // As on RDS: encrypted; the apps' drivers need the stack CA's ca.crt to verify it too.
      DB_SSLMODE: "require",
      DB_POOL_MIN: String(args.postgres.pool.min),
      DB_POOL_MAX: String(args.postgres.pool.max),
    };
    this.database = (purpose) => {
      const generation = args.postgres.roleRotation[purpose];
      const slot = activeSlot(generation);
      const role = loginRole(purpose, slot);
      const password = passwords[purpose][slot].result;
      return {
        environment: { ...databaseEnvironment, [ROLE_ROTATION_VARIABLE]: String(generation) },
        secrets: {},
        secretArns: [],
        kmsKeyArns: [],
        secretValues: {
          DB_USER: role,
          DB_PASSWORD: password,
          DATABASE_URL: postgresUrl({
            user: role,
            password,
            host: pg.host,
            port: POSTGRES_PORT,
            database: args.postgres.databaseName,
          }),
        },
      };
    };
    const token = this.redis.password.result;
    this.cache = {
      environment: { REDIS_HOST: this.redis.connection.host, REDIS_PORT: String(REDIS_PORT), REDIS_TLS: "true" },
      secrets: {},
      secretArns: [],
      kmsKeyArns: [],
      secretValues: {
        REDIS_AUTH_TOKEN: token,
        REDIS_URL: redisUrl({ token, host: this.redis.connection.host, port: REDIS_PORT }),
      },
    };
    const generated: Record<string, pulumi.Output<string>> = {};
    for (const envName of args.appSecrets.names) {
      generated[envName] = new random.RandomPassword(
        `${name}-${envName.toLowerCase().replace(/_/g, "-")}`,
        { length: args.appSecrets.length, special: false, keepers: { rotation: args.appSecrets.rotation } },
        { parent: this },
      ).result;
    }
    this.appSecrets = {
      connectionFor: (names) => ({
        environment: { [APP_SECRETS_ROTATION_VARIABLE]: args.appSecrets.rotation },
        secrets: {},
        secretArns: [],
        kmsKeyArns: [],
        secretValues: Object.fromEntries(names.map((n) => [n, generated[n]!])),
      }),
    };

    const backupLabels = { ...commonLabels, "app.kubernetes.io/name": BACKUP_POD };
    const image = `${args.backup.image}:${args.backup.tag}`;
    const verified = { [BACKUP_ENV.sslMode]: "verify-full", PGSSLROOTCERT: `${CA_DIR}/ca.crt` };

    // The role bootstrap: the owner's credentials from the server's Secret, the roles' passwords
    // from this stack's; run by `pulumi up` on every rotation (the label is in the pod template).
    const master: ServiceConnection = {
      environment: {
        [BACKUP_ENV.host]: pg.host,
        [BACKUP_ENV.port]: String(POSTGRES_PORT),
        [BACKUP_ENV.database]: args.postgres.databaseName,
        ...verified,
      },
      secrets: {},
      secretArns: [],
      kmsKeyArns: [],
      secretValues: {
        [BACKUP_ENV.user]: args.postgres.masterUsername,
        [BACKUP_ENV.password]: this.postgres.password.result,
      },
    };
    const rolePasswords: ServiceConnection = {
      environment: {},
      secrets: {},
      secretArns: [],
      kmsKeyArns: [],
      secretValues: Object.fromEntries(
        DATABASE_ROLE_PURPOSES.flatMap((p) =>
          ROLE_SLOTS.map((slot) => [rolePasswordEnv(p, slot), passwords[p][slot].result]),
        ),
      ),
    };
    const bootstrapSecret = connectionSecret(
      `${name}-db-roles`,
      metadata("opsbook-db-roles", backupLabels),
      [master, rolePasswords],
      child,
    );
    const bootstrapLabels = { ...backupLabels, "app.kubernetes.io/component": BOOTSTRAP_COMMAND };
    this.bootstrapJob = new k8s.batch.v1.Job(
      `${name}-db-roles`,
      {
        metadata: metadata("opsbook-db-roles", bootstrapLabels),
        spec: rolesBootstrapJobSpec({
          labels: bootstrapLabels,
          rotation: rotationLabel(args.postgres.roleRotation),
          backoffLimit: 6, // the server may still be starting
          pod: {
            command: BOOTSTRAP_COMMAND,
            image,
            environment: master.environment,
            secrets: [{ name: bootstrapSecret.secret.metadata.name, keys: bootstrapSecret.keys }],
            resources: resources(256, 512, args.requestPercentOfLimits),
            files: [caFile],
          },
        }),
      },
      { ...child, deleteBeforeReplace: true, dependsOn: [this.postgres.statefulSet] },
    );

    // R-backup-window, R-backup-restore-test, R-local-backup-metrics: the backup as the backup role;
    // the drill into a throwaway database on the same server (DRILL_IN_SERVER), as the server's
    // owner: creating and dropping that database needs CREATEDB, which no app-facing role has, and
    // there is no instance API to give the drill a server of its own as on AWS.
    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-backup`,
      { metadata: metadata(BACKUP_SERVICE_ACCOUNT, backupLabels), automountServiceAccountToken: false },
      child,
    );
    const storage: ServiceConnection = {
      environment: {
        [BACKUP_ENV.bucket]: this.bucket,
        [BACKUP_ENV.prefix]: DUMP_PREFIX,
        [BACKUP_ENV.region]: OBJECT_STORE_REGION,
        [BACKUP_ENV.s3Endpoint]: this.objectStore.endpoint,
        [BACKUP_ENV.forcePathStyle]: "true",
        [BACKUP_ENV.pushgatewayUrl]: args.data.pushgatewayUrl,
        NODE_EXTRA_CA_CERTS: `${CA_DIR}/ca.crt`,
      },
      secrets: {},
      secretArns: [],
      kmsKeyArns: [],
      // The AWS SDK's default chain reads these; MinIO's root user owns the bucket.
      secretValues: {
        AWS_ACCESS_KEY_ID: MINIO_ROOT_USER,
        AWS_SECRET_ACCESS_KEY: this.objectStore.password.result,
      },
    };
    const jobConnection: Record<BackupJob, ServiceConnection> = {
      backup: libpqConnection(this.database("backup")),
      "restore-drill": master,
    };
    const jobEnvironment: Record<BackupJob, Record<string, string>> = {
      backup: {},
      "restore-drill": {
        [BACKUP_ENV.drillInServer]: "true",
        [BACKUP_ENV.drillRtoSeconds]: drillRtoSeconds(args.backup.rtoHours),
      },
    };
    const schedules: Record<BackupJob, string> = {
      backup: cronSchedule(args.backup.dailyAt),
      "restore-drill": cronSchedule(args.backup.restoreDrillAt, args.backup.restoreDrillDay),
    };
    const cronJob = (job: BackupJob) => {
      const env = connectionSecret(
        `${name}-${job}-env`,
        metadata(`opsbook-${job}-env`, backupLabels),
        [jobConnection[job], storage],
        child,
      );
      return new k8s.batch.v1.CronJob(
        `${name}-${job}`,
        {
          metadata: metadata(`opsbook-${job}`, backupLabels),
          spec: backupCronJobSpec({
            job,
            schedule: schedules[job],
            timeZone: args.timeZone,
            image,
            labels: { ...backupLabels, "app.kubernetes.io/component": job },
            serviceAccountName: serviceAccount.metadata.name,
            environment: {
              ...jobConnection[job].environment,
              ...verified,
              ...storage.environment,
              ...jobEnvironment[job],
            },
            secrets: [{ name: env.secret.metadata.name, keys: env.keys }],
            files: [caFile],
            maxRunMinutes: args.backup.maxRunMinutes,
            resources: resources(JOB_CPU, JOB_MEMORY, args.requestPercentOfLimits),
          }),
        },
        child,
      );
    };
    this.cronJobs = Object.fromEntries(BACKUP_JOBS.map((j) => [j, cronJob(j)])) as Record<
      BackupJob,
      k8s.batch.v1.CronJob
    >;

    this.networkPolicies(name, args, child);

    // Prometheus scrapes the exporters through their Services' `metrics` ports.
    for (const store of ["postgres", "redis"]) {
      new k8s.apiextensions.CustomResource(
        `${name}-${store}-metrics`,
        {
          apiVersion: "monitoring.coreos.com/v1",
          kind: "ServiceMonitor",
          metadata: metadata(store, {
            ...commonLabels,
            ...args.prometheus.selectorLabels,
            "app.kubernetes.io/name": store,
          }),
          spec: {
            selector: { matchLabels: { "app.kubernetes.io/name": store } },
            namespaceSelector: { matchNames: [args.namespaceName] },
            endpoints: [{ port: "metrics", path: "/metrics", interval: "30s", scheme: "http" }],
          },
        },
        child,
      );
    }
    this.alertGroups = [
      ...dataAlertGroups({
        environment: args.environment,
        namespace: args.namespaceName,
        thresholds: args.alerts.thresholds,
        slowQueryMs: args.postgres.slowQueryMs,
        runbookUrl: args.alerts.runbookUrl,
      }),
      backupAlertGroup({
        environment: args.environment,
        database: args.postgres.databaseName,
        rpoHours: args.alerts.rpoHours,
        alarmAfterHours: args.alerts.alarmAfterHours,
        runbookUrl: args.alerts.runbookUrl,
      }),
    ];
    this.prometheusRule = new k8s.apiextensions.CustomResource(
      `${name}-data-alerts`,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: metadata("opsbook-data-alerts", { ...commonLabels, ...args.prometheus.selectorLabels }),
        spec: { groups: this.alertGroups },
      },
      child,
    );
    this.registerOutputs({ bucket: this.bucket });
  }

  /**
   * R-k8s-network-policy for the stores: each admits its clients on its port and Prometheus on
   * its exporter's; the jobs reach DNS, the stores and the Pushgateway; nothing else gets in or out.
   */
  private networkPolicies(name: string, args: InClusterDataTierArgs, child: pulumi.CustomResourceOptions): void {
    const { namespace, commonLabels } = args.cluster;
    const policy = (objectName: string, spec: k8s.types.input.networking.v1.NetworkPolicySpec) =>
      new k8s.networking.v1.NetworkPolicy(
        `${name}-${objectName}`,
        { metadata: { name: objectName, namespace, labels: commonLabels }, spec },
        child,
      );
    const tcp = (port: number) => ({ protocol: "TCP", port });
    const ingress = (store: string, port: number, clients: string[], metricsPort?: number) =>
      policy(`${store}-allow-ingress`, {
        podSelector: { matchLabels: { "app.kubernetes.io/name": store } },
        policyTypes: ["Ingress"],
        ingress: [
          // No client at all (no service uses the cache): only Prometheus gets in.
          ...(clients.length > 0 ? [{ from: [byName(clients)], ports: [tcp(port)] }] : []),
          ...(metricsPort ? [{ from: [fromNamespace(args.prometheus.namespace)], ports: [tcp(metricsPort)] }] : []),
        ],
      });
    ingress("postgres", POSTGRES_PORT, [...args.clients.database, BACKUP_POD], EXPORTER_PORT);
    ingress("redis", REDIS_PORT, args.clients.cache, REDIS_EXPORTER_PORT);
    ingress("minio", MINIO_PORT, [BACKUP_POD, BUCKET_POD], MINIO_PORT);
    const pushgatewayPort = urlPort(args.data.pushgatewayUrl);
    policy(
      `${BACKUP_POD}-allow-egress`,
      allowEgressSpec({ "app.kubernetes.io/name": BACKUP_POD }, args.dns, [
        { to: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "postgres" } } }], ports: [POSTGRES_PORT] },
        { to: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "minio" } } }], ports: [MINIO_PORT] },
        { to: [], ports: [pushgatewayPort] },
      ]),
    );
    policy(
      `${BUCKET_POD}-allow-egress`,
      allowEgressSpec({ "app.kubernetes.io/name": BUCKET_POD }, args.dns, [
        { to: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "minio" } } }], ports: [MINIO_PORT] },
      ]),
    );
  }
}

/** Egress of the services' pods to the in-cluster stores (the apps' only data destinations). */
export function storeEgress(): Array<{
  to: Array<{ podSelector: { matchLabels: Record<string, string> } }>;
  ports: number[];
}> {
  return [
    { to: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "postgres" } } }], ports: [POSTGRES_PORT] },
    { to: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "redis" } } }], ports: [REDIS_PORT] },
  ];
}
