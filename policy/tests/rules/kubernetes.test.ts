import * as k8s from "../../rules/kubernetes";
import { resource, stackViolations, violations } from "../helpers";

const labels = { "app.kubernetes.io/name": "api" };
const container = {
  name: "api",
  image: "registry.example.com/api:1.0.0",
  resources: { limits: { cpu: "500m", memory: "512Mi" }, requests: { cpu: "250m", memory: "256Mi" } },
  livenessProbe: { httpGet: { path: "/health", port: "http" } },
  readinessProbe: { httpGet: { path: "/health", port: "http" } },
  securityContext: {
    runAsNonRoot: true,
    privileged: false,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
  },
};

/** A Deployment whose one container is `container` changed by `change`. */
function deployment(change: Record<string, unknown> = {}, pod: Record<string, unknown> = {}) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "api", namespace: "app" },
    spec: {
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { ...pod, containers: [{ ...container, ...change }] } },
    },
  };
}

const securityContext = (change: Record<string, unknown>) => ({
  securityContext: { ...container.securityContext, ...change },
});

test.each(
  [k8s.k8sNonRoot, k8s.k8sReadOnlyRoot, k8s.k8sNoEscalation, k8s.k8sResources, k8s.k8sProbes, k8s.k8sImagePinned].map(
    (p) => [p.name, p] as const,
  ),
)("%s passes the compliant Deployment", async (_name, policy) => {
  expect(await violations(policy, k8s.DEPLOYMENT, deployment(), { name: "api" })).toEqual([]);
});

test.each<[string, Parameters<typeof violations>[0], Record<string, unknown>, string[]]>([
  [
    "k8s-non-root: a container that may run as root",
    k8s.k8sNonRoot,
    securityContext({ runAsNonRoot: undefined }),
    [
      'Deployment "api": container "api" runAsNonRoot is not set; required: true. Fix: set securityContext.runAsNonRoot: true and a runAsUser.',
    ],
  ],
  [
    "k8s-read-only-root: a writable root filesystem",
    k8s.k8sReadOnlyRoot,
    securityContext({ readOnlyRootFilesystem: false }),
    [
      'Deployment "api": container "api" readOnlyRootFilesystem is false; required: true. Fix: set it and mount an emptyDir at /tmp.',
    ],
  ],
  [
    "k8s-no-privilege-escalation: escalation allowed and a capability added",
    k8s.k8sNoEscalation,
    securityContext({ allowPrivilegeEscalation: true, capabilities: { add: ["NET_ADMIN"] } }),
    [
      'Deployment "api": container "api" allowPrivilegeEscalation is true; required: false. Fix: set allowPrivilegeEscalation: false.',
      'Deployment "api": container "api" capabilities.add is ["NET_ADMIN"]; required: none. Fix: remove the added capabilities.',
      'Deployment "api": container "api" capabilities.drop is not set; required: ["ALL"]. Fix: set capabilities: { drop: ["ALL"] }.',
    ],
  ],
  [
    "k8s-requests-and-limits: no memory limit",
    k8s.k8sResources,
    { resources: { requests: container.resources.requests, limits: { cpu: "500m" } } },
    [
      'Deployment "api": container "api" resources.limits.memory is not set; required: a quantity. Fix: set resources.limits.memory.',
    ],
  ],
  [
    "k8s-probes: no readiness probe",
    k8s.k8sProbes,
    { readinessProbe: undefined },
    [
      'Deployment "api": container "api" readinessProbe is not set; required: a probe. Fix: set readinessProbe: { httpGet: ... }.',
    ],
  ],
  [
    "k8s-image-pinned: latest",
    k8s.k8sImagePinned,
    { image: "registry.example.com/api:latest" },
    [
      'Deployment "api": container "api" image is "registry.example.com/api:latest"; required: a tag other than latest, or a digest. Fix: set services[].tag to the release.',
    ],
  ],
])("reports %s", async (_name, policy, change, expected) => {
  expect(await violations(policy, k8s.DEPLOYMENT, deployment(change), { name: "api" })).toEqual(expected);
});

test("k8s-non-root accepts runAsNonRoot on the pod", async () => {
  const d = deployment(
    { securityContext: { ...container.securityContext, runAsNonRoot: undefined } },
    {
      securityContext: { runAsNonRoot: true },
    },
  );
  expect(await violations(k8s.k8sNonRoot, k8s.DEPLOYMENT, d, { name: "api" })).toEqual([]);
});

test("images: a tag other than latest or a digest is pinned; none or latest is not", () => {
  expect(k8s.imagePinned("r.example.com:5000/api:1.2.3")).toBe(true);
  expect(k8s.imagePinned(`r.example.com/api@sha256:${"a".repeat(64)}`)).toBe(true);
  expect(k8s.imagePinned("r.example.com:5000/api")).toBe(false);
  expect(k8s.imagePinned("api:latest")).toBe(false);
});

describe("stack rules", () => {
  const d = resource(k8s.DEPLOYMENT, "api", deployment());
  const pdb = resource(k8s.PDB, "api", {
    metadata: { name: "api", namespace: "app" },
    spec: { selector: { matchLabels: labels } },
  });
  const hpa = resource(k8s.HPA, "api", {
    metadata: { name: "api", namespace: "app" },
    spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "api" } },
  });
  const deny = resource(k8s.NETWORK_POLICY, "deny", {
    metadata: { name: "deny", namespace: "app" },
    spec: { podSelector: {}, policyTypes: ["Ingress"] },
  });
  const rules = (families: Array<[string, string]>) =>
    resource(k8s.PROMETHEUS_RULE, "alerts", {
      metadata: { name: "alerts", namespace: "app" },
      spec: {
        groups: [
          {
            name: "api",
            rules: families.map(([family, severity]) => ({
              alert: family,
              expr: "1",
              labels: { service: "api", family, severity },
            })),
          },
        ],
      },
    });
  const all: Array<[string, string]> = [
    ["http-error-rate", "warning"],
    ["http-error-rate", "critical"],
    ["response-time-p95", "warning"],
    ["response-time-p95", "critical"],
    ["cpu", "warning"],
    ["cpu", "critical"],
    ["memory", "warning"],
    ["memory", "critical"],
    ["unavailable-replicas", "warning"],
    ["unavailable-replicas", "critical"],
    ["rollback-error-rate", "critical"],
  ];

  test("k8s-deployment-pdb-and-hpa passes with both, reports each missing", async () => {
    expect(await stackViolations(k8s.k8sDisruptionAndScaling, [d, pdb, hpa])).toEqual([]);
    expect(await stackViolations(k8s.k8sDisruptionAndScaling, [d])).toEqual([
      'api: Deployment "api": PodDisruptionBudget is not set; required: one selecting its pods. Fix: declare a PodDisruptionBudget (maxUnavailable: 1) with the Deployment\'s selector.',
      'api: Deployment "api": HorizontalPodAutoscaler is not set; required: one targeting it. Fix: declare an autoscaling/v2 HPA with scaleTargetRef to the Deployment.',
    ]);
  });

  test("k8s-namespace-network-policy passes with a default deny, reports an allow-only namespace", async () => {
    expect(await stackViolations(k8s.k8sNetworkPolicy, [d, deny])).toEqual([]);
    const allowAll = resource(k8s.NETWORK_POLICY, "allow", {
      metadata: { name: "allow", namespace: "app" },
      spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{}] },
    });
    expect(await stackViolations(k8s.k8sNetworkPolicy, [d, allowAll])).toEqual([
      'api: Deployment "api": namespace "app" default-deny NetworkPolicy is not set; required: podSelector {} with policyTypes [Ingress]. Fix: declare one in the namespace.',
    ]);
  });

  test("k8s-namespace-egress-policy passes with a default deny and bounded allows, reports an open namespace", async () => {
    const denyEgress = resource(k8s.NETWORK_POLICY, "deny-egress", {
      metadata: { name: "deny-egress", namespace: "app" },
      spec: { podSelector: {}, policyTypes: ["Egress"] },
    });
    const allowHttps = resource(k8s.NETWORK_POLICY, "https", {
      metadata: { name: "https", namespace: "app" },
      spec: { podSelector: { matchLabels: labels }, policyTypes: ["Egress"], egress: [{ ports: [{ port: 443 }] }] },
    });
    expect(await stackViolations(k8s.k8sEgressPolicy, [d, deny, denyEgress, allowHttps])).toEqual([]);
    // The ingress default deny does not restrict egress.
    expect(await stackViolations(k8s.k8sEgressPolicy, [d, deny])).toEqual([
      'api: Deployment "api": namespace "app" default-deny egress NetworkPolicy is not set; required: podSelector {} with policyTypes [Egress]. Fix: declare one in the namespace.',
    ]);
    const openAll = resource(k8s.NETWORK_POLICY, "open", {
      metadata: { name: "open", namespace: "app" },
      spec: { podSelector: { matchLabels: labels }, policyTypes: ["Egress"], egress: [{}] },
    });
    expect(await stackViolations(k8s.k8sEgressPolicy, [d, denyEgress, openAll])).toEqual([
      'open: NetworkPolicy "open": an egress rule allows every destination on every port; required: a rule names its destinations (to) or its ports. Fix: list the ports (e.g. 443) or the peers it may reach.',
    ]);
  });

  test("k8s-alert-coverage passes every family at its severities, reports what is missing", async () => {
    expect(await stackViolations(k8s.k8sAlertCoverage, [d, rules(all)])).toEqual([]);
    expect(
      await stackViolations(k8s.k8sAlertCoverage, [
        d,
        rules(all.filter(([f, s]) => !(f === "cpu" && s === "critical"))),
      ]),
    ).toEqual([
      'api: Deployment "api": alert rules ["cpu critical"] are not set; required: every family at its severities. Fix: declare them in a PrometheusRule in the namespace, labelled service: api.',
    ]);
  });
});

describe("the container rules read every workload's pod template (R-local-postgres)", () => {
  const template = deployment().spec.template;
  const statefulSet = (change: Record<string, unknown> = {}) => ({
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "postgres", namespace: "app" },
    spec: { ...deployment().spec, template: { ...template, spec: { containers: [{ ...container, ...change }] } } },
  });
  const cronJob = (change: Record<string, unknown> = {}) => ({
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name: "backup", namespace: "app" },
    spec: {
      schedule: "0 2 * * *",
      jobTemplate: { spec: { template: { spec: { containers: [{ ...container, ...change }] } } } },
    },
  });

  test("a StatefulSet's and a CronJob's containers are checked like a Deployment's", async () => {
    expect(await violations(k8s.k8sReadOnlyRoot, k8s.STATEFUL_SET, statefulSet(), { name: "postgres" })).toEqual([]);
    expect(
      await violations(k8s.k8sReadOnlyRoot, k8s.STATEFUL_SET, statefulSet({ securityContext: {} }), {
        name: "postgres",
      }),
    ).toEqual([
      'StatefulSet "postgres": container "api" readOnlyRootFilesystem is not set; required: true. Fix: set it and mount an emptyDir at /tmp.',
    ]);
    expect(
      await violations(k8s.k8sNonRoot, k8s.CRON_JOB, cronJob({ securityContext: {} }), { name: "backup" }),
    ).toEqual([
      'CronJob "backup": container "api" runAsNonRoot is not set; required: true. Fix: set securityContext.runAsNonRoot: true and a runAsUser.',
    ]);
    expect(
      await violations(
        k8s.k8sImagePinned,
        k8s.JOB,
        { spec: { template: cronJob().spec.jobTemplate.spec.template } },
        {
          name: "bucket",
        },
      ),
    ).toEqual([]);
  });

  test("k8s-probes exempts Jobs and CronJobs by kind, and no other workload", async () => {
    const unprobed = { livenessProbe: undefined, readinessProbe: undefined };
    expect(await violations(k8s.k8sProbes, k8s.CRON_JOB, cronJob(unprobed), { name: "backup" })).toEqual([]);
    expect(k8s.PROBE_EXEMPT).toEqual([k8s.JOB, k8s.CRON_JOB]);
    expect(await violations(k8s.k8sProbes, k8s.STATEFUL_SET, statefulSet(unprobed), { name: "postgres" })).toEqual([
      'StatefulSet "postgres": container "api" livenessProbe is not set; required: a probe. Fix: set livenessProbe: { httpGet: ... }.',
      'StatefulSet "postgres": container "api" readinessProbe is not set; required: a probe. Fix: set readinessProbe: { httpGet: ... }.',
    ]);
  });
});
