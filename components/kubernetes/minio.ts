/**
 * An S3-compatible store on the cluster (R-local-object-store): MinIO with a versioned backup
 * bucket, the in-cluster counterpart of the backup bucket for a stack without AWS.
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

/** MinIO's server and client images, pinned to releases. */
export const MINIO_IMAGE = "quay.io/minio/minio:RELEASE.2024-10-13T13-34-11Z";
export const MC_IMAGE = "quay.io/minio/mc:RELEASE.2024-10-08T09-37-26Z";
export const MINIO_PORT = 9000;
/** The root user of the generated credentials: the backup job signs its S3 requests as it. */
export const MINIO_ROOT_USER = "opsbook-admin";
/** A non-root uid for both: the images have no user of their own to keep. */
export const MINIO_UID = 1000;

const CERTS_DIR = "/etc/minio/certs";

/** What the store on the cluster is built from. */
export interface InClusterObjectStoreArgs {
  namespace: pulumi.Input<string>;
  commonLabels: Record<string, string>;
  /** The bucket the backup job writes to, created versioned. */
  bucket: string;
  storageGb: number;
  storageClassName?: string;
  cpu: number;
  memory: number;
  requestPercentOfLimits: number;
  issuer: IssuerRef;
  protect: boolean;
}

/**
 * The volume of cert-manager's Secret with the names MinIO looks for in `--certs-dir`, and the CA
 * for clients (`CAs/`).
 */
function certsVolume(secretName: string): In.core.v1.Volume {
  return {
    name: "certs",
    secret: {
      secretName,
      defaultMode: 0o440,
      items: [
        { key: "tls.crt", path: "public.crt" },
        { key: "tls.key", path: "private.key" },
        { key: "ca.crt", path: "CAs/ca.crt" },
      ],
    },
  };
}

/** The StatefulSet: one server on its own volume, TLS from cert-manager, non-root, read-only root. */
export function minioStatefulSetSpec(
  a: InClusterObjectStoreArgs & {
    labels: Record<string, string>;
    serviceName: pulumi.Input<string>;
    rootSecret: pulumi.Input<string>;
    tlsSecret: string;
  },
): In.apps.v1.StatefulSetSpec {
  const health = (path: string) => ({ httpGet: { path, port: "s3", scheme: "HTTPS" } });
  return {
    replicas: 1,
    serviceName: a.serviceName,
    selector: { matchLabels: { "app.kubernetes.io/name": "minio" } },
    persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
    template: {
      metadata: { labels: a.labels },
      spec: {
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        securityContext: { ...podSecurityContext(), runAsUser: MINIO_UID, runAsGroup: MINIO_UID, fsGroup: MINIO_UID },
        containers: [
          {
            name: "minio",
            image: MINIO_IMAGE,
            imagePullPolicy: "IfNotPresent",
            args: ["server", "/data", "--address", `:${MINIO_PORT}`, "--certs-dir", CERTS_DIR],
            ports: [{ name: "s3", containerPort: MINIO_PORT, protocol: "TCP" }],
            env: [
              { name: "MINIO_ROOT_USER", valueFrom: { secretKeyRef: { name: a.rootSecret, key: "username" } } },
              { name: "MINIO_ROOT_PASSWORD", valueFrom: { secretKeyRef: { name: a.rootSecret, key: "password" } } },
              // Prometheus scrapes /minio/v2/metrics/cluster without a token.
              { name: "MINIO_PROMETHEUS_AUTH_TYPE", value: "public" },
            ],
            resources: resources(a.cpu, a.memory, a.requestPercentOfLimits),
            readinessProbe: { ...health("/minio/health/ready"), periodSeconds: 10 },
            livenessProbe: { ...health("/minio/health/live"), initialDelaySeconds: 10, periodSeconds: 20 },
            securityContext: containerSecurityContext(),
            volumeMounts: [
              { name: "data", mountPath: "/data" },
              TMP_MOUNT,
              { name: "certs", mountPath: CERTS_DIR, readOnly: true },
            ],
          },
        ],
        volumes: [tmpVolume(), certsVolume(a.tlsSecret)],
      },
    },
    volumeClaimTemplates: [dataVolumeClaim(a.labels, a.storageGb, a.storageClassName)],
  };
}

/**
 * The Job that creates the bucket with versioning on (R-backup-location: a deleted or overwritten
 * dump stays as a noncurrent version); idempotent, so re-running it changes nothing. The client
 * trusts the server's CA from cert-manager's Secret, not every certificate.
 */
export function bucketJobSpec(a: {
  labels: Record<string, string>;
  bucket: string;
  endpoint: pulumi.Input<string>;
  rootSecret: pulumi.Input<string>;
  tlsSecret: string;
}): In.batch.v1.JobSpec {
  const script = [
    "set -eu",
    "mkdir -p /tmp/.mc/certs/CAs",
    `cp ${CERTS_DIR}/CAs/ca.crt /tmp/.mc/certs/CAs/`,
    'mc alias set store "$ENDPOINT" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD"',
    `mc mb --ignore-existing store/${a.bucket}`,
    `mc version enable store/${a.bucket}`,
    `mc version info store/${a.bucket} | grep -q "versioning is enabled"`,
  ].join("\n");
  return {
    backoffLimit: 6, // the server may still be starting
    template: {
      metadata: { labels: a.labels },
      spec: {
        restartPolicy: "Never",
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        securityContext: { ...podSecurityContext(), runAsUser: MINIO_UID, runAsGroup: MINIO_UID, fsGroup: MINIO_UID },
        containers: [
          {
            name: "create-bucket",
            image: MC_IMAGE,
            imagePullPolicy: "IfNotPresent",
            command: ["sh", "-c", script],
            env: [
              { name: "ENDPOINT", value: a.endpoint },
              { name: "MC_CONFIG_DIR", value: "/tmp/.mc" },
              { name: "MINIO_ROOT_USER", valueFrom: { secretKeyRef: { name: a.rootSecret, key: "username" } } },
              { name: "MINIO_ROOT_PASSWORD", valueFrom: { secretKeyRef: { name: a.rootSecret, key: "password" } } },
            ],
            resources: { limits: { cpu: "100m", memory: "64Mi" }, requests: { cpu: "10m", memory: "32Mi" } },
            securityContext: containerSecurityContext(),
            volumeMounts: [TMP_MOUNT, { name: "certs", mountPath: CERTS_DIR, readOnly: true }],
          },
        ],
        volumes: [tmpVolume(), certsVolume(a.tlsSecret)],
      },
    },
  };
}

/**
 * MinIO on the cluster (R-local-object-store): generated root credentials in a Secret, the server
 * certificate from cert-manager, a headless Service, the StatefulSet and the bucket Job.
 */
export class InClusterObjectStore extends pulumi.ComponentResource {
  readonly password: random.RandomPassword;
  readonly root: k8s.core.v1.Secret;
  readonly certificate: k8s.apiextensions.CustomResource;
  readonly service: k8s.core.v1.Service;
  readonly statefulSet: k8s.apps.v1.StatefulSet;
  readonly bucketJob: k8s.batch.v1.Job;
  /** The S3 endpoint (HTTPS, the Service's cluster name) and the bucket. */
  readonly endpoint: pulumi.Output<string>;

  constructor(name: string, args: InClusterObjectStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("opsbook:kubernetes:ObjectStore", name, {}, opts);
    const child = { parent: this };
    const { labels, metadata } = storeLabels("minio", args);
    ({ password: this.password, secret: this.root } = generatedCredentials(
      `${name}-minio`,
      { resourceName: `${name}-minio-root`, metadata: metadata("minio-root") },
      { length: 40, username: MINIO_ROOT_USER },
      child,
    ));
    this.certificate = storeCertificate(name, "minio", args, labels, child);
    this.service = headlessService(
      `${name}-minio`,
      metadata("minio"),
      "minio",
      [{ name: "s3", port: MINIO_PORT }],
      child,
    );
    this.statefulSet = new k8s.apps.v1.StatefulSet(
      `${name}-minio`,
      {
        metadata: metadata("minio"),
        spec: minioStatefulSetSpec({
          ...args,
          labels,
          serviceName: this.service.metadata.name,
          rootSecret: this.root.metadata.name,
          tlsSecret: storeTlsSecret("minio"),
        }),
      },
      { ...child, protect: args.protect, dependsOn: [this.certificate] },
    );
    const namespace = pulumi.output(args.namespace);
    this.endpoint = pulumi.interpolate`https://minio.${namespace}.svc.cluster.local:${MINIO_PORT}`;
    this.bucketJob = new k8s.batch.v1.Job(
      `${name}-minio-bucket`,
      {
        metadata: metadata("minio-bucket"),
        spec: bucketJobSpec({
          // Not the server's name label: the Service would count this pod among its endpoints.
          labels: { ...args.commonLabels, "app.kubernetes.io/name": "minio-bucket" },
          bucket: args.bucket,
          endpoint: this.endpoint,
          rootSecret: this.root.metadata.name,
          tlsSecret: storeTlsSecret("minio"),
        }),
      },
      { ...child, dependsOn: [this.statefulSet] },
    );
    this.registerOutputs({ endpoint: this.endpoint });
  }
}
