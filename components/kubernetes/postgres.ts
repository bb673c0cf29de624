/**
 * PostgreSQL on the cluster (R-local-postgres): the in-cluster counterpart of the RDS instance for a
 * stack without AWS, with the guarantees that apply there: a persistent volume, TLS only, the
 * parameters the RDS parameter group sets, a generated password and a metrics exporter.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as In from "@pulumi/kubernetes/types/input";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { IssuerRef } from "./certificates";
import { generatedCredentials, headlessService, storeCertificate, storeLabels, storeTlsSecret } from "./store";
import {
  containerSecurityContext,
  dataVolumeClaim,
  podSecurityContext,
  resources,
  TMP_MOUNT,
  tmpVolume,
} from "./manifests";
import { POSTGRES_PORT } from "../data/postgres/postgres";

/** The official image (Docker Hub), by the engine version's tag: `16` or `16.4`. */
export const POSTGRES_IMAGE = "docker.io/library/postgres";
/** The Prometheus community's exporter, pinned. */
export const POSTGRES_EXPORTER_IMAGE = "quay.io/prometheuscommunity/postgres-exporter:v0.15.0";
/** The image's `postgres` user and group: its entrypoint and data directory expect them. */
export const POSTGRES_UID = 999;
/** The same port as on AWS. */
export { POSTGRES_PORT };
export const EXPORTER_PORT = 9187;
/** The exporter's collector of `pg_stat_statements` (`pg_stat_statements_calls_total`, `_seconds_total`). */
export const EXPORTER_STAT_STATEMENTS_FLAG = "--collector.stat_statements";

/** Where the certificate, the data and the configuration are mounted. */
const TLS_DIR = "/etc/postgresql/tls";
const CONFIG_DIR = "/etc/postgresql/conf";
const DATA_DIR = "/var/lib/postgresql/data";

/** What the database on the cluster is built from. */
export interface InClusterPostgresArgs {
  /** Namespace of the stack's objects (its name, once created). */
  namespace: pulumi.Input<string>;
  commonLabels: Record<string, string>;
  /** `postgres.engineVersion`: the image tag (`16`, `16.4`). */
  engineVersion: string;
  /** `postgres.databaseName`, created at first start. */
  databaseName: string;
  /** `postgres.username`: the owner role, created at first start. */
  username: string;
  /** `postgres.slowQueryMs` -> `log_min_duration_statement`, as in the RDS parameter group. */
  slowQueryMs: number;
  /** `postgres.maxConnections` -> `max_connections`; unset, PostgreSQL's default (100). */
  maxConnections?: number;
  /** Size of the data volume, GiB (`postgres.allocatedStorageGb`). */
  storageGb: number;
  /** StorageClass of the volume; unset, the cluster's default. */
  storageClassName?: string;
  /** CPU units (1024 = 1 vCPU) and MiB: the limits; requests are `requestPercentOfLimits` of them. */
  cpu: number;
  memory: number;
  requestPercentOfLimits: number;
  /** cert-manager issuer of the server certificate (R-db-tls). */
  issuer: IssuerRef;
  /** Pulumi `protect` on the StatefulSet (its volume outlives it anyway: retention policy Retain). */
  protect: boolean;
}

/**
 * `postgresql.conf` settings passed as `-c` flags: TLS with the certificate cert-manager writes,
 * only TLS connections in `pg_hba.conf`, slow statements logged, scram-sha-256 passwords, and
 * `pg_stat_statements` preloaded as the RDS parameter group does: the role bootstrap creates the
 * extension and the exporter's `stat_statements` collector reads it for the slow-query alert
 * (R-alert-slow-queries).
 */
export function postgresParameters(a: Pick<InClusterPostgresArgs, "slowQueryMs" | "maxConnections">): string[] {
  const settings: Record<string, string> = {
    ssl: "on",
    ssl_cert_file: `${TLS_DIR}/tls.crt`,
    ssl_key_file: `${TLS_DIR}/tls.key`,
    ssl_min_protocol_version: "TLSv1.2",
    hba_file: `${CONFIG_DIR}/pg_hba.conf`,
    password_encryption: "scram-sha-256",
    log_min_duration_statement: String(a.slowQueryMs),
    shared_preload_libraries: "pg_stat_statements",
    ...(a.maxConnections === undefined ? {} : { max_connections: String(a.maxConnections) }),
  };
  return Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`]);
}

/**
 * Client authentication: the local socket (the image's first-start scripts) and TLS connections
 * with a password; a connection without TLS matches no line and is refused (as `rds.force_ssl`).
 */
export const PG_HBA = ["local all all scram-sha-256", "hostssl all all all scram-sha-256", ""].join("\n");

/** The StatefulSet: one replica on its own volume, the server and its exporter as non-root containers. */
export function postgresStatefulSetSpec(
  a: InClusterPostgresArgs & {
    labels: Record<string, string>;
    serviceName: pulumi.Input<string>;
    credentialsSecret: pulumi.Input<string>;
    tlsSecret: pulumi.Input<string>;
    configMap: pulumi.Input<string>;
  },
): In.apps.v1.StatefulSetSpec {
  const fromCredentials = (name: string, key: string) => ({
    name,
    valueFrom: { secretKeyRef: { name: a.credentialsSecret, key } },
  });
  const selector = { "app.kubernetes.io/name": "postgres" };
  return {
    replicas: 1,
    serviceName: a.serviceName,
    selector: { matchLabels: selector },
    // A volume is data: deleting or scaling the StatefulSet keeps it.
    persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
    updateStrategy: { type: "RollingUpdate" },
    template: {
      metadata: { labels: a.labels },
      spec: {
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        terminationGracePeriodSeconds: 60, // a clean shutdown writes a checkpoint
        securityContext: {
          ...podSecurityContext(),
          runAsUser: POSTGRES_UID,
          runAsGroup: POSTGRES_UID,
          fsGroup: POSTGRES_UID,
        },
        containers: [
          {
            name: "postgres",
            image: `${POSTGRES_IMAGE}:${a.engineVersion}`,
            imagePullPolicy: "IfNotPresent",
            args: ["postgres", ...postgresParameters(a)],
            ports: [{ name: "postgres", containerPort: POSTGRES_PORT, protocol: "TCP" }],
            env: [
              { name: "POSTGRES_DB", value: a.databaseName },
              fromCredentials("POSTGRES_USER", "username"),
              fromCredentials("POSTGRES_PASSWORD", "password"),
              // A subdirectory: the volume's root holds lost+found on some storage classes.
              { name: "PGDATA", value: `${DATA_DIR}/pgdata` },
            ],
            resources: resources(a.cpu, a.memory, a.requestPercentOfLimits),
            // pg_isready only asks whether the server accepts connections: no credentials needed.
            readinessProbe: {
              exec: { command: ["pg_isready", "-h", "127.0.0.1", "-p", String(POSTGRES_PORT)] },
              initialDelaySeconds: 5,
              periodSeconds: 10,
              timeoutSeconds: 5,
              failureThreshold: 3,
            },
            livenessProbe: {
              exec: { command: ["pg_isready", "-h", "127.0.0.1", "-p", String(POSTGRES_PORT)] },
              initialDelaySeconds: 30,
              periodSeconds: 10,
              timeoutSeconds: 5,
              failureThreshold: 6,
            },
            // The image writes only to the data volume, its socket directory and /tmp.
            securityContext: containerSecurityContext(),
            volumeMounts: [
              { name: "data", mountPath: DATA_DIR },
              { name: "run", mountPath: "/var/run/postgresql" },
              TMP_MOUNT,
              { name: "tls", mountPath: TLS_DIR, readOnly: true },
              { name: "config", mountPath: CONFIG_DIR, readOnly: true },
            ],
          },
          {
            name: "exporter",
            image: POSTGRES_EXPORTER_IMAGE,
            imagePullPolicy: "IfNotPresent",
            // Off by default (a series per statement): the slow-query alert needs its per-statement
            // calls and time (R-alert-slow-queries). The exporter connects as the server's owner,
            // which reads every role's statements.
            args: [EXPORTER_STAT_STATEMENTS_FLAG],
            ports: [{ name: "metrics", containerPort: EXPORTER_PORT, protocol: "TCP" }],
            env: [
              { name: "DATA_SOURCE_URI", value: `127.0.0.1:${POSTGRES_PORT}/${a.databaseName}?sslmode=require` },
              fromCredentials("DATA_SOURCE_USER", "username"),
              fromCredentials("DATA_SOURCE_PASS", "password"),
            ],
            resources: { limits: { cpu: "100m", memory: "64Mi" }, requests: { cpu: "10m", memory: "32Mi" } },
            readinessProbe: { httpGet: { path: "/", port: "metrics" }, periodSeconds: 10 },
            livenessProbe: { httpGet: { path: "/", port: "metrics" }, initialDelaySeconds: 10, periodSeconds: 30 },
            securityContext: containerSecurityContext(),
          },
        ],
        volumes: [
          { name: "run", emptyDir: { sizeLimit: "16Mi" } },
          tmpVolume(),
          // Owned by root and readable by the postgres group: PostgreSQL accepts a key so (0640).
          { name: "tls", secret: { secretName: a.tlsSecret, defaultMode: 0o640 } },
          { name: "config", configMap: { name: a.configMap } },
        ],
      },
    },
    volumeClaimTemplates: [dataVolumeClaim(a.labels, a.storageGb, a.storageClassName)],
  };
}

/**
 * PostgreSQL on the cluster (R-local-postgres): a generated password in a Secret, the server
 * certificate from cert-manager, `pg_hba.conf` in a ConfigMap, a headless Service and the
 * StatefulSet. What the app and the backup job get is {@link connection}.
 */
export class InClusterPostgres extends pulumi.ComponentResource {
  readonly password: random.RandomPassword;
  readonly credentials: k8s.core.v1.Secret;
  readonly certificate: k8s.apiextensions.CustomResource;
  readonly config: k8s.core.v1.ConfigMap;
  readonly service: k8s.core.v1.Service;
  readonly statefulSet: k8s.apps.v1.StatefulSet;
  /** Host (the Service's cluster name), port and the Secret that holds the credentials. */
  readonly connection: {
    host: pulumi.Output<string>;
    port: number;
    database: string;
    secretName: pulumi.Output<string>;
  };

  constructor(name: string, args: InClusterPostgresArgs, opts?: pulumi.ComponentResourceOptions) {
    super("opsbook:kubernetes:Postgres", name, {}, opts);
    const child = { parent: this };
    const { labels, metadata } = storeLabels("postgres", args);
    // Letters and digits only: the password also travels in connection strings.
    ({ password: this.password, secret: this.credentials } = generatedCredentials(
      `${name}-postgres`,
      { resourceName: `${name}-postgres-credentials`, metadata: metadata("postgres-credentials") },
      { length: 32, username: args.username },
      child,
    ));
    const namespace = pulumi.output(args.namespace);
    this.certificate = storeCertificate(name, "postgres", args, labels, child);
    this.config = new k8s.core.v1.ConfigMap(
      `${name}-postgres-config`,
      { metadata: metadata("postgres-config"), data: { "pg_hba.conf": PG_HBA } },
      child,
    );
    this.service = headlessService(
      `${name}-postgres`,
      metadata("postgres"),
      "postgres",
      [
        { name: "postgres", port: POSTGRES_PORT },
        { name: "metrics", port: EXPORTER_PORT },
      ],
      child,
    );
    this.statefulSet = new k8s.apps.v1.StatefulSet(
      `${name}-postgres`,
      {
        metadata: metadata("postgres"),
        spec: postgresStatefulSetSpec({
          ...args,
          labels,
          serviceName: this.service.metadata.name,
          credentialsSecret: this.credentials.metadata.name,
          tlsSecret: storeTlsSecret("postgres"),
          configMap: this.config.metadata.name,
        }),
      },
      { ...child, protect: args.protect, dependsOn: [this.certificate] },
    );
    this.connection = {
      host: pulumi.interpolate`postgres.${namespace}.svc.cluster.local`,
      port: POSTGRES_PORT,
      database: args.databaseName,
      secretName: this.credentials.metadata.name,
    };
    this.registerOutputs({ host: this.connection.host });
  }
}
