/**
 * Redis on the cluster (R-local-redis): the in-cluster counterpart of the ElastiCache group for a
 * stack without AWS: an auth token, TLS only, persistence on a volume and a metrics exporter.
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
import { AUTH_TOKEN_LENGTH, REDIS_PORT } from "../data/redis/redis";

/** The official image (Docker Hub), pinned to a 7.x release. */
export const REDIS_IMAGE = "docker.io/library/redis:7.4.1";
/** Oliver006's exporter, the one the Redis dashboards and alert rules assume, pinned. */
export const REDIS_EXPORTER_IMAGE = "docker.io/oliver006/redis_exporter:v1.62.0";
/** The image's `redis` user and group, which own /data in it. */
export const REDIS_UID = 999;
/** The same port as on AWS. */
export { REDIS_PORT };
export const REDIS_EXPORTER_PORT = 9121;

const TLS_DIR = "/etc/redis/tls";
const CONFIG_DIR = "/etc/redis/conf";

/** What the cache on the cluster is built from. */
export interface InClusterRedisArgs {
  /** Namespace of the stack's objects (its name, once created). */
  namespace: pulumi.Input<string>;
  commonLabels: Record<string, string>;
  /** Size of the data volume (the append-only file and snapshots), GiB. */
  storageGb: number;
  /** StorageClass of the volume; unset, the cluster's default. */
  storageClassName?: string;
  /** CPU units (1024 = 1 vCPU) and MiB: the limits; requests are `requestPercentOfLimits` of them. */
  cpu: number;
  memory: number;
  requestPercentOfLimits: number;
  /** cert-manager issuer of the server certificate. */
  issuer: IssuerRef;
  /** Pulumi `protect` on the StatefulSet (its volume outlives it anyway: retention policy Retain). */
  protect: boolean;
}

/**
 * `redis.conf`: TLS only (the plain port closed, as ElastiCache's transit encryption `required`),
 * clients need the password but no certificate, every write in the append-only file (fsync every
 * second) plus snapshots, and a memory ceiling below the container's limit so Redis evicts before
 * the kernel kills it.
 */
export function redisConfig(memoryMiB: number): string {
  return [
    "port 0",
    `tls-port ${REDIS_PORT}`,
    `tls-cert-file ${TLS_DIR}/tls.crt`,
    `tls-key-file ${TLS_DIR}/tls.key`,
    "tls-auth-clients no",
    "tls-protocols TLSv1.2 TLSv1.3",
    "dir /data",
    "appendonly yes",
    "appendfsync everysec",
    "save 3600 1 300 100 60 10000",
    `maxmemory ${Math.floor(memoryMiB * 0.75)}mb`,
    "maxmemory-policy volatile-lru",
    "protected-mode yes",
    "",
  ].join("\n");
}

/** The StatefulSet: one replica on its own volume, the server and its exporter as non-root containers. */
export function redisStatefulSetSpec(
  a: InClusterRedisArgs & {
    labels: Record<string, string>;
    serviceName: pulumi.Input<string>;
    authSecret: pulumi.Input<string>;
    tlsSecret: pulumi.Input<string>;
    configMap: pulumi.Input<string>;
  },
): In.apps.v1.StatefulSetSpec {
  const password = { name: "REDIS_PASSWORD", valueFrom: { secretKeyRef: { name: a.authSecret, key: "password" } } };
  // REDISCLI_AUTH keeps the password off redis-cli's command line.
  const ping = [
    "sh",
    "-c",
    `REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli --tls --insecure -p ${REDIS_PORT} ping | grep -q PONG`,
  ];
  return {
    replicas: 1,
    serviceName: a.serviceName,
    selector: { matchLabels: { "app.kubernetes.io/name": "redis" } },
    persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
    updateStrategy: { type: "RollingUpdate" },
    template: {
      metadata: { labels: a.labels },
      spec: {
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        terminationGracePeriodSeconds: 30,
        securityContext: { ...podSecurityContext(), runAsUser: REDIS_UID, runAsGroup: REDIS_UID, fsGroup: REDIS_UID },
        containers: [
          {
            name: "redis",
            image: REDIS_IMAGE,
            imagePullPolicy: "IfNotPresent",
            // Kubernetes expands $(REDIS_PASSWORD) from the container's own variable, from the Secret.
            args: ["redis-server", `${CONFIG_DIR}/redis.conf`, "--requirepass", "$(REDIS_PASSWORD)"],
            ports: [{ name: "redis", containerPort: REDIS_PORT, protocol: "TCP" }],
            env: [password],
            resources: resources(a.cpu, a.memory, a.requestPercentOfLimits),
            readinessProbe: { exec: { command: ping }, initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 5 },
            livenessProbe: {
              tcpSocket: { port: "redis" },
              initialDelaySeconds: 15,
              periodSeconds: 10,
              failureThreshold: 6,
            },
            securityContext: containerSecurityContext(),
            volumeMounts: [
              { name: "data", mountPath: "/data" },
              TMP_MOUNT,
              { name: "tls", mountPath: TLS_DIR, readOnly: true },
              { name: "config", mountPath: CONFIG_DIR, readOnly: true },
            ],
          },
          {
            name: "exporter",
            image: REDIS_EXPORTER_IMAGE,
            imagePullPolicy: "IfNotPresent",
            ports: [{ name: "metrics", containerPort: REDIS_EXPORTER_PORT, protocol: "TCP" }],
            env: [
              { name: "REDIS_ADDR", value: `rediss://127.0.0.1:${REDIS_PORT}` },
              // The certificate names the Service, not 127.0.0.1; the connection stays in the pod.
              { name: "REDIS_EXPORTER_SKIP_TLS_VERIFICATION", value: "true" },
              password,
            ],
            resources: { limits: { cpu: "100m", memory: "64Mi" }, requests: { cpu: "10m", memory: "32Mi" } },
            readinessProbe: { httpGet: { path: "/health", port: "metrics" }, periodSeconds: 10 },
            livenessProbe: {
              httpGet: { path: "/health", port: "metrics" },
              initialDelaySeconds: 10,
              periodSeconds: 30,
            },
            securityContext: containerSecurityContext(),
          },
        ],
        volumes: [
          tmpVolume(),
          { name: "tls", secret: { secretName: a.tlsSecret, defaultMode: 0o440 } },
          { name: "config", configMap: { name: a.configMap } },
        ],
      },
    },
    volumeClaimTemplates: [dataVolumeClaim(a.labels, a.storageGb, a.storageClassName)],
  };
}

/**
 * Redis on the cluster (R-local-redis): a generated auth token in a Secret, the server certificate
 * from cert-manager, `redis.conf` in a ConfigMap, a headless Service and the StatefulSet.
 */
export class InClusterRedis extends pulumi.ComponentResource {
  readonly password: random.RandomPassword;
  readonly auth: k8s.core.v1.Secret;
  readonly certificate: k8s.apiextensions.CustomResource;
  readonly config: k8s.core.v1.ConfigMap;
  readonly service: k8s.core.v1.Service;
  readonly statefulSet: k8s.apps.v1.StatefulSet;
  /** Host (the Service's cluster name), port and the Secret with the token (key `password`). */
  readonly connection: { host: pulumi.Output<string>; port: number; secretName: pulumi.Output<string> };

  constructor(name: string, args: InClusterRedisArgs, opts?: pulumi.ComponentResourceOptions) {
    super("opsbook:kubernetes:Redis", name, {}, opts);
    const child = { parent: this };
    const { labels, metadata } = storeLabels("redis", args);
    // Letters and digits, as long as the ElastiCache auth token.
    ({ password: this.password, secret: this.auth } = generatedCredentials(
      `${name}-redis`,
      { resourceName: `${name}-redis-auth`, metadata: metadata("redis-auth") },
      { length: AUTH_TOKEN_LENGTH },
      child,
    ));
    this.certificate = storeCertificate(name, "redis", args, labels, child);
    this.config = new k8s.core.v1.ConfigMap(
      `${name}-redis-config`,
      { metadata: metadata("redis-config"), data: { "redis.conf": redisConfig(args.memory) } },
      child,
    );
    this.service = headlessService(
      `${name}-redis`,
      metadata("redis"),
      "redis",
      [
        { name: "redis", port: REDIS_PORT },
        { name: "metrics", port: REDIS_EXPORTER_PORT },
      ],
      child,
    );
    this.statefulSet = new k8s.apps.v1.StatefulSet(
      `${name}-redis`,
      {
        metadata: metadata("redis"),
        spec: redisStatefulSetSpec({
          ...args,
          labels,
          serviceName: this.service.metadata.name,
          authSecret: this.auth.metadata.name,
          tlsSecret: storeTlsSecret("redis"),
          configMap: this.config.metadata.name,
        }),
      },
      { ...child, protect: args.protect, dependsOn: [this.certificate] },
    );
    const namespace = pulumi.output(args.namespace);
    this.connection = {
      host: pulumi.interpolate`redis.${namespace}.svc.cluster.local`,
      port: REDIS_PORT,
      secretName: this.auth.metadata.name,
    };
    this.registerOutputs({ host: this.connection.host });
  }
}
