import { imageRepositories, kubernetesImages } from "./imageRepositories";
import { Deployment, type IDeployment } from "kubernetes-models/apps/v1/Deployment";
import { CronJob, type ICronJob } from "kubernetes-models/batch/v1/CronJob";
import { Job, type IJob } from "kubernetes-models/batch/v1/Job";
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
import { backupContract } from "../helpers/backupContract";
import { idOfOne, one, ofType, policyOf, sharedIds, type RecordedResource } from "../helpers/mocks";
import { type Plan, planStack } from "../helpers/stack";
import { checkPlan, stackConfigFile } from "../../tools/policy/cli";

let plan: Plan;
beforeAll(async () => {
  plan = await planStack("staging-k8s");
});

const NS = "opsbook-staging";
const common = { "app.kubernetes.io/part-of": "opsbook", "app.kubernetes.io/instance": "opsbook-staging-k8s" };
const apiLabels = { ...common, "app.kubernetes.io/name": "api" };

/** A recorded object's inputs, typed by kubernetes-models' interface (a misspelled field fails tsc). */
function manifest<T>(type: string, name: string): T {
  return one(plan.resources, type, name).inputs as T;
}

/** Every Kubernetes object of the stack, with the kubernetes-models class that validates its kind. */
const VALIDATORS: Record<string, (o: unknown) => { validate(): void }> = {
  "apps/v1 Deployment": (o) => new Deployment(o as IDeployment),
  "batch/v1 CronJob": (o) => new CronJob(o as ICronJob),
  "batch/v1 Job": (o) => new Job(o as IJob),
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

const kubernetesObjects = (): RecordedResource[] =>
  plan.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"));

describe("staging-k8s stack, built from Pulumi.staging-k8s.yaml", () => {
  describe("image repositories", () => imageRepositories(() => plan, "staging-k8s", false));
  describe("images on the cluster", () => kubernetesImages(() => plan));
  test("gives every resource a mock id of its own, so that no reference can name two resources", () => {
    expect(sharedIds(plan.resources)).toEqual([]);
  });

  test("declares no ECS resource at all, no load balancer, target group or ECS alarm", () => {
    const types = new Set(plan.resources.map((r) => r.type));
    // The backup job runs as CronJobs on the cluster (R-backup-job-k8s): nothing of ECS is left.
    expect([...types].filter((t) => t.startsWith("aws:ecs"))).toEqual([]);
    for (const t of [
      "aws:scheduler/schedule:Schedule",
      "aws:lb/loadBalancer:LoadBalancer",
      "aws:lb/targetGroup:TargetGroup",
      "aws:lb/listener:Listener",
      "aws:appautoscaling/target:Target",
      // No ECS service deploys here, so no deployment failure page (R-rollback-page is the ECS platform's).
      "aws:cloudwatch/eventRule:EventRule",
      "aws:sns/topicPolicy:TopicPolicy",
    ])
      expect({ type: t, declared: types.has(t) }).toEqual({ type: t, declared: false });
    const alarms = ofType(plan.resources, "aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => a.inputs.name as string);
    expect(alarms.filter((n) => /AWS\/ECS|-api-|-web-|load-balancer|certificate/.test(n))).toEqual([]);
    // The data tier, its alarms and the backups stay on AWS.
    expect(alarms).toEqual(expect.arrayContaining(["opsbook-staging-k8s-database-cpu-warning"]));
    expect(types.has("aws:rds/instance:Instance")).toBe(true);
    expect(types.has("kubernetes:batch/v1:CronJob")).toBe(true);
  });

  test("opsbook deploy finds no ECS service or migration task to verify, and every critical CloudWatch alarm", () => {
    expect(plan.outputs.services).toEqual({});
    expect(plan.outputs.migration).toBeUndefined();
    const critical = ofType(plan.resources, "aws:cloudwatch/metricAlarm:MetricAlarm")
      .filter((a) => (a.inputs.tags as Record<string, string>).severity === "critical")
      .map((a) => a.inputs.name as string);
    expect([...(plan.outputs.criticalAlarmNames as string[])].sort()).toEqual(critical.sort());
  });

  test("declares every object with its apiVersion and kind, each valid by the kubernetes-models schemas", () => {
    const kinds = kubernetesObjects().map((r) => `${String(r.inputs.apiVersion)} ${String(r.inputs.kind)}`);
    expect([...new Set(kinds)].sort()).toEqual(Object.keys(VALIDATORS).sort());
    for (const r of kubernetesObjects()) {
      const validator = VALIDATORS[`${String(r.inputs.apiVersion)} ${String(r.inputs.kind)}`]!;
      // The plan shows a Secret's whole stringData as "[secret]" (the SDK marks the map secret):
      // the schema sees the object without it, and the masking is asserted below.
      const { stringData: _masked, ...visible } = r.inputs;
      expect(() => validator(r.inputs.kind === "Secret" ? visible : r.inputs).validate()).not.toThrow();
    }
  });

  test("lists every Kubernetes object in the plan with its apiVersion and kind, in the namespace", () => {
    for (const r of kubernetesObjects()) {
      const meta = r.inputs.metadata as { name: string; namespace?: string };
      expect(meta.name).toEqual(expect.any(String));
      if (r.inputs.kind !== "Namespace")
        expect({ name: meta.name, namespace: meta.namespace }).toEqual({ name: meta.name, namespace: NS });
    }
    // Namespace, default deny in and out, Ingress, PrometheusRule, 8 per service, the backup job's 5,
    // the database roles' Job with its two Secrets, and the maintenance job's 2 CronJobs, Secret and
    // service account.
    expect(kubernetesObjects()).toHaveLength(1 + 2 + 1 + 1 + 2 * 8 + 5 + 3 + 4);
  });

  test("the api Deployment: runbook probes, resources, rolling without losing capacity, locked-down container", () => {
    const d = manifest<IDeployment>("kubernetes:apps/v1:Deployment", "api");
    expect(d.metadata).toEqual({ name: "api", namespace: NS, labels: apiLabels });
    const { template, ...spec } = d.spec!;
    expect(spec).toEqual({
      replicas: 3,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 120,
      selector: { matchLabels: { "app.kubernetes.io/name": "api" } },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: "25%" } },
    });
    expect(template.metadata).toEqual({ labels: apiLabels });
    const { containers, ...pod } = template.spec!;
    expect(pod).toEqual({
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 30,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 10001,
        runAsGroup: 10001,
        fsGroup: 10001,
        seccompProfile: { type: "RuntimeDefault" },
      },
      volumes: [{ name: "tmp", emptyDir: { sizeLimit: "256Mi" } }],
    });
    expect(containers).toHaveLength(1);
    const { env, ...container } = containers[0]!;
    expect(container).toEqual({
      name: "api",
      image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/opsbook/staging-k8s/api:1.0.0",
      imagePullPolicy: "IfNotPresent",
      ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }],
      resources: { limits: { cpu: "500m", memory: "1024Mi" }, requests: { cpu: "250m", memory: "512Mi" } },
      livenessProbe: {
        httpGet: { path: "/health", port: "http", scheme: "HTTP" },
        initialDelaySeconds: 30,
        periodSeconds: 10,
        timeoutSeconds: 3,
        failureThreshold: 3,
        successThreshold: 1,
      },
      readinessProbe: {
        httpGet: { path: "/health", port: "http", scheme: "HTTP" },
        initialDelaySeconds: 5,
        periodSeconds: 5,
        timeoutSeconds: 3,
        failureThreshold: 3,
        successThreshold: 1,
      },
      securityContext: {
        runAsNonRoot: true,
        privileged: false,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
      },
      volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
    });
    // The same variables as the ECS services: settings in plain values, credentials only from the Secret.
    const plain = Object.fromEntries(env!.filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
    expect(plain).toEqual({
      APP_ROTATION_LABEL: "initial",
      DB_HOST: "opsbook-staging-k8s.mock.eu-west-1.rds.amazonaws.com",
      DB_PORT: "5432",
      DB_NAME: "app",
      DB_SSLMODE: "require",
      // The runbook's pool per task (the stack file keeps the defaults).
      DB_POOL_MIN: "5",
      DB_POOL_MAX: "20",
      DB_ROLE_ROTATION: "0",
      REDIS_HOST: "master.opsbook-staging-k8s.mock.cache.amazonaws.com",
      REDIS_PORT: "6379",
      REDIS_TLS: "true",
    });
    const fromSecret = env!.filter((e) => e.value === undefined);
    expect(fromSecret).toEqual(
      [
        "JWT_SECRET",
        "JWT_REFRESH_SECRET",
        "SESSION_SECRET",
        "ENCRYPTION_KEY",
        "DB_USER",
        "DB_PASSWORD",
        "DATABASE_URL",
        "REDIS_AUTH_TOKEN",
        "REDIS_URL",
      ].map((key) => ({ name: key, valueFrom: { secretKeyRef: { name: "api-env", key } } })),
    );
  });

  test("the HPA keeps replicas between the service's counts; Pulumi leaves the replica count to it", () => {
    expect(one(plan.resources, "kubernetes:apps/v1:Deployment", "api").ignoreChanges).toEqual(["spec.replicas"]);
    const hpa = manifest<IHorizontalPodAutoscaler>("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "web");
    expect(hpa.spec).toEqual({
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
      minReplicas: 2,
      maxReplicas: 4,
      metrics: [
        { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 60 } } },
      ],
    });
  });

  test("the Secret holds the credentials as secret values, never in the plan in clear", () => {
    const s = manifest<ISecret>("kubernetes:core/v1:Secret", "api-env");
    expect(s).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      type: "Opaque",
      metadata: { name: "api-env", namespace: NS, labels: apiLabels },
      stringData: "[secret]",
    });
  });

  test("Service, PDB, NetworkPolicies and ServiceMonitor", () => {
    expect(manifest<IService>("kubernetes:core/v1:Service", "api").spec).toEqual({
      type: "ClusterIP",
      selector: { "app.kubernetes.io/name": "api" },
      ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }],
    });
    expect(manifest<IPodDisruptionBudget>("kubernetes:policy/v1:PodDisruptionBudget", "api").spec).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: { "app.kubernetes.io/name": "api" } },
    });
    expect(
      manifest<INetworkPolicy>("kubernetes:networking.k8s.io/v1:NetworkPolicy", "staging-k8s-default-deny"),
    ).toMatchObject({
      metadata: { name: "default-deny-ingress", namespace: NS },
      spec: { podSelector: {}, policyTypes: ["Ingress"] },
    });
    expect(manifest<INetworkPolicy>("kubernetes:networking.k8s.io/v1:NetworkPolicy", "api-allow-ingress").spec).toEqual(
      {
        podSelector: { matchLabels: { "app.kubernetes.io/name": "api" } },
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } },
                podSelector: { matchLabels: { "app.kubernetes.io/name": "ingress-nginx" } },
              },
            ],
            ports: [{ protocol: "TCP", port: "http" }],
          },
          {
            from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }],
            ports: [{ protocol: "TCP", port: "http" }],
          },
        ],
      },
    );
    expect(manifest<IServiceMonitor>("kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "api")).toEqual({
      apiVersion: "monitoring.coreos.com/v1",
      kind: "ServiceMonitor",
      metadata: { name: "api", namespace: NS, labels: { ...apiLabels, release: "kube-prometheus-stack" } },
      spec: {
        selector: { matchLabels: { "app.kubernetes.io/name": "api" } },
        namespaceSelector: { matchNames: [NS] },
        endpoints: [{ port: "http", path: "/metrics", interval: "30s", scheme: "http" }],
      },
    });
  });

  test("egress: denied by default, then DNS, the VPC's data tier on its ports and HTTPS only (R-k8s-network-policy)", () => {
    expect(
      manifest<INetworkPolicy>("kubernetes:networking.k8s.io/v1:NetworkPolicy", "staging-k8s-default-deny-egress"),
    ).toEqual({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "default-deny-egress", namespace: NS, labels: common },
      spec: { podSelector: {}, policyTypes: ["Egress"] },
    });
    const dns = {
      to: [
        {
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
          podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
        },
      ],
      ports: [
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
      ],
    };
    const https = { ports: [{ protocol: "TCP", port: 443 }] };
    const vpc = [{ ipBlock: { cidr: "10.30.0.0/16" } }];
    for (const service of ["api", "web"]) {
      const policy = manifest<INetworkPolicy>(
        "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        `${service}-allow-egress`,
      );
      expect(policy.metadata).toEqual({
        name: `${service}-allow-egress`,
        namespace: NS,
        labels: { ...common, "app.kubernetes.io/name": service },
      });
      expect(policy.spec).toEqual({
        podSelector: { matchLabels: { "app.kubernetes.io/name": service } },
        policyTypes: ["Egress"],
        egress: [
          dns,
          {
            to: vpc,
            ports: [
              { protocol: "TCP", port: 5432 },
              { protocol: "TCP", port: 6379 },
            ],
          },
          https,
        ],
      });
    }
    // The backup job reaches the database, not the cache.
    const job = manifest<INetworkPolicy>(
      "kubernetes:networking.k8s.io/v1:NetworkPolicy",
      "staging-k8s-backup-allow-egress",
    );
    expect(job.metadata!.name).toBe("opsbook-backup-allow-egress");
    expect(job.spec).toEqual({
      podSelector: { matchLabels: { "app.kubernetes.io/name": "opsbook-backup" } },
      policyTypes: ["Egress"],
      egress: [dns, { to: vpc, ports: [{ protocol: "TCP", port: 5432 }] }, https],
    });
    // Every pod of the namespace is selected by an allow-egress policy: none is cut off by mistake.
    const selected = ofType(plan.resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy")
      .map((r) => r.inputs.spec as { podSelector: { matchLabels?: Record<string, string> }; policyTypes: string[] })
      .filter((p) => p.policyTypes.includes("Egress") && p.podSelector.matchLabels)
      .map((p) => p.podSelector.matchLabels!["app.kubernetes.io/name"]);
    const podNames = [
      ...ofType(plan.resources, "kubernetes:apps/v1:Deployment").map(
        (d) => (d.inputs as unknown as IDeployment).spec!.template.metadata!.labels!["app.kubernetes.io/name"],
      ),
      ...ofType(plan.resources, "kubernetes:batch/v1:CronJob").map(
        (c) =>
          (c.inputs as unknown as ICronJob).spec!.jobTemplate.spec!.template.metadata!.labels![
            "app.kubernetes.io/name"
          ],
      ),
    ];
    expect(selected.sort()).toEqual([...new Set(podNames)].sort());
    expect(selected.sort()).toEqual(["api", "opsbook-backup", "web"]);
  });

  test("the Ingress routes both services on the host over TLS from cert-manager, redirecting HTTP", () => {
    const ingress = manifest<IIngress>("kubernetes:networking.k8s.io/v1:Ingress", "staging-k8s");
    expect(ingress.metadata).toEqual({
      name: "opsbook",
      namespace: NS,
      labels: common,
      annotations: {
        "nginx.ingress.kubernetes.io/ssl-redirect": "true",
        "nginx.ingress.kubernetes.io/force-ssl-redirect": "true",
        "cert-manager.io/cluster-issuer": "letsencrypt",
      },
    });
    expect(ingress.spec).toEqual({
      ingressClassName: "nginx",
      tls: [{ hosts: ["staging.example.com"], secretName: "opsbook-staging-k8s-tls" }],
      rules: [
        {
          host: "staging.example.com",
          http: {
            paths: [
              { path: "/api", pathType: "Prefix", backend: { service: { name: "api", port: { name: "http" } } } },
              { path: "/", pathType: "Prefix", backend: { service: { name: "web", port: { name: "http" } } } },
            ],
          },
        },
      ],
    });
  });

  test("the namespace enforces the restricted Pod Security Standard", () => {
    expect(manifest<INamespace>("kubernetes:core/v1:Namespace", "staging-k8s").metadata).toEqual({
      name: NS,
      labels: {
        ...common,
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
      },
    });
  });

  test("the provider uses the ambient kubeconfig and the namespace; the objects go through it", () => {
    const provider = one(plan.resources, "pulumi:providers:kubernetes", "staging-k8s");
    expect(provider.inputs).toMatchObject({ namespace: NS });
    expect(provider.inputs.kubeconfig).toBeUndefined();
  });

  test("the database roles are created by a Job on the cluster, with the master credentials from a Secret only it reads", () => {
    const job = manifest<IJob>("kubernetes:batch/v1:Job", "opsbook-staging-k8s-db-roles");
    const pod = job.spec!.template;
    expect(pod.metadata!.annotations).toEqual({ "opsbook/role-rotation": "app=0,migrate=0,backup=0,maintenance=0" });
    const container = pod.spec!.containers[0]!;
    expect(container.args).toEqual(["bootstrap-roles"]);
    expect(pod.spec!.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    // Credentials only through secretKeyRef, never as plain values.
    const plain = (container.env ?? []).filter((e) => e.value !== undefined).map((e) => e.name);
    expect(plain).toEqual(["PGHOST", "PGPORT", "PGDATABASE", "PGSSLMODE"]);
    const fromSecrets = (container.env ?? []).flatMap((e) =>
      e.valueFrom?.secretKeyRef ? [[e.name, e.valueFrom.secretKeyRef.name]] : [],
    );
    expect(fromSecrets).toEqual([
      ["PGUSER", "opsbook-db-roles-master"],
      ["PGPASSWORD", "opsbook-db-roles-master"],
      // Both login roles of every purpose (R-db-role-rotation).
      ...["APP", "MIGRATE", "BACKUP", "MAINTENANCE"].flatMap((r) =>
        ["A", "B"].map((slot) => [`OPSBOOK_ROLE_${r}_${slot}_PASSWORD`, "opsbook-db-roles-passwords"]),
      ),
    ]);
    // The backup job's egress policy (DNS, PostgreSQL, HTTPS) selects it.
    expect(pod.metadata!.labels).toMatchObject({ "app.kubernetes.io/name": "opsbook-backup" });
  });

  test("the Secrets built from Secrets Manager wait for the versions they read, so a first up finds them", () => {
    const names = (urns: string[]) =>
      plan.resources
        .filter((r) => urns.includes(r.urn) && r.type === "aws:secretsmanager/secretVersion:SecretVersion")
        .map((r) => r.name);
    const dependsOn = (name: string) =>
      names(one(plan.resources, "kubernetes:core/v1:Secret", name).dependencies).sort();
    expect(dependsOn("api-env")).toEqual(
      [
        "staging-k8s-db-role-app-a",
        "staging-k8s-encryption-key",
        "staging-k8s-jwt-refresh-secret",
        "staging-k8s-jwt-secret",
        "staging-k8s-redis-auth-token",
        "staging-k8s-redis-url",
        "staging-k8s-session-secret",
      ].sort(),
    );
    expect(dependsOn("web-env")).toEqual(["staging-k8s-session-secret"]);
    expect(dependsOn("staging-k8s-backup-env")).toEqual(["staging-k8s-db-role-backup-a"]);
  });

  test("the database and the cache admit the cluster's security group on their ports only", () => {
    const rules = ofType(plan.resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter(
      (r) => r.inputs.referencedSecurityGroupId === "sg-0123456789abcdef0",
    );
    expect(rules.map((r) => [r.name, r.inputs.fromPort, r.inputs.toPort, r.inputs.ipProtocol])).toEqual([
      ["staging-k8s-postgres-from-cluster", 5432, 5432, "tcp"],
      ["staging-k8s-redis-from-cluster", 6379, 6379, "tcp"],
      // The restore drill's own instance admits the drill's pods (R-backup-restore-test).
      ["staging-k8s-restore-drill-db-from-pods", 5432, 5432, "tcp"],
    ]);
  });

  test("the PrometheusRule carries the selector labels Prometheus picks rules by", () => {
    const rule = manifest<IPrometheusRule>("kubernetes:monitoring.coreos.com/v1:PrometheusRule", "staging-k8s-alerts");
    expect(rule.metadata).toEqual({
      name: "opsbook-alerts",
      namespace: NS,
      labels: { ...common, release: "kube-prometheus-stack" },
    });
    expect(rule.spec.groups!.map((g) => [g.name, g.rules!.length])).toEqual([
      ["opsbook-staging-k8s-api", 11],
      ["opsbook-staging-k8s-web", 11],
    ]);
    // The runbook's thresholds, from the same table as the CloudWatch alarms.
    const api = rule.spec.groups![0]!.rules!;
    expect(
      api.map((r) => `${r.labels!.family} ${r.labels!.severity} ${String(r.expr).split(" > ").pop()} ${r.for}`),
    ).toEqual([
      "http-error-rate warning 1 5m",
      "http-error-rate critical 5 5m",
      "response-time-p95 warning 500 5m",
      "response-time-p95 critical 2000 5m",
      "cpu warning 70 5m",
      "cpu critical 90 5m",
      "memory warning 80 5m",
      "memory critical 95 5m",
      "unavailable-replicas warning 0 1m",
      "unavailable-replicas critical 0 2m",
      "rollback-error-rate critical 10 1m",
    ]);
  });

  test("the policy pack, Kubernetes rules included, passes it with no mandatory violation", async () => {
    const report = await checkPlan(plan, { configFile: stackConfigFile("staging-k8s") });
    expect(report.diagnostics.filter((d) => d.enforcementLevel === "mandatory")).toEqual([]);
    expect([...new Set(report.diagnostics.map((d) => d.policyName))].sort()).toEqual([
      "elasticache-failover",
      "rds-deletion-protection",
      "rds-multi-az",
    ]);
  });

  describe("the backup job's CronJobs keep the contract with the job", () => backupContract(() => plan.resources));
});

describe("staging-k8s backup job on the cluster (R-backup-job-k8s)", () => {
  const jobLabels = { ...common, "app.kubernetes.io/name": "opsbook-backup" };

  test("the nightly dump at 02:00 and the Sunday drill at 06:00 in the stack's zone, one run at a time", () => {
    for (const [name, schedule, job] of [
      ["staging-k8s-backup", "0 2 * * *", "backup"],
      ["staging-k8s-restore-drill", "0 6 * * 0", "restore-drill"],
    ] as const) {
      const cj = manifest<ICronJob>("kubernetes:batch/v1:CronJob", name);
      expect(cj.metadata).toEqual({ name: `opsbook-${job}`, namespace: NS, labels: jobLabels });
      const { jobTemplate, ...spec } = cj.spec!;
      expect(spec).toEqual({
        schedule,
        timeZone: "Europe/London",
        concurrencyPolicy: "Forbid",
        startingDeadlineSeconds: 3600,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
      });
      const podLabels = { ...jobLabels, "app.kubernetes.io/component": job };
      const { template, ...jobSpec } = jobTemplate.spec!;
      expect(jobTemplate.metadata).toEqual({ labels: podLabels });
      // Two retries as the ECS schedule's retry policy; stopped after backup.maxRunMinutes (120).
      expect(jobSpec).toEqual({ backoffLimit: 2, activeDeadlineSeconds: 7200 });
      expect(template.metadata).toEqual({ labels: podLabels });
      const { containers, ...pod } = template.spec!;
      expect(pod).toEqual({
        restartPolicy: "Never",
        serviceAccountName: "opsbook-backup",
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        securityContext: {
          runAsNonRoot: true,
          runAsUser: 10001,
          runAsGroup: 10001,
          fsGroup: 10001,
          seccompProfile: { type: "RuntimeDefault" },
        },
        volumes: [{ name: "tmp", emptyDir: { sizeLimit: "256Mi" } }],
      });
      const { env, ...container } = containers[0]!;
      expect(containers).toHaveLength(1);
      expect(container).toEqual({
        name: job,
        image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/opsbook/staging-k8s/backup-job:1.0.0",
        imagePullPolicy: "IfNotPresent",
        args: [job],
        // The Fargate task's 512 CPU units and 1024 MiB as limits, requests at requestPercentOfLimits.
        resources: { limits: { cpu: "500m", memory: "1024Mi" }, requests: { cpu: "250m", memory: "512Mi" } },
        securityContext: {
          runAsNonRoot: true,
          privileged: false,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ["ALL"] },
          seccompProfile: { type: "RuntimeDefault" },
        },
        volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
      });
      expect(env).toEqual([
        { name: "PGHOST", value: "opsbook-staging-k8s.mock.eu-west-1.rds.amazonaws.com" },
        { name: "PGPORT", value: "5432" },
        { name: "PGDATABASE", value: "app" },
        { name: "PGSSLMODE", value: "verify-full" },
        { name: "BACKUP_BUCKET", value: idOfOne(plan.resources, "aws:s3/bucket:Bucket", "staging-k8s") },
        { name: "BACKUP_PREFIX", value: "postgres" },
        { name: "AWS_REGION", value: "eu-west-1" },
        { name: "METRICS_NAMESPACE", value: "Opsbook/Backup/staging-k8s" },
        // The drill's own instance (R-backup-restore-test).
        { name: "DRILL_SOURCE_INSTANCE", value: "opsbook-staging-k8s" },
        { name: "DRILL_INSTANCE_PREFIX", value: "opsbook-staging-k8s-drill" },
        { name: "DRILL_INSTANCE_CLASS", value: "db.t4g.medium" },
        {
          name: "DRILL_SECURITY_GROUP_ID",
          value: idOfOne(plan.resources, "aws:ec2/securityGroup:SecurityGroup", "staging-k8s-restore-drill-db"),
        },
        { name: "DRILL_RTO_SECONDS", value: "14400" },
        ...["PGUSER", "PGPASSWORD"].map((key) => ({
          name: key,
          valueFrom: { secretKeyRef: { name: "opsbook-backup-env", key } },
        })),
      ]);
    }
  });

  test("the database credentials come from a Secret, masked in the plan", () => {
    expect(manifest<ISecret>("kubernetes:core/v1:Secret", "staging-k8s-backup-env")).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      type: "Opaque",
      metadata: { name: "opsbook-backup-env", namespace: NS, labels: jobLabels },
      stringData: "[secret]",
    });
  });

  test("the service account carries the job's IAM role, which only its tokens from the cluster's OIDC provider assume", () => {
    const sa = manifest<IServiceAccount>("kubernetes:core/v1:ServiceAccount", "staging-k8s-backup");
    expect(sa).toEqual({
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: {
        name: "opsbook-backup",
        namespace: NS,
        labels: jobLabels,
        annotations: { "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/staging-k8s-task" },
      },
      automountServiceAccountToken: false,
    });
    const role = one(plan.resources, "aws:iam/role:Role", "staging-k8s-task");
    const issuer = "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";
    expect(policyOf(role, "assumeRolePolicy").Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { Federated: `arn:aws:iam::123456789012:oidc-provider/${issuer}` },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: {
            [`${issuer}:aud`]: "sts.amazonaws.com",
            [`${issuer}:sub`]: `system:serviceaccount:${NS}:opsbook-backup`,
          },
        },
      },
    ]);
  });

  test("the role has the ECS task role's least-privilege policy, and is the only backup role", async () => {
    const ecs = await planStack("staging");
    // The same policy but for the stack's name and its bucket's (whose mock id differs per stack).
    const statements = (p: Plan, stack: string) =>
      JSON.stringify(policyOf(one(p.resources, "aws:iam/rolePolicy:RolePolicy", `${stack}-task`)).Statement)
        .replaceAll(idOfOne(p.resources, "aws:s3/bucket:Bucket", stack), "<bucket>")
        .replaceAll(stack, "<stack>");
    expect(statements(plan, "staging-k8s")).toEqual(statements(ecs, "staging"));
    expect(statements(plan, "staging-k8s")).toContain("s3:PutObject");
    // No execution role, no scheduler role: nothing on the cluster's side needs them.
    const backupRoles = ofType(plan.resources, "aws:iam/role:Role").filter((r) => r.parent?.includes("Backups"));
    expect(backupRoles.map((r) => r.name)).toEqual(["staging-k8s-task"]);
  });

  test("k8s-no-host-namespaces fails the plan once the api pods share the node's network", async () => {
    const broken = JSON.parse(JSON.stringify(plan)) as Plan;
    const api = broken.resources.find((r) => r.type === "kubernetes:apps/v1:Deployment")!;
    (api.inputs as { spec: { template: { spec: Record<string, unknown> } } }).spec.template.spec.hostNetwork = true;
    const report = await checkPlan(broken, { configFile: stackConfigFile("staging-k8s") });
    expect(
      report.diagnostics.filter((d) => d.enforcementLevel === "mandatory").map((d) => [d.policyName, d.resource?.name]),
    ).toEqual([["k8s-no-host-namespaces", api.name]]);
  });
});

test("the Deployments of the services that use the database wait for the roles' bootstrap Job (R-db-role-rotation)", () => {
  // A new or rotated login must exist in PostgreSQL before pods start with it; web uses no database.
  const [job] = ofType(plan.resources, "kubernetes:batch/v1:Job").filter((r) => r.name.endsWith("-db-roles"));
  expect(job?.name).toBe("opsbook-staging-k8s-db-roles");
  const waits = (name: string) =>
    one(plan.resources, "kubernetes:apps/v1:Deployment", name).dependencies.includes(job!.urn);
  expect([waits("api"), waits("web")]).toEqual([true, false]);
});
