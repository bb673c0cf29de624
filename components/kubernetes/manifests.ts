/**
 * The Kubernetes objects of one service, as plain specs built from the parsed settings: pure, so
 * the component declares them and the tests read every field. Types are `@pulumi/kubernetes`'s
 * input types; the tests also check the recorded objects against kubernetes-models' schemas.
 */
import type * as In from "@pulumi/kubernetes/types/input";
import * as pulumi from "@pulumi/pulumi";
import type { ServiceSettings } from "../service/settings";
import type { KubernetesSettings, ProbeSettings } from "./settings";

/** The named container port every probe, Service and ServiceMonitor refers to. */
export const HTTP_PORT_NAME = "http";
/** Port of each Service (the container port stays the service's own). */
export const SERVICE_PORT = 80;
/** A non-root uid/gid outside the ranges base images use for their own users. */
export const RUN_AS_USER = 10001;
/** Bytes /tmp may hold: an emptyDir without a limit could fill the node's disk. */
export const TMP_SIZE_LIMIT = "256Mi";

/**
 * The pod security of every workload here (R-k8s-deployment): a fixed non-root uid and gid, and
 * the runtime's default seccomp profile, as the restricted Pod Security Standard requires.
 */
export function podSecurityContext(): In.core.v1.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: RUN_AS_USER,
    runAsGroup: RUN_AS_USER,
    fsGroup: RUN_AS_USER,
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** A container that cannot gain privileges or write outside its volumes (R-k8s-deployment). */
export function containerSecurityContext(): In.core.v1.SecurityContext {
  return {
    runAsNonRoot: true,
    privileged: false,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** A stateful workload's one volume, `data`: ReadWriteOnce, kept by the StatefulSet's claim. */
export function dataVolumeClaim(
  labels: Record<string, string>,
  storageGb: number,
  storageClassName?: string,
): In.core.v1.PersistentVolumeClaim {
  return {
    metadata: { name: "data", labels },
    spec: {
      accessModes: ["ReadWriteOnce"],
      ...(storageClassName ? { storageClassName } : {}),
      resources: { requests: { storage: `${storageGb}Gi` } },
    },
  };
}

/** The writable /tmp of a read-only container, and its bounded volume. */
export const TMP_MOUNT = { name: "tmp", mountPath: "/tmp" };
export function tmpVolume(): In.core.v1.Volume {
  return { name: "tmp", emptyDir: { sizeLimit: TMP_SIZE_LIMIT } };
}

/** A file mounted read-only into a job's container: a Secret's key (e.g. a CA certificate). */
export interface MountedSecretFile {
  /** Volume name, unique in the pod. */
  name: string;
  secretName: pulumi.Input<string>;
  key: string;
  /** Directory it is mounted in; the file keeps the key's name. */
  mountPath: string;
}

/** What a run-to-completion pod is built from (the role bootstrap Job, the backup CronJobs). */
export interface JobPodArgs {
  /** The container's name: the image's command it runs. */
  command: string;
  /** `repository:tag`. */
  image: pulumi.Input<string>;
  /** Plain variables; never credentials. */
  environment: Record<string, pulumi.Input<string>>;
  /** Credentials, each variable one key of the same name in its Secret. */
  secrets: Array<{ name: pulumi.Input<string>; keys: string[] }>;
  resources: In.core.v1.ResourceRequirements;
  serviceAccountName?: pulumi.Input<string>;
  files?: MountedSecretFile[];
}

/**
 * The pod of a job (R-k8s-deployment's pod security): never restarted in place (the Job retries
 * with a new pod), no Kubernetes API token, no service links, the image's ENTRYPOINT with the
 * command as its argument, credentials only through `secretKeyRef`, and a writable /tmp only.
 */
export function jobPodSpec(a: JobPodArgs): In.core.v1.PodSpec {
  const files = a.files ?? [];
  return {
    restartPolicy: "Never",
    ...(a.serviceAccountName === undefined ? {} : { serviceAccountName: a.serviceAccountName }),
    // The jobs do not call the Kubernetes API. EKS's pod identity webhook mounts its own token
    // (audience sts.amazonaws.com) for an IRSA role, independent of this one.
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: podSecurityContext(),
    containers: [
      {
        name: a.command,
        image: a.image,
        imagePullPolicy: "IfNotPresent",
        // The image's ENTRYPOINT is the job's CLI; its argument picks the command.
        args: [a.command],
        env: [
          ...Object.entries(a.environment).map(([name, value]) => ({ name, value })),
          ...a.secrets.flatMap((secret) =>
            secret.keys.map((key) => ({ name: key, valueFrom: { secretKeyRef: { name: secret.name, key } } })),
          ),
        ],
        resources: a.resources,
        securityContext: containerSecurityContext(),
        volumeMounts: [TMP_MOUNT, ...files.map((f) => ({ name: f.name, mountPath: f.mountPath, readOnly: true }))],
      },
    ],
    volumes: [
      tmpVolume(),
      ...files.map((f) => ({
        name: f.name,
        secret: { secretName: f.secretName, items: [{ key: f.key, path: f.key }] },
      })),
    ],
  };
}

/**
 * The database roles' bootstrap Job (R-db-roles): its pod runs the job image's bootstrap command
 * once per rotation, since the roles' generations are in the pod template (a changed template
 * replaces the Job, and `pulumi up` waits for it to complete), within 15 minutes.
 */
export function rolesBootstrapJobSpec(a: {
  pod: JobPodArgs;
  labels: Record<string, string>;
  /** `rotationLabel` of the stack's `postgres.roleRotation`. */
  rotation: string;
  /** Retries of a failed pod: more where the database may still be starting beside the Job. */
  backoffLimit: number;
}): In.batch.v1.JobSpec {
  return {
    backoffLimit: a.backoffLimit,
    activeDeadlineSeconds: 900,
    template: {
      metadata: { labels: a.labels, annotations: { "opsbook/role-rotation": a.rotation } },
      spec: jobPodSpec(a.pod),
    },
  };
}

/** What one service's objects are built from. */
export interface ServiceManifestArgs {
  service: Pick<
    ServiceSettings,
    | "name"
    | "tag"
    | "command"
    | "cpu"
    | "memory"
    | "desiredCount"
    | "minCount"
    | "maxCount"
    | "scaling"
    | "healthCheckPath"
  > & {
    port: number;
    /** The image without its tag: `services[].image`, or the stack's repository URL for the service. */
    image: pulumi.Input<string>;
  };
  kubernetes: Pick<KubernetesSettings, "namespace" | "probes" | "requestPercentOfLimits" | "metrics" | "prometheus">;
  /** `healthCheck.path`: the probe path when neither the probe nor the service names one. */
  healthCheckPath: string;
  /** Labels every object of the stack carries (part-of, instance). */
  commonLabels: Record<string, string>;
  /** Plain environment variables: the connections' settings and the service's own. */
  environment: Record<string, pulumi.Input<string>>;
  /** Name of the service's Secret and the variables it holds (each one key of the same name). */
  secret: { name: pulumi.Input<string>; keys: string[] };
  /** `rollback.unhealthyForMinutes`: a rollout that makes no progress this long fails. */
  unhealthyForMinutes: number;
}

/** Labels that select one service's pods. */
export function selectorLabels(service: string): Record<string, string> {
  return { "app.kubernetes.io/name": service };
}

/** Fargate CPU units (1024 per vCPU) as Kubernetes millicores, e.g. 512 -> "500m" rounded to 5m. */
export function millicores(units: number): number {
  return Math.round((units * 1000) / 1024 / 5) * 5;
}

/**
 * Limits are the service's `cpu` and `memory`; requests are `requestPercentOfLimits` of them
 * (R-k8s-resources: the runbook's 250m / 256Mi of 500m / 512Mi is 50 %).
 */
export function resources(cpuUnits: number, memoryMiB: number, requestPercent: number) {
  const cpu = millicores(cpuUnits);
  const request = (v: number) => Math.max(1, Math.round((v * requestPercent) / 100));
  return {
    limits: { cpu: `${cpu}m`, memory: `${memoryMiB}Mi` },
    requests: { cpu: `${request(cpu)}m`, memory: `${request(memoryMiB)}Mi` },
  };
}

function httpProbe(p: ProbeSettings, path: string): In.core.v1.Probe {
  return {
    httpGet: { path, port: HTTP_PORT_NAME, scheme: "HTTP" },
    initialDelaySeconds: p.initialDelaySeconds,
    periodSeconds: p.periodSeconds,
    timeoutSeconds: p.timeoutSeconds,
    failureThreshold: p.failureThreshold,
    successThreshold: 1,
  };
}

/**
 * The service's Deployment (R-k8s-deployment): rolling, never below the running count; a rollout
 * that makes no progress within the rollback trigger's minutes fails (Pulumi's await logic then
 * fails the update); both probes (R-k8s-probes); requests and limits (R-k8s-resources); a
 * container that cannot gain privileges or write outside /tmp; secrets only from the Secret.
 */
export function deploymentSpec(a: ServiceManifestArgs): In.apps.v1.DeploymentSpec {
  const s = a.service;
  const labels = { ...a.commonLabels, ...selectorLabels(s.name) };
  const probePath = (p: ProbeSettings) => p.path ?? s.healthCheckPath ?? a.healthCheckPath;
  return {
    replicas: s.desiredCount,
    revisionHistoryLimit: 10, // `kubectl rollout undo` needs the previous ReplicaSets
    // R-rollback-auto: failing health checks for 2 minutes end the rollout.
    progressDeadlineSeconds: a.unhealthyForMinutes * 60,
    selector: { matchLabels: selectorLabels(s.name) },
    strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: "25%" } },
    template: {
      metadata: { labels },
      spec: {
        automountServiceAccountToken: false, // the app does not call the Kubernetes API
        enableServiceLinks: false, // no *_SERVICE_HOST variables next to the app's own
        terminationGracePeriodSeconds: 30,
        securityContext: podSecurityContext(),
        containers: [
          {
            name: s.name,
            image: pulumi.interpolate`${s.image}:${s.tag}`,
            imagePullPolicy: "IfNotPresent",
            // ECS `command` replaces the image's CMD; in Kubernetes that is `args`.
            ...(s.command ? { args: s.command } : {}),
            ports: [{ name: HTTP_PORT_NAME, containerPort: s.port, protocol: "TCP" }],
            env: [
              ...Object.entries(a.environment).map(([name, value]) => ({ name, value })),
              ...a.secret.keys.map((key) => ({
                name: key,
                valueFrom: { secretKeyRef: { name: a.secret.name, key } },
              })),
            ],
            resources: resources(s.cpu, s.memory, a.kubernetes.requestPercentOfLimits),
            livenessProbe: httpProbe(a.kubernetes.probes.liveness, probePath(a.kubernetes.probes.liveness)),
            readinessProbe: httpProbe(a.kubernetes.probes.readiness, probePath(a.kubernetes.probes.readiness)),
            securityContext: containerSecurityContext(),
            volumeMounts: [TMP_MOUNT],
          },
        ],
        volumes: [tmpVolume()],
      },
    },
  };
}

/** The ClusterIP Service in front of the pods. */
export function serviceSpec(service: string): In.core.v1.ServiceSpec {
  return {
    type: "ClusterIP",
    selector: selectorLabels(service),
    ports: [{ name: HTTP_PORT_NAME, port: SERVICE_PORT, targetPort: HTTP_PORT_NAME, protocol: "TCP" }],
  };
}

/**
 * CPU target tracking between the counts (R-scale-horizontal). Kubernetes measures utilisation
 * against the requests, ECS against the task's CPU: the same percentage scales out earlier here.
 */
export function hpaSpec(
  deploymentName: pulumi.Input<string>,
  s: ServiceManifestArgs["service"],
): In.autoscaling.v2.HorizontalPodAutoscalerSpec {
  return {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deploymentName },
    minReplicas: s.minCount,
    maxReplicas: s.maxCount,
    metrics: [
      {
        type: "Resource",
        resource: { name: "cpu", target: { type: "Utilization", averageUtilization: s.scaling.cpuTargetPercent } },
      },
    ],
  };
}

/** Voluntary disruptions (node drains) take one pod at a time. */
export function pdbSpec(service: string): In.policy.v1.PodDisruptionBudgetSpec {
  return { maxUnavailable: 1, selector: { matchLabels: selectorLabels(service) } };
}

/** Prometheus scrapes `/metrics` on the service port (R-health-metrics). */
export function serviceMonitorSpec(service: string, namespace: string, metricsPath: string) {
  return {
    selector: { matchLabels: selectorLabels(service) },
    namespaceSelector: { matchNames: [namespace] },
    endpoints: [{ port: HTTP_PORT_NAME, path: metricsPath, interval: "30s", scheme: "http" }],
  };
}

/** Ingress allowed by default to no pod of the namespace (R-k8s-network-policy). */
export function defaultDenySpec(): In.networking.v1.NetworkPolicySpec {
  return { podSelector: {}, policyTypes: ["Ingress"] };
}

/** Egress allowed by default to no pod of the namespace (R-k8s-network-policy). */
export function defaultDenyEgressSpec(): In.networking.v1.NetworkPolicySpec {
  return { podSelector: {}, policyTypes: ["Egress"] };
}

/** Where pods may connect to, besides the cluster's DNS and HTTPS. */
export interface EgressDestination {
  /** The destinations: an address block (the VPC's CIDR), or pods (`podSelector`, `namespaceSelector`). */
  to: In.networking.v1.NetworkPolicyPeer[];
  /** TCP ports there, e.g. 5432 and 6379. */
  ports: number[];
}

/**
 * The only ways out of some pods (R-k8s-network-policy): DNS to the cluster's DNS pods, the data
 * tier on its ports, and HTTPS (443) anywhere, for the AWS APIs (Secrets Manager, S3, CloudWatch,
 * STS), whose addresses are no fixed block.
 */
export function allowEgressSpec(
  podLabels: Record<string, string>,
  dns: KubernetesSettings["dns"],
  destinations: EgressDestination[],
): In.networking.v1.NetworkPolicySpec {
  return {
    podSelector: { matchLabels: podLabels },
    policyTypes: ["Egress"],
    egress: [
      {
        to: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": dns.namespace } },
            podSelector: { matchLabels: dns.podLabels },
          },
        ],
        ports: [
          { protocol: "UDP", port: 53 },
          { protocol: "TCP", port: 53 },
        ],
      },
      ...destinations.map((d) => ({ to: d.to, ports: d.ports.map((port) => ({ protocol: "TCP", port })) })),
      { ports: [{ protocol: "TCP", port: 443 }] },
    ],
  };
}

/**
 * The one way in to a service's pods: the ingress controller's pods on the HTTP port, and
 * Prometheus on the same port for `/metrics`.
 */
export function allowIngressSpec(
  service: string,
  k: Pick<KubernetesSettings, "ingressController" | "prometheus">,
): In.networking.v1.NetworkPolicySpec {
  const fromNamespace = (namespace: string, podLabels?: Record<string, string>) => ({
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
    ...(podLabels ? { podSelector: { matchLabels: podLabels } } : {}),
  });
  return {
    podSelector: { matchLabels: selectorLabels(service) },
    policyTypes: ["Ingress"],
    ingress: [
      {
        from: [fromNamespace(k.ingressController.namespace, k.ingressController.podLabels)],
        ports: [{ protocol: "TCP", port: HTTP_PORT_NAME }],
      },
      { from: [fromNamespace(k.prometheus.namespace)], ports: [{ protocol: "TCP", port: HTTP_PORT_NAME }] },
    ],
  };
}

/** An ALB path pattern as an Ingress path: "/api/*" -> Prefix "/api", "/health" -> Exact. */
export function ingressPath(pattern: string): { path: string; pathType: "Prefix" | "Exact" } {
  if (!pattern.endsWith("*")) return { path: pattern, pathType: "Exact" };
  const prefix = pattern.slice(0, -1).replace(/\/+$/, "");
  return { path: prefix === "" ? "/" : prefix, pathType: "Prefix" };
}

/**
 * The stack's Ingress (R-k8s-tls): every service's hosts and paths as on the load balancer (a
 * service without hosts answers on `host`; one without paths takes every path), TLS for every host.
 */
export function ingressSpec(a: {
  services: Array<{ name: string; hosts: string[]; paths: string[]; serviceName: pulumi.Input<string> }>;
  host: string;
  ingressClassName: string;
  tlsSecretName: string;
}): In.networking.v1.IngressSpec {
  const byHost = new Map<string, In.networking.v1.HTTPIngressPath[]>();
  for (const s of a.services) {
    const backend = { service: { name: s.serviceName, port: { name: HTTP_PORT_NAME } } };
    for (const host of s.hosts.length > 0 ? s.hosts : [a.host]) {
      const paths = byHost.get(host) ?? [];
      for (const p of s.paths.length > 0 ? s.paths : ["/*"]) paths.push({ ...ingressPath(p), backend });
      byHost.set(host, paths);
    }
  }
  const hosts = [...byHost.keys()];
  return {
    ingressClassName: a.ingressClassName,
    tls: [{ hosts, secretName: a.tlsSecretName }],
    rules: hosts.map((host) => ({ host, http: { paths: byHost.get(host)! } })),
  };
}

/**
 * Annotations of the Ingress: HTTP redirected to HTTPS (ingress-nginx's names; other controllers
 * ignore them and need their own), and cert-manager's issuer when it issues the certificate.
 */
export function ingressAnnotations(clusterIssuer: string | undefined, issuer?: string): Record<string, string> {
  return {
    "nginx.ingress.kubernetes.io/ssl-redirect": "true",
    "nginx.ingress.kubernetes.io/force-ssl-redirect": "true",
    ...(clusterIssuer ? { "cert-manager.io/cluster-issuer": clusterIssuer } : {}),
    // A namespaced Issuer (the in-cluster data tier's CA) when no cluster issuer is configured.
    ...(!clusterIssuer && issuer ? { "cert-manager.io/issuer": issuer } : {}),
  };
}
