/**
 * Kubernetes workloads (R-k8s-deployment): pods that run as non-root on a read-only root
 * filesystem without privileges, sized and probed, from pinned images; every Deployment with a
 * PDB and an HPA, a default-deny NetworkPolicy in its namespace and the runbook alerts
 * (R-k8s-alerts) at both severities in a PrometheusRule.
 */
import type { PolicyResource } from "@pulumi/policy";
import { type OpsbookPolicy, type Subject, resourceRule, show, stackRule } from "./common";

export const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
export const STATEFUL_SET = "kubernetes:apps/v1:StatefulSet";
export const JOB = "kubernetes:batch/v1:Job";
export const CRON_JOB = "kubernetes:batch/v1:CronJob";
/**
 * Every kind with a pod template the container rules read: the services, the in-cluster stores
 * (R-local-postgres) and the jobs. Each image these run supports a non-root user and a read-only
 * root filesystem (README "Kubernetes"), so no kind is exempt from those rules.
 */
export const WORKLOADS = [DEPLOYMENT, STATEFUL_SET, JOB, CRON_JOB] as const;
/** Run-to-completion pods have nothing to serve: `k8s-probes` exempts exactly these kinds, by name. */
export const PROBE_EXEMPT = [JOB, CRON_JOB] as const;
export const PDB = "kubernetes:policy/v1:PodDisruptionBudget";
export const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
export const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
export const PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule";

/** The parts of a Deployment the rules read. */
interface SecurityContext {
  runAsNonRoot?: boolean;
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  readOnlyRootFilesystem?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
}
interface Container {
  name?: string;
  image?: string;
  securityContext?: SecurityContext;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: unknown;
  readinessProbe?: unknown;
}
interface PodTemplate {
  metadata?: { labels?: Record<string, string> };
  spec?: { securityContext?: SecurityContext; containers?: Container[] };
}
interface Deployment {
  metadata?: { name?: string; namespace?: string };
  spec?: { template?: PodTemplate; jobTemplate?: { spec?: { template?: PodTemplate } } };
}

/** A workload's pod template: a CronJob's is in its Job template. */
const podTemplateOf = (type: string, d: Deployment): PodTemplate | undefined =>
  type === CRON_JOB ? d.spec?.jobTemplate?.spec?.template : d.spec?.template;

function containerRule(
  meta: Omit<Parameters<typeof resourceRule<Deployment>>[0], "types" | "kind" | "check"> & {
    check: (c: Container, label: string, subject: Subject<Deployment>, pod: PodTemplate) => void;
    /** The kinds checked; every workload unless the rule names its exemptions. */
    types?: readonly string[];
  },
): OpsbookPolicy {
  const { check, types = WORKLOADS, ...rest } = meta;
  return resourceRule<Deployment>({
    ...rest,
    types,
    kind: (type) => type.split(":").pop()!,
    check: (subject) => {
      const pod = podTemplateOf(subject.type, subject.props) ?? {};
      for (const c of pod.spec?.containers ?? []) check(c, `container "${c.name ?? "?"}"`, subject, pod);
    },
  });
}

export const k8sNonRoot = containerRule({
  name: "k8s-non-root",
  description: "Every container runs as a non-root user (runAsNonRoot on the container or the pod).",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["CKV_K8S_23", "Pod Security restricted"],
  remediationSteps: "Set securityContext.runAsNonRoot: true (and a runAsUser) on the pod or each container.",
  check: (c, label, s, pod) => {
    const value = c.securityContext?.runAsNonRoot ?? pod.spec?.securityContext?.runAsNonRoot;
    if (value !== true)
      s.report(`${label} runAsNonRoot`, show(value), "true", "set securityContext.runAsNonRoot: true and a runAsUser");
  },
});

export const k8sReadOnlyRoot = containerRule({
  name: "k8s-read-only-root",
  description: "Every container's root filesystem is read-only; writable paths are volumes.",
  enforcementLevel: "mandatory",
  severity: "medium",
  sources: ["CKV_K8S_22"],
  remediationSteps: "Set readOnlyRootFilesystem: true and mount an emptyDir at each path the app writes (/tmp).",
  check: (c, label, s) => {
    const value = c.securityContext?.readOnlyRootFilesystem;
    if (value !== true)
      s.report(`${label} readOnlyRootFilesystem`, show(value), "true", "set it and mount an emptyDir at /tmp");
  },
});

export const k8sNoEscalation = containerRule({
  name: "k8s-no-privilege-escalation",
  description: "No container is privileged, may escalate privileges or adds capabilities; all are dropped.",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["CKV_K8S_16", "CKV_K8S_20", "CKV_K8S_28", "Pod Security restricted"],
  remediationSteps: "Set privileged: false, allowPrivilegeEscalation: false and capabilities: { drop: [ALL] }.",
  check: (c, label, s) => {
    const sc = c.securityContext ?? {};
    if (sc.privileged === true) s.report(`${label} privileged`, "true", "false or unset", "remove privileged: true");
    if (sc.allowPrivilegeEscalation !== false)
      s.report(
        `${label} allowPrivilegeEscalation`,
        show(sc.allowPrivilegeEscalation),
        "false",
        "set allowPrivilegeEscalation: false",
      );
    if ((sc.capabilities?.add ?? []).length > 0)
      s.report(`${label} capabilities.add`, show(sc.capabilities?.add), "none", "remove the added capabilities");
    if (!(sc.capabilities?.drop ?? []).includes("ALL"))
      s.report(
        `${label} capabilities.drop`,
        show(sc.capabilities?.drop),
        '["ALL"]',
        'set capabilities: { drop: ["ALL"] }',
      );
  },
});

export const k8sResources = containerRule({
  name: "k8s-requests-and-limits",
  description: "Every container sets CPU and memory requests and limits (R-k8s-resources).",
  enforcementLevel: "mandatory",
  severity: "medium",
  sources: ["CKV_K8S_10", "CKV_K8S_11", "CKV_K8S_12", "CKV_K8S_13", "runbook 003"],
  remediationSteps: "Set resources.requests and resources.limits, each with cpu and memory.",
  check: (c, label, s) => {
    for (const kind of ["requests", "limits"] as const)
      for (const r of ["cpu", "memory"])
        if (c.resources?.[kind]?.[r] === undefined)
          s.report(`${label} resources.${kind}.${r}`, "not set", "a quantity", `set resources.${kind}.${r}`);
  },
});

export const k8sProbes = containerRule({
  name: "k8s-probes",
  description:
    "Every container of a Deployment or StatefulSet has a liveness and a readiness probe (R-k8s-probes); Jobs and CronJobs are exempt: they run to completion and serve nothing.",
  types: WORKLOADS.filter((t) => !(PROBE_EXEMPT as readonly string[]).includes(t)),
  enforcementLevel: "mandatory",
  severity: "medium",
  sources: ["CKV_K8S_8", "CKV_K8S_9", "runbook 003"],
  remediationSteps: "Set livenessProbe and readinessProbe (HTTP GET on the health path).",
  check: (c, label, s) => {
    for (const probe of ["livenessProbe", "readinessProbe"] as const)
      if (c[probe] === undefined) s.report(`${label} ${probe}`, "not set", "a probe", `set ${probe}: { httpGet: ... }`);
  },
});

/** `repo:tag` with a tag other than `latest`, or `repo@sha256:<digest>`. */
export function imagePinned(image: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  const tag = /:([^/:]+)$/.exec(image)?.[1];
  return tag !== undefined && tag !== "latest";
}

export const k8sImagePinned = containerRule({
  name: "k8s-image-pinned",
  description: "Every image names a tag other than `latest`, or a digest: a rollback returns to the same bits.",
  enforcementLevel: "mandatory",
  severity: "medium",
  sources: ["CKV_K8S_14", "CKV_K8S_43", "runbook 004"],
  remediationSteps: "Deploy `repository:<version>` (services[].tag) or `repository@sha256:<digest>`.",
  check: (c, label, s) => {
    if (!imagePinned(c.image ?? ""))
      s.report(
        `${label} image`,
        show(c.image),
        "a tag other than latest, or a digest",
        "set services[].tag to the release",
      );
  },
});

const deploymentsOf = (resources: PolicyResource[]) => resources.filter((r) => r.type === DEPLOYMENT);
const props = <T>(r: PolicyResource) => r.props as T;
const namespaceOf = (r: PolicyResource) => props<{ metadata?: { namespace?: string } }>(r).metadata?.namespace;
const nameOf = (r: PolicyResource) => props<{ metadata?: { name?: string } }>(r).metadata?.name ?? r.name;

export const k8sDisruptionAndScaling = stackRule({
  name: "k8s-deployment-pdb-and-hpa",
  description: "Every Deployment has a PodDisruptionBudget selecting its pods and an HPA scaling it.",
  enforcementLevel: "mandatory",
  severity: "medium",
  sources: ["runbook 001", "runbook 003"],
  remediationSteps:
    "Declare a PodDisruptionBudget whose selector matches the pod labels, and an autoscaling/v2 HPA on the Deployment.",
  check: (resources, _config, report) => {
    for (const d of deploymentsOf(resources)) {
      const ns = namespaceOf(d);
      const labels = props<Deployment>(d).spec?.template?.metadata?.labels ?? {};
      const sameNs = (r: PolicyResource) => namespaceOf(r) === ns;
      const pdb = resources.some((r) => {
        if (r.type !== PDB || !sameNs(r)) return false;
        const match = props<{ spec?: { selector?: { matchLabels?: Record<string, string> } } }>(r).spec?.selector
          ?.matchLabels;
        return match !== undefined && Object.entries(match).every(([k, v]) => labels[k] === v);
      });
      const hpa = resources.some(
        (r) =>
          r.type === HPA &&
          sameNs(r) &&
          props<{ spec?: { scaleTargetRef?: { kind?: string; name?: string } } }>(r).spec?.scaleTargetRef?.name ===
            nameOf(d),
      );
      if (!pdb)
        report(
          d,
          `Deployment "${d.name}": PodDisruptionBudget is not set; required: one selecting its pods. Fix: declare a PodDisruptionBudget (maxUnavailable: 1) with the Deployment's selector.`,
        );
      if (!hpa)
        report(
          d,
          `Deployment "${d.name}": HorizontalPodAutoscaler is not set; required: one targeting it. Fix: declare an autoscaling/v2 HPA with scaleTargetRef to the Deployment.`,
        );
    }
  },
});

export const k8sNetworkPolicy = stackRule({
  name: "k8s-namespace-network-policy",
  description: "Every namespace with a Deployment has a default-deny ingress NetworkPolicy (empty podSelector).",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["CKV_K8S_6 (NSA hardening guide)", "runbook 003"],
  remediationSteps:
    "Declare a NetworkPolicy with podSelector: {} and policyTypes: [Ingress] in the namespace, then allow the ingress controller.",
  check: (resources, _config, report) => {
    const denied = new Set(
      resources
        .filter((r) => r.type === NETWORK_POLICY)
        .filter((r) => {
          const spec = props<{
            spec?: { podSelector?: Record<string, unknown>; policyTypes?: string[]; ingress?: unknown[] };
          }>(r).spec;
          return (
            spec?.podSelector !== undefined &&
            Object.keys(spec.podSelector).length === 0 &&
            (spec.policyTypes ?? []).includes("Ingress") &&
            (spec.ingress ?? []).length === 0
          );
        })
        .map(namespaceOf),
    );
    for (const d of deploymentsOf(resources))
      if (!denied.has(namespaceOf(d)))
        report(
          d,
          `Deployment "${d.name}": namespace ${show(namespaceOf(d))} default-deny NetworkPolicy is not set; required: podSelector {} with policyTypes [Ingress]. Fix: declare one in the namespace.`,
        );
  },
});

type EgressSpec = {
  spec?: {
    podSelector?: Record<string, unknown>;
    policyTypes?: string[];
    egress?: Array<{ to?: unknown[]; ports?: unknown[] }>;
  };
};

export const k8sEgressPolicy = stackRule({
  name: "k8s-namespace-egress-policy",
  description:
    "Every namespace with a Deployment denies egress by default (empty podSelector), and no NetworkPolicy there allows every destination on every port (R-k8s-network-policy).",
  enforcementLevel: "mandatory",
  severity: "medium",
  sources: ["NSA/CISA Kubernetes hardening guide", "runbook 003"],
  remediationSteps:
    "Declare a NetworkPolicy with podSelector: {} and policyTypes: [Egress] in the namespace, then allow DNS, the data tier's ports and HTTPS per workload.",
  check: (resources, _config, report) => {
    const policies = resources.filter((r) => r.type === NETWORK_POLICY);
    const denied = new Set(
      policies
        .filter((r) => {
          const spec = props<EgressSpec>(r).spec;
          return (
            spec?.podSelector !== undefined &&
            Object.keys(spec.podSelector).length === 0 &&
            (spec.policyTypes ?? []).includes("Egress") &&
            (spec.egress ?? []).length === 0
          );
        })
        .map(namespaceOf),
    );
    const openRules = policies.flatMap((r) =>
      (props<EgressSpec>(r).spec?.egress ?? [])
        .filter((rule) => (rule.to ?? []).length === 0 && (rule.ports ?? []).length === 0)
        .map(() => r),
    );
    for (const d of deploymentsOf(resources)) {
      if (!denied.has(namespaceOf(d)))
        report(
          d,
          `Deployment "${d.name}": namespace ${show(namespaceOf(d))} default-deny egress NetworkPolicy is not set; required: podSelector {} with policyTypes [Egress]. Fix: declare one in the namespace.`,
        );
    }
    for (const p of openRules)
      report(
        p,
        `NetworkPolicy "${p.name}": an egress rule allows every destination on every port; required: a rule names its destinations (to) or its ports. Fix: list the ports (e.g. 443) or the peers it may reach.`,
      );
  },
});

/** The families each service's alerts cover, with their severities (components/kubernetes/alertRules.ts). */
const FAMILIES: Record<string, string[]> = {
  "http-error-rate": ["warning", "critical"],
  "response-time-p95": ["warning", "critical"],
  cpu: ["warning", "critical"],
  memory: ["warning", "critical"],
  "unavailable-replicas": ["warning", "critical"],
  "rollback-error-rate": ["critical"],
};

export const k8sAlertCoverage = stackRule<{ families: Record<string, string[]> }>({
  name: "k8s-alert-coverage",
  description:
    "Every Deployment has, in a PrometheusRule of its namespace, an alert per runbook family and severity (R-k8s-alerts).",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["runbook 000", "runbook 004"],
  remediationSteps:
    "Declare the PrometheusRule the platform generates; keep `service`, `family` and `severity` labels on each rule.",
  config: {
    families: {
      type: "object",
      description: "family -> severities each Deployment must have alerts for",
      default: FAMILIES,
    },
  },
  check: (resources, config, report) => {
    type Rules = { spec?: { groups?: Array<{ rules?: Array<{ alert?: string; labels?: Record<string, string> }> }> } };
    for (const d of deploymentsOf(resources)) {
      const have = new Set(
        resources
          .filter((r) => r.type === PROMETHEUS_RULE && namespaceOf(r) === namespaceOf(d))
          .flatMap((r) => (props<Rules>(r).spec?.groups ?? []).flatMap((g) => g.rules ?? []))
          .filter((rule) => rule.alert !== undefined && rule.labels?.service === nameOf(d))
          .map((rule) => `${rule.labels?.family} ${rule.labels?.severity}`),
      );
      const missing = Object.entries(config.families).flatMap(([family, severities]) =>
        severities.filter((s) => !have.has(`${family} ${s}`)).map((s) => `${family} ${s}`),
      );
      if (missing.length > 0)
        report(
          d,
          `Deployment "${d.name}": alert rules ${show(missing)} are not set; required: every family at its severities. Fix: declare them in a PrometheusRule in the namespace, labelled service: ${nameOf(d)}.`,
        );
    }
  },
});

export const kubernetesPolicies: OpsbookPolicy[] = [
  k8sNonRoot,
  k8sReadOnlyRoot,
  k8sNoEscalation,
  k8sResources,
  k8sProbes,
  k8sImagePinned,
  k8sDisruptionAndScaling,
  k8sNetworkPolicy,
  k8sEgressPolicy,
  k8sAlertCoverage,
];
