import { computeSettings, dataSettings, kubernetesSettings, urlPort } from "../../../components/kubernetes/settings";
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

describe("data settings (opsbook:data)", () => {
  /** An in-cluster stack: services and data on the cluster, no aws: key. */
  const local = (extra: Record<string, unknown> = {}, kubernetes: Record<string, unknown> = {}) => {
    const { "aws:region": _region, ...rest } = raw({
      host: "opsbook.localtest.me",
      runbookUrl: "https://git.example.com/opsbook/docs/runbooks.md",
      ...kubernetes,
    });
    return {
      ...rest,
      "opsbook:data": JSON.stringify({ platform: "kubernetes" }),
      ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, JSON.stringify(v)])),
    };
  };
  const fixes = (input: Record<string, string>): string[] => {
    try {
      parseConfig("demo", input);
      return [];
    } catch (e) {
      return (e as { problems: Array<{ key: string; fix: string }> }).problems.map((p) => `${p.key}: ${p.fix}`);
    }
  };

  test("the data tier is on AWS unless a stack says otherwise; sizes for the cluster have defaults", () => {
    expect(dataSettings.parse(undefined)).toEqual({
      platform: "aws",
      postgres: { cpu: 1024, memory: 1024, storageGb: 20 },
      redis: { cpu: 256, memory: 256, storageGb: 1 },
      objectStore: { cpu: 256, memory: 512, storageGb: 10 },
      pushgatewayUrl: "http://prometheus-pushgateway.monitoring.svc:9091",
    });
    expect(settingsProblems(dataSettings, { platform: "rds" })).toEqual(['platform: one of "aws", "kubernetes"']);
    expect(settingsProblems(dataSettings, { pushgatewayUrl: "pushgateway:9091", redis: { memory: 64 } })).toEqual([
      "redis.memory: a whole number from 128 to 65536 MiB",
      `pushgatewayUrl: ${pushgatewayAllowed}`,
    ]);
  });

  const pushgatewayAllowed =
    "an http(s):// URL of a Prometheus Pushgateway with a port from 1 to 65535 if any, e.g. http://prometheus-pushgateway.monitoring.svc:9091";

  test("a Pushgateway URL the URL parser refuses, or with port 0, is refused by key and value, not at the NetworkPolicy", () => {
    for (const url of ["http://a:99999", "http://[::1", "http://a:0"]) {
      let error: unknown;
      try {
        parseConfig("demo", local({ "opsbook:data": { platform: "kubernetes", pushgatewayUrl: url } }));
      } catch (e) {
        error = e;
      }
      expect((error as { problems: unknown[] }).problems).toEqual([
        {
          key: "opsbook:data.pushgatewayUrl",
          value: url,
          allowed: pushgatewayAllowed,
          fix: "pulumi config set --path 'opsbook:data.pushgatewayUrl' 'http://prometheus-pushgateway.monitoring.svc:9091' --stack demo",
        },
      ]);
    }
    expect(
      problems(local({ "opsbook:data": { platform: "kubernetes", pushgatewayUrl: "http://[::1]:9091" } })),
    ).toEqual([]);
  });

  test("a Pushgateway URL's port is its own, else its scheme's", () => {
    expect(
      [
        "https://push.example.com/x",
        "http://push.example.com",
        "https://push.example.com:8443",
        "http://[::1]:9091",
      ].map(urlPort),
    ).toEqual([443, 80, 8443, 9091]);
  });

  test("an in-cluster stack needs no aws: key, security group or OIDC provider, and no TLS source", () => {
    expect(problems(local())).toEqual([]);
    const config = parseConfig("demo", local());
    expect(config.data.platform).toBe("kubernetes");
    expect(config.region).toBe("");
    expect(config.network.availabilityZones).toEqual([]);
  });

  test("data on the cluster needs the services on the cluster", () => {
    const ecs = { ...local(), "opsbook:compute": JSON.stringify({ platform: "ecs" }) };
    expect(problems(ecs)).toContain(
      "opsbook:data.platform: `aws` unless `compute.platform` is `kubernetes`: the in-cluster data tier runs on the services' cluster",
    );
    expect(fixes(ecs)).toContain(
      "opsbook:data.platform: pulumi config set --path 'opsbook:data.platform' 'aws' --stack demo",
    );
  });

  test("every AWS-only key and every aws: key is refused by name, with the command that removes it", () => {
    const input = {
      ...local(
        { "opsbook:domain": { certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/abc" } },
        { clientSecurityGroupId: "sg-0123456789abcdef0" },
      ),
      "aws:region": "eu-west-1",
      "opsbook:network": JSON.stringify({ cidr: "10.9.0.0/16" }),
      "opsbook:alerts": JSON.stringify({ emails: ["oncall@example.com"] }),
      "opsbook:backup": JSON.stringify({
        image: "registry.example.com/backup",
        tag: "1.0.0",
        drRegion: "eu-central-1",
      }),
      "opsbook:postgres": JSON.stringify({ proxy: { enabled: true }, readReplicas: { count: 1 } }),
      "opsbook:databaseMaintenance": JSON.stringify({ analyzeDay: "SAT" }),
      "opsbook:registry": JSON.stringify({ keepImages: 10 }),
    };
    const refused =
      "no value when `data.platform` is `kubernetes`: it configures the AWS data tier, which this stack does not have";
    expect(problems(input).sort()).toEqual(
      [
        "aws:region: no aws: key when opsbook:data.platform is kubernetes: the stack has no AWS provider",
        `opsbook:kubernetes.clientSecurityGroupId: ${refused}`,
        `opsbook:network: ${refused}`,
        `opsbook:domain: ${refused}`,
        `opsbook:alerts: ${refused}`,
        `opsbook:backup.drRegion: ${refused}`,
        `opsbook:postgres.proxy: ${refused}`,
        `opsbook:postgres.readReplicas: ${refused}`,
        `opsbook:databaseMaintenance: ${refused}`,
        `opsbook:registry: ${refused}`,
      ].sort(),
    );
    expect(fixes(input)).toEqual(
      expect.arrayContaining([
        "aws:region: pulumi config rm 'aws:region' --stack demo",
        "opsbook:kubernetes.clientSecurityGroupId: pulumi config rm --path 'opsbook:kubernetes.clientSecurityGroupId' --stack demo",
        "opsbook:backup.drRegion: pulumi config rm --path 'opsbook:backup.drRegion' --stack demo",
        "opsbook:postgres.proxy: pulumi config rm --path 'opsbook:postgres.proxy' --stack demo",
        "opsbook:postgres.readReplicas: pulumi config rm --path 'opsbook:postgres.readReplicas' --stack demo",
        "opsbook:databaseMaintenance: pulumi config rm 'opsbook:databaseMaintenance' --stack demo",
        "opsbook:registry: pulumi config rm 'opsbook:registry' --stack demo",
      ]),
    );
  });

  test("the database maintenance tasks' defaults are no rule of an in-cluster stack, which schedules none", () => {
    // On AWS a dump from 06:00 for up to two hours meets the default ANALYZE at 06:30 and VACUUM at 07:30.
    const backup = { image: "registry.example.com/backup", tag: "1.0.0", dailyAt: "06:00" };
    expect(problems(local({ "opsbook:backup": backup }))).toEqual([]);
    expect(problems({ ...raw(complete), "opsbook:backup": JSON.stringify(backup) })).toEqual([
      expect.stringMatching(/^opsbook:databaseMaintenance\.analyzeAt: a time whose hour .* misses the nightly dump/),
      expect.stringMatching(/^opsbook:databaseMaintenance\.vacuumAt: a time whose hour .* misses the nightly dump/),
    ]);
  });

  test("a rename of DB_READ_HOST on an in-cluster stack is refused for what it is, not sent to the refused replicas key", () => {
    const renamed = service("api", { uses: ["database"], envNames: { DB_READ_HOST: "READ_DB" } });
    const input: Record<string, string> = { ...local(), "opsbook:services": JSON.stringify([renamed]) };
    expect(problems(input)).toEqual([
      "opsbook:services[0].envNames.DB_READ_HOST: no rename of DB_READ_HOST: a stack with its data on the cluster (data.platform kubernetes) has no read replicas",
    ]);
  });

  test("at most one TLS source on an in-cluster stack", () => {
    expect(problems(local({}, { tls: { secretName: "a", clusterIssuer: "b" } }))).toEqual([
      "opsbook:kubernetes.tls: at most one of { secretName } and { clusterIssuer }; neither: the stack's own CA issues the certificate",
    ]);
  });
});
