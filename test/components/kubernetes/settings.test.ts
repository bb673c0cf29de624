import { computeSettings, kubernetesSettings } from "../../../components/kubernetes/settings";
import { parseConfig } from "../../../stacks/config";
import { settingsProblems } from "../../helpers/settings";

const service = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  image: "registry.example.com/app",
  tag: "1.0.0",
  port: 8080,
  ...extra,
});

/** A Kubernetes stack's raw config, as Pulumi hands it to the program. */
function raw(kubernetes: Record<string, unknown>, services: unknown[] = [service("api")]): Record<string, string> {
  return {
    "aws:region": "eu-west-1",
    "opsbook:environment": "demo",
    "opsbook:compute": JSON.stringify({ platform: "kubernetes" }),
    "opsbook:kubernetes": JSON.stringify(kubernetes),
    "opsbook:services": JSON.stringify(services),
    "opsbook:backup": JSON.stringify({ image: "registry.example.com/backup", tag: "1.0.0" }),
  };
}

const complete = {
  clientSecurityGroupId: "sg-0123456789abcdef0",
  oidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE",
  host: "app.example.com",
  tls: { secretName: "app-tls" },
  runbookUrl: "https://git.example.com/opsbook/docs/runbooks.md",
};

function problems(input: Record<string, string>): string[] {
  try {
    parseConfig("demo", input);
    return [];
  } catch (e) {
    return (e as { problems: Array<{ key: string; allowed: string }> }).problems.map((p) => `${p.key}: ${p.allowed}`);
  }
}

describe("compute and kubernetes settings", () => {
  test("the platform is ECS unless a stack says otherwise", () => {
    expect(computeSettings.parse(undefined)).toEqual({ platform: "ecs" });
    expect(settingsProblems(computeSettings, { platform: "eks" })).toEqual(['platform: one of "ecs", "kubernetes"']);
  });

  test("defaults are the runbooks' probes and request/limit ratio, Prometheus client metric names", () => {
    expect(kubernetesSettings.parse(undefined)).toEqual({
      namespace: "opsbook",
      ingressClassName: "nginx",
      tls: {},
      ingressController: { namespace: "ingress-nginx", podLabels: { "app.kubernetes.io/name": "ingress-nginx" } },
      dns: { namespace: "kube-system", podLabels: { "k8s-app": "kube-dns" } },
      prometheus: { namespace: "monitoring", selectorLabels: { release: "kube-prometheus-stack" } },
      metrics: {
        requestsTotal: "http_requests_total",
        statusCodeLabel: "code",
        durationHistogram: "http_request_duration_seconds",
        path: "/metrics",
      },
      probes: {
        liveness: { initialDelaySeconds: 30, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 },
        readiness: { initialDelaySeconds: 5, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 3 },
      },
      requestPercentOfLimits: 50,
    });
  });

  test.each<[string, Record<string, unknown>, string[]]>([
    [
      "a probe timeout not below its period",
      { probes: { readiness: { timeoutSeconds: 5 } } },
      ["probes.readiness.timeoutSeconds: less than periodSeconds (5)"],
    ],
    [
      "a namespace that is no DNS label",
      { namespace: "Opsbook_Prod" },
      ["namespace: lower-case letters, digits and '-', at most 63 characters, starting and ending alphanumeric"],
    ],
    [
      "a bad security group id",
      { clientSecurityGroupId: "default" },
      ["clientSecurityGroupId: a security group id, e.g. sg-0123456789abcdef0"],
    ],
    [
      "a bad metric name",
      { metrics: { requestsTotal: "http-requests" } },
      ["metrics.requestsTotal: a Prometheus metric name"],
    ],
    [
      "an OIDC provider given as its issuer URL instead of its ARN",
      { oidcProviderArn: "https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE" },
      [
        "oidcProviderArn: an IAM OIDC provider ARN, e.g. arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE",
      ],
    ],
    ["an unknown key", { namespce: "x" }, [': Unrecognized key: "namespce"']],
  ])("rejects %s", (_, input, expected) => {
    expect(settingsProblems(kubernetesSettings, input)).toEqual(expected);
  });

  test("a complete Kubernetes stack parses; an ECS stack needs none of the keys", () => {
    expect(problems(raw(complete))).toEqual([]);
    expect(parseConfig("demo", raw(complete)).compute.platform).toBe("kubernetes");
  });

  test("on Kubernetes: the cluster's security group, OIDC provider, host, one TLS source and runbook URL are required", () => {
    expect(problems(raw({}))).toEqual([
      "opsbook:kubernetes.clientSecurityGroupId: the security group of the cluster's nodes, which the database and cache admit",
      "opsbook:kubernetes.oidcProviderArn: the ARN of the cluster's IAM OIDC provider, which the backup job's role trusts (R-backup-job-k8s)",
      "opsbook:kubernetes.host: the DNS name the Ingress serves, e.g. app.example.com",
      "opsbook:kubernetes.runbookUrl: the https:// address of docs/runbooks.md, for the alerts' runbook_url",
      "opsbook:kubernetes.tls: exactly one of { secretName } (an existing TLS Secret) and { clusterIssuer } (cert-manager issues it)",
    ]);
    expect(problems(raw({ ...complete, tls: { secretName: "a", clusterIssuer: "b" } }))).toEqual([
      "opsbook:kubernetes.tls: exactly one of { secretName } (an existing TLS Secret) and { clusterIssuer } (cert-manager issues it)",
    ]);
  });

  test("on Kubernetes every service has a port, at least one replica and Ingress-shaped paths", () => {
    const services = [
      service("api", { paths: ["/api/*", "/a*b"] }),
      service("web", { port: 3000 }),
      { ...service("worker", { minCount: 0, desiredCount: 0 }), port: undefined },
    ];
    expect(problems(raw(complete, services))).toEqual([
      'opsbook:services[0].paths[1]: a path, or a prefix ending in "*" (e.g. "/api/*"), on the Kubernetes platform',
      "opsbook:services[2].minCount: at least 1 on the Kubernetes platform",
      "opsbook:services[2].port: a container port on the Kubernetes platform: worker's probes and Service need one",
    ]);
  });

  test("on ECS the load balancer's domain stays required", () => {
    const ecs = { ...raw(complete), "opsbook:compute": JSON.stringify({ platform: "ecs" }) };
    expect(problems(ecs)).toEqual(["opsbook:domain: { certificateArn } or { name, hostedZoneId } on the ECS platform"]);
  });
});
