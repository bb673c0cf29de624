/**
 * The Kubernetes platform's settings: `opsbook:compute` (which platform runs the services) and
 * `opsbook:kubernetes` (the existing cluster: how to reach it, where the app lives in it, the
 * probes and the request/limit ratio of the GTSD and Case Management runbooks), with their
 * defaults and the rules between them.
 */
import { z } from "zod";
import { OIDC_PROVIDER_ARN } from "../../lib/iam";
import { int, matching, oneOf, REMOVE, report, type Report, ON_VALID } from "../../lib/schema";

/** A DNS-1123 label: namespaces, secret and issuer names. */
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DNS_LABEL_ALLOWED = "lower-case letters, digits and '-', at most 63 characters, starting and ending alphanumeric";
const DNS_SUBDOMAIN = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;
const LABEL_KEY = /^([a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?$/;
/** A Prometheus metric or label name. */
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const HTTP_PATH = /^\/[A-Za-z0-9_\-./]*$/;

export const PLATFORMS = ["ecs", "kubernetes"] as const;
export type ComputePlatform = (typeof PLATFORMS)[number];

export const computeSettings = z
  .strictObject({
    platform: oneOf(PLATFORMS)
      .default("ecs")
      .describe(
        "where the services run: `ecs` (Fargate behind an ALB) or `kubernetes` (an existing cluster, `opsbook:kubernetes`)",
      ),
  })
  .prefault({})
  .describe("the compute platform of the services");

export type ComputeSettings = z.output<typeof computeSettings>;

const labels = (what: string) =>
  z.record(
    matching(LABEL_KEY, "a Kubernetes label key, e.g. release or app.kubernetes.io/name"),
    matching(LABEL_VALUE, "a Kubernetes label value: letters, digits, '-', '_', '.', at most 63 characters"),
    { error: `a map of ${what}` },
  );

/** One HTTP probe; the defaults are the runbooks' (R-k8s-probes). */
const probe = (defaults: { initialDelaySeconds: number; periodSeconds: number }, role: string) =>
  z
    .strictObject({
      path: matching(HTTP_PATH, 'a path starting with "/"')
        .optional()
        .describe("path probed (default: the service's `healthCheckPath`, else `healthCheck.path`, `/health`)"),
      initialDelaySeconds: int(0, 600, " s")
        .default(defaults.initialDelaySeconds)
        .describe(`seconds after the container starts before the first ${role} probe`),
      periodSeconds: int(1, 300, " s").default(defaults.periodSeconds).describe(`seconds between ${role} probes`),
      timeoutSeconds: int(1, 120, " s").default(3).describe("seconds a probe may take; less than `periodSeconds`"),
      failureThreshold: int(1, 30).default(3).describe(`failures in a row before the ${role} probe fails`),
    })
    .superRefine((p, ctx) => {
      if (p.timeoutSeconds >= p.periodSeconds) {
        report(ctx, ["timeoutSeconds"], p.timeoutSeconds, `less than periodSeconds (${p.periodSeconds})`, 1);
      }
    }, ON_VALID)
    .prefault({});

export const kubernetesSettings = z
  .strictObject({
    kubeconfig: z
      .string({ error: "the text of a kubeconfig file, set as a secret" })
      .min(1, { error: "the text of a kubeconfig file, set as a secret" })
      .optional()
      .describe(
        "kubeconfig of the cluster (`pulumi config set --secret --path opsbook:kubernetes.kubeconfig < file`); none: the ambient one (`KUBECONFIG`, `~/.kube/config`)",
      ),
    context: z
      .string({ error: "a context name of the kubeconfig" })
      .min(1, { error: "a context name of the kubeconfig" })
      .optional()
      .describe("kubeconfig context to use (default: the kubeconfig's current context)"),
    namespace: matching(DNS_LABEL, DNS_LABEL_ALLOWED)
      .default("opsbook")
      .describe("namespace the services live in; the program creates it"),
    clientSecurityGroupId: matching(/^sg-[0-9a-f]{8,17}$/, "a security group id, e.g. sg-0123456789abcdef0")
      .optional()
      .describe("security group of the cluster's nodes (or pods): the database and cache admit it (required)"),
    oidcProviderArn: matching(
      OIDC_PROVIDER_ARN,
      "an IAM OIDC provider ARN, e.g. arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE",
    )
      .optional()
      .describe(
        "the cluster's IAM OIDC provider (EKS: `aws eks describe-cluster` `identity.oidc.issuer`, registered in IAM): the backup job's service account assumes its role through it (required)",
      ),
    ingressClassName: matching(DNS_SUBDOMAIN, "an IngressClass name, e.g. nginx")
      .default("nginx")
      .describe("IngressClass of the cluster's ingress controller"),
    host: matching(/^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/, "a DNS name, e.g. app.example.com")
      .optional()
      .describe("host name of the services without `hosts` (required): the Ingress routes it and TLS covers it"),
    tls: z
      .strictObject(
        {
          secretName: matching(DNS_SUBDOMAIN, "a Secret name, e.g. opsbook-tls")
            .optional()
            .describe("an existing `kubernetes.io/tls` Secret in the namespace"),
          clusterIssuer: matching(DNS_SUBDOMAIN, "a ClusterIssuer name, e.g. letsencrypt")
            .optional()
            .describe("a cert-manager ClusterIssuer that issues the certificate instead"),
        },
        { error: "{ secretName } or { clusterIssuer }" },
      )
      .prefault({})
      .describe("TLS of the Ingress (R-k8s-tls): exactly one of `secretName` and `clusterIssuer`"),
    ingressController: z
      .strictObject({
        namespace: matching(DNS_LABEL, DNS_LABEL_ALLOWED)
          .default("ingress-nginx")
          .describe("namespace of the ingress controller's pods"),
        podLabels: labels("label: value")
          .default({ "app.kubernetes.io/name": "ingress-nginx" })
          .describe("labels of the ingress controller's pods"),
      })
      .prefault({})
      .describe("the only pods the NetworkPolicy admits to the services' ports (R-k8s-network-policy)"),
    dns: z
      .strictObject({
        namespace: matching(DNS_LABEL, DNS_LABEL_ALLOWED)
          .default("kube-system")
          .describe("namespace of the cluster's DNS pods"),
        podLabels: labels("label: value")
          .default({ "k8s-app": "kube-dns" })
          .describe("labels of the cluster's DNS pods (CoreDNS on EKS, kind, k3s: `k8s-app: kube-dns`)"),
      })
      .prefault({})
      .describe("the only DNS servers the egress NetworkPolicies let the pods ask (R-k8s-network-policy)"),
    prometheus: z
      .strictObject({
        namespace: matching(DNS_LABEL, DNS_LABEL_ALLOWED)
          .default("monitoring")
          .describe("namespace of Prometheus, admitted by the NetworkPolicy to scrape `/metrics`"),
        selectorLabels: labels("label: value")
          .default({ release: "kube-prometheus-stack" })
          .describe("labels the cluster's Prometheus selects PrometheusRules and ServiceMonitors by"),
      })
      .prefault({})
      .describe("the cluster's prometheus-operator"),
    metrics: z
      .strictObject({
        requestsTotal: matching(METRIC_NAME, "a Prometheus metric name")
          .default("http_requests_total")
          .describe("the app's counter of HTTP requests"),
        statusCodeLabel: matching(LABEL_NAME, "a Prometheus label name")
          .default("code")
          .describe("label of `requestsTotal` holding the HTTP status code"),
        durationHistogram: matching(METRIC_NAME, "a Prometheus metric name")
          .default("http_request_duration_seconds")
          .describe("the app's histogram of request durations, in seconds (`_bucket` series)"),
        path: matching(HTTP_PATH, 'a path starting with "/"')
          .default("/metrics")
          .describe("path the ServiceMonitor scrapes"),
      })
      .prefault({})
      .describe("the app's metrics, Prometheus client conventions by default (R-k8s-alerts)"),
    runbookUrl: matching(/^https:\/\/\S+$/, "an https:// URL of docs/runbooks.md in the repository's web view")
      .optional()
      .describe("web address of `docs/runbooks.md`: each alert rule's `runbook_url` points into it (required)"),
    probes: z
      .strictObject({
        liveness: probe({ initialDelaySeconds: 30, periodSeconds: 10 }, "liveness").describe(
          "restarts a container that stops answering (runbook: 30 s initial delay, every 10 s)",
        ),
        readiness: probe({ initialDelaySeconds: 5, periodSeconds: 5 }, "readiness").describe(
          "takes a pod out of the Service until it answers (runbook: 5 s initial delay, every 5 s)",
        ),
      })
      .prefault({})
      .describe("the containers' HTTP probes (R-k8s-probes)"),
    requestPercentOfLimits: int(10, 100, " %")
      .default(50)
      .describe(
        "requests as a share of the limits, which are the service's `cpu` and `memory` (runbook: 250m / 256Mi of 500m / 512Mi)",
      ),
  })
  .prefault({})
  .describe("the existing cluster the services run on when `compute.platform` is `kubernetes`");

export type KubernetesSettings = z.output<typeof kubernetesSettings>;
export type ProbeSettings = KubernetesSettings["probes"]["liveness"];

/**
 * Rules between `compute`, `kubernetes` and the services, on the Kubernetes platform only (an ECS
 * stack may leave `opsbook:kubernetes` out). Paths are relative to `opsbook:kubernetes`, except
 * the services' (`add` is given the stack root for those through `addService`).
 */
export function kubernetesStackRules(
  k: KubernetesSettings,
  ctx: { platform: ComputePlatform; data: DataPlatform; services: K8sServiceFields[] },
  add: Report,
  addService: Report,
): void {
  if (ctx.platform !== "kubernetes") return;
  // With the data tier on the cluster there is no VPC to admit the nodes to, and no IAM role.
  if (ctx.data === "aws") awsDataKeys(k, add);
  if (k.host === undefined) {
    add(["host"], undefined, "the DNS name the Ingress serves, e.g. app.example.com", "app.example.com");
  }
  if (k.runbookUrl === undefined) {
    add(
      ["runbookUrl"],
      undefined,
      "the https:// address of docs/runbooks.md, for the alerts' runbook_url",
      "https://github.com/example/opsbook/blob/main/docs/runbooks.md",
    );
  }
  const tlsChoices = [k.tls.secretName, k.tls.clusterIssuer].filter((v) => v !== undefined).length;
  // On an in-cluster data tier the stack's own CA may sign the Ingress's certificate too (no key set).
  if (tlsChoices > 1 || (tlsChoices === 0 && ctx.data === "aws")) {
    add(
      ["tls"],
      k.tls,
      ctx.data === "aws"
        ? "exactly one of { secretName } (an existing TLS Secret) and { clusterIssuer } (cert-manager issues it)"
        : "at most one of { secretName } and { clusterIssuer }; neither: the stack's own CA issues the certificate",
    );
  }
  k8sServices(ctx.services, addService);
}

/** The keys an AWS data tier needs from the cluster: its nodes' security group and its OIDC provider. */
function awsDataKeys(k: KubernetesSettings, add: Report): void {
  if (k.clientSecurityGroupId === undefined) {
    add(
      ["clientSecurityGroupId"],
      undefined,
      "the security group of the cluster's nodes, which the database and cache admit",
      "sg-0123456789abcdef0",
    );
  }
  if (k.oidcProviderArn === undefined) {
    add(
      ["oidcProviderArn"],
      undefined,
      "the ARN of the cluster's IAM OIDC provider, which the backup job's role trusts (R-backup-job-k8s)",
      "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE",
    );
  }
}

type K8sServiceFields = { name: string; port?: number; minCount: number; paths: string[] };

function k8sServices(services: K8sServiceFields[], add: Report): void {
  services.forEach((s, i) => {
    // An HPA scales between 1 and its maximum: Kubernetes does not scale a Deployment to zero.
    if (s.minCount < 1) add(["services", i, "minCount"], s.minCount, "at least 1 on the Kubernetes platform", 1);
    s.paths.forEach((p, j) => {
      // An Ingress path is a prefix or an exact path: "*" only at the end ("/api/*"), no "?".
      if (/[?]/.test(p) || p.slice(0, -1).includes("*")) {
        add(
          ["services", i, "paths", j],
          p,
          'a path, or a prefix ending in "*" (e.g. "/api/*"), on the Kubernetes platform',
        );
      }
    });
    // The probes and the Service need an HTTP port: a worker without one has nothing to probe.
    if (s.port === undefined) {
      add(
        ["services", i, "port"],
        undefined,
        `a container port on the Kubernetes platform: ${s.name}'s probes and Service need one`,
        8080,
      );
    }
  });
}

export const DATA_PLATFORMS = ["aws", "kubernetes"] as const;
export type DataPlatform = (typeof DATA_PLATFORMS)[number];

/** One data store's pod on the cluster: limits in the services' units, and its volume. */
const store = (what: string, defaults: { cpu: number; memory: number; storageGb: number }) =>
  z
    .strictObject({
      cpu: int(128, 8192, " CPU units")
        .default(defaults.cpu)
        .describe(`CPU limit of the ${what} container, in CPU units (1024 = 1 vCPU)`),
      memory: int(128, 65536, " MiB").default(defaults.memory).describe(`memory limit of the ${what} container, MiB`),
      storageGb: int(1, 16384, " GiB")
        .default(defaults.storageGb)
        .describe(`size of the ${what} volume, GiB (kept when the StatefulSet is deleted)`),
    })
    .prefault({});

const PUSHGATEWAY_URL_ALLOWED =
  "an http(s):// URL of a Prometheus Pushgateway with a port from 1 to 65535 if any, e.g. http://prometheus-pushgateway.monitoring.svc:9091";

/**
 * Whether `text` is an http or https URL the WHATWG parser takes too: the backup pod's egress
 * policy reads its port from it ({@link urlPort}), so a port out of range or an unclosed `[` host
 * would otherwise fail only while the NetworkPolicy is declared.
 */
function isPushgatewayUrl(text: string): boolean {
  if (!/^https?:\/\/[^\s/]+(\/\S*)?$/.test(text)) return false;
  try {
    // The parser takes port 0, which no NetworkPolicy admits.
    return new URL(text).port !== "0";
  } catch {
    return false;
  }
}

/** The TCP port an http(s) URL reaches: its own, else its scheme's (443 for https, 80 for http). */
export function urlPort(url: string): number {
  const u = new URL(url);
  return u.port === "" ? (u.protocol === "https:" ? 443 : 80) : Number(u.port);
}

/**
 * `opsbook:data`: where the data tier runs (R-local-postgres, R-local-redis, R-local-object-store).
 * `aws` is RDS, ElastiCache and S3; `kubernetes` is PostgreSQL, Redis and MinIO as StatefulSets on
 * the services' cluster, for a stack without an AWS account.
 */
export const dataSettings = z
  .strictObject({
    platform: oneOf(DATA_PLATFORMS)
      .default("aws")
      .describe(
        "where the data tier runs: `aws` (RDS, ElastiCache, S3) or `kubernetes` (PostgreSQL, Redis and MinIO on the services' cluster; needs `compute.platform: kubernetes`)",
      ),
    storageClassName: matching(DNS_SUBDOMAIN, "a StorageClass name, e.g. standard")
      .optional()
      .describe("StorageClass of the stores' volumes on `kubernetes` (default: the cluster's default class)"),
    postgres: store("PostgreSQL", { cpu: 1024, memory: 1024, storageGb: 20 }).describe(
      "PostgreSQL on `kubernetes`; its version, database, user, `maxConnections` and `slowQueryMs` come from `opsbook:postgres`",
    ),
    redis: store("Redis", { cpu: 256, memory: 256, storageGb: 1 }).describe(
      "Redis on `kubernetes`; its memory ceiling is 75 % of `memory`",
    ),
    objectStore: store("MinIO", { cpu: 256, memory: 512, storageGb: 10 }).describe(
      "MinIO on `kubernetes`: the versioned backup bucket",
    ),
    pushgatewayUrl: z
      .string({ error: PUSHGATEWAY_URL_ALLOWED })
      .refine(isPushgatewayUrl, { error: PUSHGATEWAY_URL_ALLOWED })
      .default("http://prometheus-pushgateway.monitoring.svc:9091")
      .describe(
        "Prometheus Pushgateway the backup job and the restore drill push their metrics to on `kubernetes` (R-local-backup-metrics)",
      ),
  })
  .prefault({})
  .describe("where the data tier runs, and its sizes on the cluster");

export type DataSettings = z.output<typeof dataSettings>;

/**
 * Keys that only mean something with an AWS data tier: on `data.platform: kubernetes` each is
 * refused by name, so a stack file never carries a value the program silently drops. Only keys the
 * stack file sets are refused: the defaults of `databaseMaintenance` and `registry` stand for
 * nothing on the cluster.
 */
export const AWS_ONLY_KEYS = [
  ["kubernetes", "clientSecurityGroupId"],
  ["kubernetes", "oidcProviderArn"],
  ["network"],
  ["domain"],
  ["alerts"],
  ["customAlarms"],
  ["postgres", "restore"],
  ["postgres", "proxy"],
  ["postgres", "readReplicas"],
  ["backup", "drRegion"],
  ["databaseMaintenance"],
  ["registry"],
] as const;

/**
 * Rules of `opsbook:data` against the rest of the stack. Paths are from the stack root: data on
 * the cluster needs the services on the cluster, and no AWS-only key ({@link AWS_ONLY_KEYS}).
 */
export function dataStackRules(
  d: DataSettings,
  stack: { platform: ComputePlatform; values: Record<string, unknown> },
  add: Report,
): void {
  if (d.platform !== "kubernetes") return;
  if (stack.platform !== "kubernetes") {
    add(
      ["data", "platform"],
      d.platform,
      "`aws` unless `compute.platform` is `kubernetes`: the in-cluster data tier runs on the services' cluster",
      "aws",
    );
  }
  for (const path of AWS_ONLY_KEYS) {
    const value = path.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], stack.values);
    if (value === undefined) continue;
    add(
      [...path],
      value,
      "no value when `data.platform` is `kubernetes`: it configures the AWS data tier, which this stack does not have",
      REMOVE,
    );
  }
}
