/**
 * `opsbook deploy` and `opsbook rollback` on `compute.platform: kubernetes` (R-k8s-verify): Pulumi
 * through the fake `pulumi`, the AWS data tier through aws-sdk-client-mock, and the cluster through
 * a local HTTP stand-in for the Kubernetes API server that answers with apps/v1 Deployment, v1
 * PodList and Prometheus `/api/v1/alerts` documents (reached through the API server's service proxy
 * path), requiring the kubeconfig's bearer token. The stand-in's answers depend on how many updates
 * ran, as a cluster's would.
 */
import { CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import { CreateDBSnapshotCommand, DescribeDBSnapshotsCommand, RDSClient } from "@aws-sdk/client-rds";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { ECSClient } from "@aws-sdk/client-ecs";
import { mockClient } from "aws-sdk-client-mock";
import { execFileSync } from "child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "fs";
import { createServer, type Server } from "http";
import type { AddressInfo } from "net";
import { tmpdir } from "os";
import { join } from "path";
import { awsClients } from "../../ops/aws";
import { run } from "../../ops/cli";
import type { Deployment, PodList } from "../../ops/deploy/kubernetes";
import { stackFacts } from "../../ops/deploy/facts";
import { requestFor } from "../../ops/deploy/verify";
import { planStack } from "../helpers/stack";

const root = join(__dirname, "../..");
const HEAD = execFileSync("git", ["rev-parse", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
const recordedHistory = (): Array<Record<string, unknown>> =>
  JSON.parse(
    readFileSync(join(root, "test/fixtures/ops/history-production.json"), "utf8").replace(/COMMIT_[A-E]/g, HEAD),
  ) as Array<Record<string, unknown>>;
const ACCOUNT = "123456789012";
const NS = "opsbook-staging";
const REPO = `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/opsbook`;
const TOKEN = "stand-in-token";

/** The stack outputs of staging-k8s as `stackOutputs` publishes them, the services at `tag`. */
const outputs = (tag: string) => ({
  databaseIdentifier: "opsbook-staging-k8s",
  url: "https://staging.example.com",
  services: {},
  criticalAlarmNames: [
    "opsbook-staging-k8s-database-cpu-critical",
    "opsbook-staging-k8s-backups-last-good-backup-critical",
  ],
  deploy: {
    anyTime: false,
    windows: [{ days: ["tue", "wed"], from: "10:00", to: "14:00" }],
    holidays: [],
    monthEndDays: 1,
    timeZone: "Europe/London",
    notifyTopicArn: `arn:aws:sns:eu-west-1:${ACCOUNT}:staging-k8s-warning`,
    smokeChecks: { api: [{ path: "/api/status", status: 200 }] },
    maintenance: { enabled: false, allow: [] },
  },
  kubernetesNamespace: NS,
  deploymentNames: { api: "api", web: "web" },
  kubernetes: {
    namespace: NS,
    prometheusNamespace: "monitoring",
    environment: "staging-k8s",
    ingressRules: [
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
    deployments: {
      api: {
        name: "api",
        serviceName: "api",
        container: "api",
        image: `${REPO}/api:${tag}`,
        healthCheckPath: "/health",
      },
      web: {
        name: "web",
        serviceName: "web",
        container: "web",
        image: `${REPO}/web:${tag}`,
        healthCheckPath: "/health",
      },
    },
  },
});

const update = (version: number, message: string) => ({
  version,
  kind: "update",
  startTime: "2026-11-10T11:00:30Z",
  message,
  environment: { "exec.kind": "auto.local", "git.head": HEAD, "git.dirty": "false" },
  config: {
    "opsbook:services": { value: '[{"name":"api","tag":"1.4.2"},{"name":"web","tag":"1.4.2"}]', secret: false },
  },
  result: "succeeded",
  endTime: "2026-11-10T11:03:00Z",
  resourceChanges: { update: 2 },
});
const UP_STDOUT = "Updating (staging-k8s):\n ~  kubernetes:apps/v1:Deployment api updating\n\nDuration: 1m02s\n";
const FULL_UP = { stdout: UP_STDOUT, update: update(9, "opsbook deploy"), outputs: outputs("1.4.2") };
const ROLLBACK_UP = {
  stdout: UP_STDOUT,
  update: update(10, "opsbook rollback from v9 to v6"),
  outputs: outputs("1.3.0"),
};

let dir: string;
let logFile: string;
let kubeconfig: string;
function scenario(extra: Record<string, unknown> = {}): void {
  writeFileSync(
    join(dir, "scenario.json"),
    JSON.stringify({
      stacks: ["staging-k8s"],
      history: recordedHistory(),
      outputs: outputs("1.3.0"),
      ups: [FULL_UP, ROLLBACK_UP],
      config: {
        "opsbook:services": { value: '[{"name":"api","tag":"1.4.2"},{"name":"web","tag":"1.4.2"}]', secret: false },
        "opsbook:kubernetes": { value: JSON.stringify({ namespace: NS }), secret: false },
      },
      ...extra,
    }),
  );
}
type Entry = { args?: string[]; aws?: string; http?: string; kube?: string; auth?: string };
const entries = (): Entry[] =>
  existsSync(logFile)
    ? readFileSync(logFile, "utf8")
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Entry)
    : [];
const ups = () => entries().filter((e) => e.args?.[0] === "up");
const kubeCalls = () => entries().flatMap((e) => (e.kube ? [e.kube] : []));

/** A Deployment whose rollout to `tag` completed. */
const complete = (name: string, tag: string, generation = 5): Deployment => ({
  metadata: { name, generation },
  spec: {
    replicas: 3,
    selector: { matchLabels: { "app.kubernetes.io/name": name } },
    template: { spec: { containers: [{ name, image: `${REPO}/${name}:${tag}` }] } },
  },
  status: {
    observedGeneration: generation,
    replicas: 3,
    updatedReplicas: 3,
    readyReplicas: 3,
    availableReplicas: 3,
    conditions: [
      {
        type: "Available",
        status: "True",
        reason: "MinimumReplicasAvailable",
        message: "Deployment has minimum availability.",
      },
      {
        type: "Progressing",
        status: "True",
        reason: "NewReplicaSetAvailable",
        message: `ReplicaSet "${name}-5d9c7b8f4" has successfully progressed.`,
      },
    ],
  },
});
/** The same Deployment mid-rollout: one new pod of three, two unavailable. */
const stuck = (name: string, tag: string): Deployment => ({
  ...complete(name, tag, 6),
  status: {
    observedGeneration: 6,
    replicas: 4,
    updatedReplicas: 1,
    readyReplicas: 3,
    availableReplicas: 3,
    unavailableReplicas: 1,
    conditions: [
      { type: "Available", status: "True", reason: "MinimumReplicasAvailable" },
      {
        type: "Progressing",
        status: "True",
        reason: "ReplicaSetUpdated",
        message: `ReplicaSet "${name}-7f6d5c4b3" is progressing.`,
      },
    ],
  },
});
/** Past `progressDeadlineSeconds`: the controller marks Progressing False. */
const deadline = (name: string, tag: string): Deployment => ({
  ...stuck(name, tag),
  status: {
    ...stuck(name, tag).status,
    conditions: [
      { type: "Available", status: "True", reason: "MinimumReplicasAvailable" },
      {
        type: "Progressing",
        status: "False",
        reason: "ProgressDeadlineExceeded",
        message: `ReplicaSet "${name}-7f6d5c4b3" has timed out progressing.`,
      },
    ],
  },
});
const podsOf = (name: string, tag: string, n = 3): PodList => ({
  items: Array.from({ length: n }, (_, i) => ({
    metadata: { name: `${name}-5d9c7b8f4-${i}` },
    spec: { containers: [{ name, image: `${REPO}/${name}:${tag}` }] },
    status: { phase: "Running" },
  })),
});

/** What the cluster reports after `n` updates. */
let deploymentAt: (name: string, n: number) => Deployment;
let podsAt: (name: string, n: number) => PodList;
let alertsAt: (poll: number) => Array<{ labels: Record<string, string>; state: string }>;
let server: Server;

const cloudwatch = mockClient(CloudWatchClient);
const rds = mockClient(RDSClient);
const sns = mockClient(SNSClient);
const ecs = mockClient(ECSClient);
const logged = (entry: Entry & { input?: unknown }) => appendFileSync(logFile, JSON.stringify(entry) + "\n");

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://stand-in");
    logged({ kube: `${req.method} ${url.pathname}${url.search}`, auth: req.headers.authorization ?? "" });
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${TOKEN}`)
      return send(401, {
        kind: "Status",
        apiVersion: "v1",
        status: "Failure",
        message: "Unauthorized",
        reason: "Unauthorized",
        code: 401,
      });
    const n = ups().length;
    const dep = url.pathname.match(/^\/apis\/apps\/v1\/namespaces\/opsbook-staging\/deployments\/([a-z]+)$/);
    if (dep) return send(200, { apiVersion: "apps/v1", kind: "Deployment", ...deploymentAt(dep[1]!, n) });
    if (url.pathname === "/api/v1/namespaces/opsbook-staging/pods") {
      const name = url.searchParams.get("labelSelector")?.replace("app.kubernetes.io/name=", "") ?? "";
      return send(200, { apiVersion: "v1", kind: "PodList", metadata: { resourceVersion: "1" }, ...podsAt(name, n) });
    }
    if (url.pathname === "/api/v1/namespaces/monitoring/services/prometheus-operated:9090/proxy/api/v1/alerts") {
      if (!prometheusUp)
        return send(503, {
          kind: "Status",
          apiVersion: "v1",
          status: "Failure",
          message: 'no endpoints available for service "prometheus-operated"',
          reason: "ServiceUnavailable",
          code: 503,
        });
      alertPolls++;
      return send(200, { status: "success", data: { alerts: alertsAt(alertPolls - 1) } });
    }
    return send(404, {
      kind: "Status",
      apiVersion: "v1",
      status: "Failure",
      message: "the server could not find the requested resource",
      reason: "NotFound",
      code: 404,
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  process.env = savedEnv;
});
let alertPolls = 0;
let prometheusUp = true;

const savedEnv = { ...process.env };
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "opsbook-deploy-k8s-"));
  logFile = join(dir, "calls.log");
  kubeconfig = join(dir, "kubeconfig");
  const port = (server.address() as AddressInfo).port;
  writeFileSync(
    kubeconfig,
    [
      "apiVersion: v1",
      "kind: Config",
      "current-context: stand-in",
      "clusters:",
      "- name: stand-in",
      "  cluster:",
      `    server: http://127.0.0.1:${port}`,
      "contexts:",
      "- name: stand-in",
      "  context: {cluster: stand-in, user: ops}",
      "users:",
      "- name: ops",
      `  user: {token: ${TOKEN}}`,
      "",
    ].join("\n"),
  );
  process.env.PATH = `${join(__dirname, "fake-pulumi")}:${savedEnv.PATH}`;
  process.env.FAKE_PULUMI_SCENARIO = join(dir, "scenario.json");
  process.env.FAKE_PULUMI_LOG = logFile;
  process.env.PULUMI_SKIP_UPDATE_CHECK = "true";
  delete process.env.CI;
  delete process.env.GITHUB_ACTIONS;
  scenario();
  alertPolls = 0;
  prometheusUp = true;
  // Before the deploy the cluster runs 1.3.0; the update rolls out 1.4.2; the revert 1.3.0 again.
  deploymentAt = (name, n) => complete(name, n === 1 ? "1.4.2" : "1.3.0", 5 + n);
  podsAt = (name, n) => podsOf(name, n === 1 ? "1.4.2" : "1.3.0");
  alertsAt = () => [];
  for (const m of [cloudwatch, rds, sns, ecs]) m.reset();
  cloudwatch.on(DescribeAlarmsCommand).callsFake((input: object) => {
    logged({ aws: "DescribeAlarms", input });
    return { MetricAlarms: [] };
  });
  sns.on(PublishCommand).callsFake((input: object) => {
    logged({ aws: "Publish", input });
    return { MessageId: "m-1" };
  });
  rds.on(CreateDBSnapshotCommand).callsFake((input: object) => {
    logged({ aws: "CreateDBSnapshot", input });
    return {};
  });
  rds.on(DescribeDBSnapshotsCommand).callsFake((input: object) => {
    logged({ aws: "DescribeDBSnapshots", input });
    return { DBSnapshots: [{ Status: "available" }] };
  });
});

const TUESDAY_11_LONDON = new Date("2026-11-10T11:00:00Z");
const cleanGit = (args: string[]): string => {
  if (args[0] === "status") return "";
  if (args[0] === "rev-parse") return HEAD;
  if (args[0] === "merge-base") return "";
  throw new Error(`unexpected git ${args.join(" ")}`);
};
async function ops(command: "deploy" | "rollback", argv: string[], env: Record<string, string> = {}) {
  let stdout = "";
  let stderr = "";
  let clock = TUESDAY_11_LONDON.getTime();
  const code = await run([command, "--stack", "staging-k8s", ...argv], {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    now: () => new Date(clock),
    sleep: (ms) => {
      clock += ms;
      return Promise.resolve();
    },
    git: cleanGit,
    aws: awsClients,
    fetch: (url) => {
      logged({ http: `GET ${url}` });
      return Promise.resolve({ status: 200 });
    },
    env: { USER: "dana", KUBECONFIG: kubeconfig, ...env },
  });
  return { code, stdout, stderr, minutes: (clock - TUESDAY_11_LONDON.getTime()) / 60_000 };
}

describe("opsbook deploy on Kubernetes (R-k8s-verify)", () => {
  test("a complete rollout: the Deployments, their pods' image, /health and the smoke checks through the Ingress, the watch", async () => {
    const r = await ops("deploy", ["--json"]);
    expect(r.stderr).not.toMatch(/what to do/);
    expect(r.code).toBe(0);
    // Nothing of ECS: no migration task (none declared), no ECS call at all.
    expect(ecs.calls()).toHaveLength(0);
    expect(ups()).toHaveLength(1);
    expect(r.stderr).toMatch(/run the migrations: skipped \(the stack declares no migration task\)/);
    const calls = kubeCalls();
    expect(calls.slice(0, 5)).toEqual([
      "GET /api/v1/namespaces/monitoring/services/prometheus-operated:9090/proxy/api/v1/alerts",
      "GET /apis/apps/v1/namespaces/opsbook-staging/deployments/api",
      "GET /api/v1/namespaces/opsbook-staging/pods?labelSelector=app.kubernetes.io%2Fname%3Dapi",
      "GET /apis/apps/v1/namespaces/opsbook-staging/deployments/web",
      "GET /api/v1/namespaces/opsbook-staging/pods?labelSelector=app.kubernetes.io%2Fname%3Dweb",
    ]);
    expect(entries().every((e) => !e.kube || e.auth === `Bearer ${TOKEN}`)).toBe(true);
    expect(entries().flatMap((e) => (e.http ? [e.http] : []))).toEqual([
      "GET https://staging.example.com/health",
      "GET https://staging.example.com/api/status",
    ]);
    // The api's /health goes to web by the Ingress (longest prefix): its readiness probe covers it.
    expect(r.stderr).toMatch(
      /note: api \/health not requested through the Ingress: the Ingress sends staging.example.com\/health to Service web, not to api/,
    );
    // The watch: 5 min of polls of the CloudWatch alarms, Prometheus's alerts and both Deployments.
    // The injected clock moves only by the watch's sleeps: 5 min, polled at 0, 0.5, ..., 5 min (11
    // polls), after the one check of the alerts before the update.
    expect(r.minutes).toBe(5);
    expect(alertPolls).toBe(12);
    expect(cloudwatch.commandCalls(DescribeAlarmsCommand).length).toBe(alertPolls);
    expect(r.stderr).toMatch(/watch the critical alarms and Deployments for 5 min: done/);
    expect(JSON.parse(r.stdout)).toMatchObject({ stack: "staging-k8s", version: 9 });
  }, 60_000);

  test.each<[string, (name: string) => Deployment, (name: string) => PodList, RegExp]>([
    [
      "a rollout stuck with unavailable replicas",
      (name) => (name === "api" ? stuck("api", "1.4.2") : complete(name, "1.4.2", 6)),
      (name) => podsOf(name, "1.4.2"),
      /verify failed: api: the rollout of Deployment opsbook-staging\/api did not complete in 10 min: 1 of 3 replicas updated/,
    ],
    [
      "a rollout past its progress deadline",
      (name) => (name === "api" ? deadline("api", "1.4.2") : complete(name, "1.4.2", 6)),
      (name) => podsOf(name, "1.4.2"),
      /verify failed: api: the rollout of Deployment opsbook-staging\/api failed: ProgressDeadlineExceeded: ReplicaSet "api-7f6d5c4b3" has timed out progressing/,
    ],
    [
      "pods running another image than the stack's",
      (name) => complete(name, name === "web" ? "1.3.0" : "1.4.2", 6),
      (name) => podsOf(name, name === "web" ? "1.3.0" : "1.4.2"),
      /verify failed: web: Deployment opsbook-staging\/web runs .*\/web:1.3.0, the stack names .*\/web:1.4.2; web: pod web-5d9c7b8f4-0 runs .*\/web:1.3.0/,
    ],
  ])(
    "%s fails the verify and rolls the stack back (exit 4)",
    async (_, failing, pods, message) => {
      deploymentAt = (name, n) => (n === 1 ? failing(name) : complete(name, "1.3.0", 7));
      podsAt = (name, n) => (n === 1 ? pods(name) : podsOf(name, "1.3.0"));
      const r = await ops("deploy", []);
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(/rolled back from v9 to v6/);
      expect(ups()).toHaveLength(2);
      // The revert is verified on the cluster too: its Deployments at 1.3.0.
      expect(r.stderr).toMatch(/verify the services: done in .*: verified api, web/);
      expect(r.stderr).not.toMatch(/the rollback did not verify/);
    },
    60_000,
  );

  test("a critical Prometheus alert of the stack during the watch rolls back; others' alerts do not count", async () => {
    alertsAt = (poll) => [
      {
        labels: { alertname: "HttpErrorRate", severity: "critical", environment: "production-k8s", service: "api" },
        state: "firing",
      },
      {
        labels: { alertname: "Cpu", severity: "warning", environment: "staging-k8s", service: "api" },
        state: "firing",
      },
      ...(poll >= 3
        ? [
            {
              labels: { alertname: "HttpErrorRate", severity: "critical", environment: "staging-k8s", service: "api" },
              state: "firing",
            },
          ]
        : []),
    ];
    const r = await ops("deploy", []);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/the watch saw: critical alert firing in Prometheus: HttpErrorRate \(api\)/);
    expect(ups()).toHaveLength(2);
  }, 60_000);

  test("a critical Prometheus alert firing before the deploy refuses it (exit 3)", async () => {
    alertsAt = () => [
      {
        labels: { alertname: "UnavailableReplicas", severity: "critical", environment: "staging-k8s", service: "web" },
        state: "firing",
      },
    ];
    const r = await ops("deploy", []);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/critical alarm in ALARM on staging-k8s: UnavailableReplicas \(web\)/);
    expect(ups()).toHaveLength(0);
  }, 60_000);

  test("a Deployment that fails during the watch (a later ProgressDeadlineExceeded) rolls back", async () => {
    let apiGets = 0;
    deploymentAt = (name, n) => {
      if (n !== 1) return complete(name, "1.3.0", 7);
      if (name === "api" && ++apiGets > 4) return deadline("api", "1.4.2");
      return complete(name, "1.4.2", 6);
    };
    const r = await ops("deploy", []);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/the watch saw: api: Deployment opsbook-staging\/api ProgressDeadlineExceeded/);
  }, 60_000);

  test("without Prometheus behind the proxy the deploy says so and watches CloudWatch and the Deployments", async () => {
    prometheusUp = false;
    const r = await ops("deploy", []);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /warning: the cluster's Prometheus \(monitoring\/prometheus-operated\) did not answer through the API server: .*503 no endpoints available for service "prometheus-operated"/,
    );
    // Asked once, before the deploy; the watch polls the alarms and the Deployments only.
    expect(kubeCalls().filter((c) => c.includes("/proxy/"))).toHaveLength(1);
    expect(cloudwatch.commandCalls(DescribeAlarmsCommand)).toHaveLength(12); // before the update, then the 11 polls
  }, 60_000);

  test("the kubeconfig from the stack config (opsbook:kubernetes.kubeconfig) wins over KUBECONFIG", async () => {
    const text = readFileSync(kubeconfig, "utf8");
    scenario({
      config: {
        "opsbook:services": { value: '[{"name":"api","tag":"1.4.2"},{"name":"web","tag":"1.4.2"}]', secret: false },
        "opsbook:kubernetes": { value: JSON.stringify({ namespace: NS, kubeconfig: text }), secret: true },
      },
    });
    const r = await ops("deploy", [], { KUBECONFIG: join(dir, "missing") });
    expect(r.stderr).not.toMatch(/what to do/);
    expect(r.code).toBe(0);
  }, 60_000);

  test("--dry-run names the Kubernetes checks and touches neither AWS nor the cluster", async () => {
    const r = await ops("deploy", ["--dry-run", "--json"]);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as { steps: string[] };
    expect(plan.steps).toEqual(
      expect.arrayContaining([
        "verify each Deployment: rollout complete, its pods on the stack's image, /health 200 and smoke checks through the Ingress",
        "watch the critical alarms and Deployments for 5 min; roll back on any failure",
      ]),
    );
    expect(kubeCalls()).toEqual([]);
    expect(cloudwatch.calls()).toHaveLength(0);
  }, 60_000);

  test("no kubeconfig at all fails before anything changed, saying how to give one", async () => {
    const r = await ops("deploy", [], { KUBECONFIG: join(dir, "missing") });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no kubeconfig: opsbook:kubernetes.kubeconfig is not set and none of KUBECONFIG/);
    expect(r.stderr).toMatch(/what to do: set KUBECONFIG .*aws eks update-kubeconfig/);
    expect(ups()).toHaveLength(0);
    expect(rds.commandCalls(CreateDBSnapshotCommand)).toHaveLength(0);
  }, 60_000);
});

describe("opsbook rollback on Kubernetes verifies the Deployments", () => {
  test("a revert the cluster took", async () => {
    scenario({ outputs: outputs("1.4.2"), ups: [ROLLBACK_UP] });
    deploymentAt = (name) => complete(name, "1.3.0", 7);
    podsAt = (name) => podsOf(name, "1.3.0");
    const r = await ops("rollback", ["--json"]);
    expect(r.stderr).not.toMatch(/what to do/);
    expect(r.code).toBe(0);
    expect(kubeCalls()).toContain("GET /apis/apps/v1/namespaces/opsbook-staging/deployments/api");
    expect(JSON.parse(r.stdout)).toMatchObject({ verify: { problems: [] } });
  }, 60_000);

  test("a revert whose pods still run the newer image fails (exit 1) and says what to check", async () => {
    scenario({ outputs: outputs("1.4.2"), ups: [ROLLBACK_UP] });
    deploymentAt = (name) => complete(name, "1.3.0", 7);
    podsAt = (name) => podsOf(name, "1.4.2");
    const r = await ops("rollback", []);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /the rollback to v5 did not verify:\n {2}- api: pod api-5d9c7b8f4-0 runs .*api:1.4.2, the stack names .*api:1.3.0/,
    );
    expect(r.stderr).toMatch(/check the Deployments \(kubectl rollout status\) and the Ingress now/);
  }, 60_000);
});

describe("the stack outputs the command reads", () => {
  test.each(["serviceName", "healthCheckPath"])(
    "a Deployment without its %s is an output to publish again, not a guessed default",
    (key) => {
      const o = outputs("1.4.2");
      delete (o.kubernetes.deployments.api as Partial<(typeof o.kubernetes.deployments)["api"]>)[
        key as "serviceName" | "healthCheckPath"
      ];
      expect(() => stackFacts(o, "staging-k8s")).toThrow(
        'stack staging-k8s has no "kubernetes" output (or not in the shape this opsbook reads)',
      );
    },
  );

  test("staging-k8s as the program declares it: namespace, Deployments, images, probes' path, Ingress rules", async () => {
    const plan = await planStack("staging-k8s");
    const facts = stackFacts(plan.outputs, "staging-k8s");
    expect(facts.clusterName).toBeUndefined();
    expect(facts.kubernetes).toMatchObject({
      namespace: NS,
      prometheusNamespace: "monitoring",
      environment: "staging-k8s",
    });
    expect(facts.kubernetes!.deployments.api).toEqual({
      name: "api",
      serviceName: "api",
      container: "api",
      // The stack repository's image (R-security-image-scan).
      image: `${REPO}/staging-k8s/api:1.0.0`,
      healthCheckPath: "/health",
    });
    expect(requestFor(facts, "api", "/api/status")).toEqual({
      ok: true,
      url: "https://staging.example.com/api/status",
    });
    expect(requestFor(facts, "web", "/health")).toEqual({ ok: true, url: "https://staging.example.com/health" });
  }, 120_000);
});
