/**
 * The Kubernetes API client of the verify steps (R-k8s-verify): kubeconfig loading and merging,
 * the credentials of an `exec` plugin, the EKS token made in-process when `aws eks get-token`
 * cannot run (its SigV4 presigned URL checked against a signature computed here from the
 * documented algorithm), and the rollout and Ingress rules the checks apply.
 */
import { createHash, createHmac } from "crypto";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { createServer, type Server } from "http";
import type { AddressInfo } from "net";
import { tmpdir } from "os";
import { join } from "path";
import { eksPlugin, eksToken, kubeApi, loadKubeconfig } from "../../ops/kube";
import { podImageProblems, rolloutOf, type Deployment } from "../../ops/deploy/kubernetes";
import { ingressRequestTo, ingressRouteOf } from "../../ops/deploy/routing";
import type { IngressRule } from "../../ops/deploy/facts";
import { OpsError } from "../../ops/errors";

const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };

describe("the EKS token (aws-iam-authenticator's format)", () => {
  test("k8s-aws-v1. + base64url of a presigned STS GetCallerIdentity URL that signs x-k8s-aws-id", async () => {
    const at = new Date("2026-11-10T11:00:00Z");
    const token = await eksToken("opsbook-staging", "eu-west-1", credentials, at);
    expect(token.startsWith("k8s-aws-v1.")).toBe(true);
    const encoded = token.slice("k8s-aws-v1.".length);
    expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/); // base64url, no padding
    const url = new URL(Buffer.from(encoded, "base64url").toString("utf8"));
    expect(url.origin).toBe("https://sts.eu-west-1.amazonaws.com");
    expect(url.pathname).toBe("/");
    const q = Object.fromEntries(url.searchParams);
    expect(q).toMatchObject({
      Action: "GetCallerIdentity",
      Version: "2011-06-15",
      "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
      "X-Amz-Credential": "AKIDEXAMPLE/20261110/eu-west-1/sts/aws4_request",
      "X-Amz-Date": "20261110T110000Z",
      "X-Amz-Expires": "60",
      "X-Amz-SignedHeaders": "host;x-k8s-aws-id",
    });

    // The signature, by the SigV4 steps: canonical request, string to sign, derived key.
    const enc = (s: string) =>
      encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    const canonicalQuery = Object.entries(q)
      .filter(([k]) => k !== "X-Amz-Signature")
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${enc(k)}=${enc(v)}`)
      .join("&");
    const canonical = [
      "GET",
      "/",
      canonicalQuery,
      "host:sts.eu-west-1.amazonaws.com\nx-k8s-aws-id:opsbook-staging\n",
      "host;x-k8s-aws-id",
      createHash("sha256").update("").digest("hex"),
    ].join("\n");
    const toSign = [
      "AWS4-HMAC-SHA256",
      "20261110T110000Z",
      "20261110/eu-west-1/sts/aws4_request",
      createHash("sha256").update(canonical).digest("hex"),
    ].join("\n");
    const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest();
    const key = hmac(
      hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, "20261110"), "eu-west-1"), "sts"),
      "aws4_request",
    );
    expect(q["X-Amz-Signature"]).toBe(createHmac("sha256", key).update(toSign).digest("hex"));
  });

  test("a session token is part of the signed URL", async () => {
    const token = await eksToken("c", "eu-west-1", { ...credentials, sessionToken: "FQoG/session+token" });
    const url = new URL(Buffer.from(token.slice(11), "base64url").toString("utf8"));
    expect(url.searchParams.get("X-Amz-Security-Token")).toBe("FQoG/session+token");
  });

  test.each<[string, string[], { cluster: string; region?: string } | undefined]>([
    [
      "aws",
      ["--region", "eu-west-1", "eks", "get-token", "--cluster-name", "prod"],
      { cluster: "prod", region: "eu-west-1" },
    ],
    ["/usr/local/bin/aws", ["eks", "get-token", "--cluster-name=prod", "--output", "json"], { cluster: "prod" }],
    ["aws-iam-authenticator", ["token", "-i", "prod"], { cluster: "prod" }],
    ["gke-gcloud-auth-plugin", [], undefined],
    ["aws", ["sts", "get-caller-identity"], undefined],
  ])("exec plugin %s %j", (command, args, want) => {
    expect(eksPlugin({ command, args })).toEqual(want);
  });
});

describe("kubeApi", () => {
  let server: Server;
  let seen: string[] = [];
  /** When set, the API server answers every request with this Status, as it refuses one. */
  let refuse: { status: number; message: string } | undefined;
  let dir: string;
  let port: number;
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.headers.authorization ?? "");
      if (refuse) {
        res.writeHead(refuse.status, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ kind: "Status", status: "Failure", message: refuse.message, code: refuse.status }));
        return;
      }
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ kind: "Deployment", path: req.url }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  beforeEach(() => {
    seen = [];
    refuse = undefined;
    dir = mkdtempSync(join(tmpdir(), "opsbook-kube-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const config = (user: string, context = "c") =>
    [
      "apiVersion: v1",
      "kind: Config",
      `current-context: ${context}`,
      "clusters: [{name: k, cluster: {server: 'http://127.0.0.1:" + String(port) + "'}}]",
      "contexts: [{name: c, context: {cluster: k, user: u}}]",
      `users: [{name: u, user: ${user}}]`,
    ].join("\n");
  const noCredentials = () => Promise.reject(new Error("no credentials in this test"));

  test("an exec plugin's ExecCredential token", async () => {
    const plugin = join(dir, "plugin");
    writeFileSync(
      plugin,
      `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"from-plugin-'"$EXTRA"'"}}'\n`,
    );
    chmodSync(plugin, 0o755);
    const kube = await kubeApi({
      kubeconfig: config(
        `{exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: ${plugin}, env: [{name: EXTRA, value: x}]}}`,
      ),
      env: { PATH: process.env.PATH },
      region: "eu-west-1",
      credentials: noCredentials,
    });
    expect(await kube.get("/apis/apps/v1/namespaces/n/deployments/api")).toEqual({
      kind: "Deployment",
      path: "/apis/apps/v1/namespaces/n/deployments/api",
    });
    expect(seen).toEqual(["Bearer from-plugin-x"]);
  });

  /** Client options for an exec plugin whose every run prints the next token (t1, t2, ...) with `expiry`. */
  const countingPlugin = (expiry: string) => {
    const plugin = join(dir, "plugin");
    writeFileSync(
      plugin,
      [
        "#!/bin/sh",
        `n=$(cat "${dir}/runs" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "${dir}/runs"`,
        `echo '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"t'"$n"'","expirationTimestamp":"${expiry}"}}'`,
        "",
      ].join("\n"),
    );
    chmodSync(plugin, 0o755);
    return {
      kubeconfig: config(`{exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: ${plugin}}}`),
      env: { PATH: process.env.PATH },
      region: "eu-west-1",
      credentials: noCredentials,
    };
  };

  test.each([
    ["past", "2020-01-01T00:00:00Z", ["Bearer t2", "Bearer t3"]],
    ["far ahead", "2999-01-01T00:00:00Z", ["Bearer t1", "Bearer t1"]],
  ])("a plugin credential whose expirationTimestamp is %s: run again per request / reused", async (_, expiry, want) => {
    const kube = await kubeApi(countingPlugin(expiry));
    await kube.get("/version");
    await kube.get("/version");
    expect(seen).toEqual(want);
  });

  test("a plugin credential that expires inside the 5-minute reuse is made again once it has expired", async () => {
    const start = Date.UTC(2026, 11, 1, 9, 0);
    // Only the clock is fake: the stand-in server and the plugin run on real timers.
    jest.useFakeTimers({
      doNotFake: [
        "hrtime",
        "nextTick",
        "performance",
        "queueMicrotask",
        "setImmediate",
        "clearImmediate",
        "setInterval",
        "clearInterval",
        "setTimeout",
        "clearTimeout",
      ],
      now: start,
    });
    try {
      const kube = await kubeApi(countingPlugin(new Date(start + 60_000).toISOString()));
      await kube.get("/version"); // 09:00: t1, made when the client was
      jest.setSystemTime(start + 2 * 60_000); // past its expiry, inside the 5-minute reuse
      await kube.get("/version");
    } finally {
      jest.useRealTimers();
    }
    expect(seen).toEqual(["Bearer t1", "Bearer t2"]);
  });

  test("`aws eks get-token` where no aws CLI is installed: the same token made from the SDK's credentials", async () => {
    const kube = await kubeApi({
      kubeconfig: config(
        "{exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: aws, args: [--region, eu-west-1, eks, get-token, --cluster-name, opsbook]}}",
      ),
      env: { PATH: dir },
      region: "us-east-1",
      credentials: () => Promise.resolve(credentials),
    });
    await kube.get("/version");
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatch(/^Bearer k8s-aws-v1\.[A-Za-z0-9_-]+$/);
    const url = new URL(Buffer.from(seen[0]!.slice("Bearer k8s-aws-v1.".length), "base64url").toString());
    expect(url.host).toBe("sts.eu-west-1.amazonaws.com");
  });

  test("a plugin that fails is an error naming the command, not a silent anonymous request", async () => {
    await expect(
      kubeApi({
        kubeconfig: config("{exec: {command: 'false'}}"),
        env: { PATH: process.env.PATH },
        region: "eu-west-1",
        credentials: noCredentials,
      }),
    ).rejects.toThrow(/the kubeconfig's exec plugin false failed/);
  });

  test.each([
    [
      401,
      "Unauthorized",
      "the kubeconfig's credentials (the stack config) are not accepted: refresh them (on EKS: aws sso login, or the CI's role, then aws eks update-kubeconfig --name <cluster>) and run again",
    ],
    [
      403,
      'deployments.apps "api" is forbidden: User "deployer" cannot get resource "deployments" in API group "apps" in the namespace "n"',
      "the kubeconfig's identity (the stack config) was refused GET /apis/apps/v1/namespaces/n/deployments/api: it needs get on deployments and list on pods in the stack's namespace, and get on services/proxy in the Prometheus namespace (README \"Permissions the commands need\"; a Role bound to it, on EKS an access entry)",
    ],
  ])("a %i from the API server is an error saying what to do about it", async (status, message, hint) => {
    const kube = await kubeApi({
      kubeconfig: config("{token: t}"),
      env: {},
      region: "eu-west-1",
      credentials: noCredentials,
    });
    refuse = { status, message };
    const failure = kube.get("/apis/apps/v1/namespaces/n/deployments/api");
    await expect(failure).rejects.toBeInstanceOf(OpsError);
    await expect(failure).rejects.toMatchObject({
      message: `GET /apis/apps/v1/namespaces/n/deployments/api: ${status} ${message}`,
      hint,
    });
  });

  test("a context the kubeconfig lacks names the key to set", async () => {
    await expect(
      kubeApi({
        kubeconfig: config("{token: t}", "other"),
        env: {},
        region: "eu-west-1",
        credentials: noCredentials,
      }),
    ).rejects.toThrow(/has no context "other"/);
  });

  test.each(["127.0.0.1:6443", "localhost:6443"])(
    "a server without its scheme (%s) is an error naming clusters[].cluster.server and the fix",
    async (server) => {
      const failure = kubeApi({
        kubeconfig: config("{token: t}").replace(`'http://127.0.0.1:${port}'`, `'${server}'`),
        env: {},
        region: "eu-west-1",
        credentials: noCredentials,
      });
      await expect(failure).rejects.toBeInstanceOf(OpsError);
      await expect(failure).rejects.toThrow(
        `the kubeconfig (the stack config) has clusters[].cluster.server "${server}" for cluster "k": not an https:// (or http://) URL`,
      );
      await expect(failure).rejects.toMatchObject({
        hint: "set it to the API server's URL with its scheme, https://host:port (kubectl config set-cluster <name> --server https://host:port)",
      });
    },
  );

  test("a file the kubeconfig names that cannot be read is an error naming the field and the path, not a crash", async () => {
    const missing = join(dir, "no-such-token");
    const failure = kubeApi({
      kubeconfig: config(`{tokenFile: '${missing}'}`),
      env: {},
      region: "eu-west-1",
      credentials: noCredentials,
    });
    await expect(failure).rejects.toBeInstanceOf(OpsError);
    await expect(failure).rejects.toThrow(`names tokenFile ${missing}, which cannot be read`);
    await expect(failure).rejects.toMatchObject({
      hint: expect.stringMatching(/^fix tokenFile in the kubeconfig/) as unknown,
    });
  });

  test("relative paths in a kubeconfig file are read from that file's directory, as kubectl reads them", async () => {
    const home = join(dir, "home", ".kube");
    mkdirSync(join(home, "creds"), { recursive: true });
    writeFileSync(join(home, "creds", "token"), "from-the-file\n");
    writeFileSync(join(home, "config"), config("{tokenFile: creds/token}"));
    // The tests run in the repository, which has no creds/token: read from the cwd, it would fail.
    const kube = await kubeApi({
      env: { KUBECONFIG: join(home, "config") },
      region: "eu-west-1",
      credentials: noCredentials,
    });
    await kube.get("/version");
    expect(seen).toEqual(["Bearer from-the-file"]);
    const { config: loaded } = loadKubeconfig(undefined, { KUBECONFIG: join(home, "config") });
    expect(loaded.users?.[0]?.user.tokenFile).toBe(join(home, "creds", "token"));

    // Merged files each resolve from their own directory; a bare command stays a PATH lookup.
    const team = join(dir, "team");
    mkdirSync(team);
    writeFileSync(
      join(team, "config"),
      [
        "users:",
        "- {name: plugin, user: {exec: {command: ./bin/auth}, client-key: keys/k.pem}}",
        "- {name: onpath, user: {exec: {command: aws}}}",
        "clusters: [{name: other, cluster: {server: 'https://x', certificate-authority: ca.crt}}]",
      ].join("\n"),
    );
    const { config: merged } = loadKubeconfig(undefined, {
      KUBECONFIG: `${join(home, "config")}:${join(team, "config")}`,
    });
    const user = (name: string) => merged.users?.find((u) => u.name === name)?.user;
    expect(user("plugin")?.exec?.command).toBe(join(team, "bin", "auth"));
    expect(user("plugin")?.["client-key"]).toBe(join(team, "keys", "k.pem"));
    expect(user("onpath")?.exec?.command).toBe("aws");
    expect(merged.clusters?.find((c) => c.name === "other")?.cluster["certificate-authority"]).toBe(
      join(team, "ca.crt"),
    );
    expect(user("u")?.tokenFile).toBe(join(home, "creds", "token"));
  });

  test("KUBECONFIG files merge as kubectl merges them: the first to set a value wins", () => {
    const a = join(dir, "a");
    const b = join(dir, "b");
    writeFileSync(a, "current-context: one\ncontexts: [{name: one, context: {cluster: x, user: y}}]\n");
    writeFileSync(
      b,
      "current-context: two\nclusters: [{name: x, cluster: {server: 'https://x'}}]\nusers: [{name: y, user: {token: t}}]\n",
    );
    const { config: merged } = loadKubeconfig(undefined, { KUBECONFIG: `${a}:${join(dir, "missing")}:${b}` });
    expect(merged["current-context"]).toBe("one");
    expect(merged.clusters?.map((c) => c.name)).toEqual(["x"]);
    expect(merged.users?.map((u) => u.name)).toEqual(["y"]);
  });
});

describe("rollout status (kubectl rollout status's rules)", () => {
  const base: Deployment = {
    metadata: { generation: 3 },
    spec: { replicas: 3 },
    status: {
      observedGeneration: 3,
      replicas: 3,
      updatedReplicas: 3,
      availableReplicas: 3,
      conditions: [{ type: "Progressing", status: "True", reason: "NewReplicaSetAvailable" }],
    },
  };
  const withStatus = (s: NonNullable<Deployment["status"]>): Deployment => ({
    ...base,
    status: { ...base.status, ...s },
  });
  test.each<[string, Deployment, string]>([
    ["complete", base, "complete"],
    ["generation not observed", withStatus({ observedGeneration: 2 }), "progressing"],
    ["updated short of replicas", withStatus({ updatedReplicas: 2 }), "progressing"],
    ["old replicas terminating", withStatus({ replicas: 4 }), "progressing"],
    ["updated but not available", withStatus({ availableReplicas: 2 }), "progressing"],
    ["unavailable replicas", withStatus({ unavailableReplicas: 1 }), "progressing"],
    [
      "Progressing not NewReplicaSetAvailable",
      withStatus({ conditions: [{ type: "Progressing", status: "True", reason: "ReplicaSetUpdated" }] }),
      "progressing",
    ],
    [
      "ProgressDeadlineExceeded",
      withStatus({ conditions: [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded" }] }),
      "failed",
    ],
  ])("%s", (_, d, state) => {
    expect(rolloutOf(d).state).toBe(state);
  });

  test("pods: every running one on the stack's image, as many as the replicas; terminating pods do not count", () => {
    const d = { name: "api", serviceName: "api", container: "api", image: "r/api:2", healthCheckPath: "/health" };
    const pod = (image: string, extra: object = {}) => ({
      metadata: { name: `p-${image}`, ...extra },
      spec: { containers: [{ name: "api", image }] },
      status: { phase: "Running" },
    });
    expect(podImageProblems({ items: [pod("r/api:2"), pod("r/api:2")] }, d, 2, "api")).toEqual([]);
    expect(
      podImageProblems(
        { items: [pod("r/api:2"), pod("r/api:1", { deletionTimestamp: "2026-11-10T11:00:00Z" })] },
        d,
        1,
        "api",
      ),
    ).toEqual([]);
    expect(podImageProblems({ items: [pod("r/api:2"), pod("r/api:1")] }, d, 2, "api")).toEqual([
      "api: pod p-r/api:1 runs r/api:1, the stack names r/api:2",
      "api: 1 running pods run r/api:2, the Deployment wants 2",
    ]);
  });
});

describe("Ingress routing (networking.k8s.io/v1 path matching)", () => {
  const backend = (name: string) => ({ service: { name } });
  const rules: IngressRule[] = [
    {
      host: "app.example.com",
      http: {
        paths: [
          { path: "/api", pathType: "Prefix", backend: backend("api") },
          { path: "/api/health", pathType: "Exact", backend: backend("health") },
          { path: "/", pathType: "Prefix", backend: backend("web") },
        ],
      },
    },
    { host: "*.example.com", http: { paths: [{ path: "/", pathType: "Prefix", backend: backend("tenant") }] } },
  ];
  test.each<[string, string, string | undefined]>([
    ["app.example.com", "/api", "api"],
    ["app.example.com", "/api/users?x=1", "api"],
    ["app.example.com", "/apix", "web"],
    ["app.example.com", "/api/health", "health"],
    ["app.example.com", "/api/health/x", "api"],
    ["APP.example.com", "/", "web"],
    ["a.example.com", "/api", "tenant"],
    ["a.b.example.com", "/", undefined],
  ])("%s%s -> %s", (host, path, want) => {
    expect(ingressRouteOf(rules, host, path)).toBe(want);
  });
  test("a request reaches its Service on a literal host, or says where the Ingress sends it", () => {
    expect(ingressRequestTo(rules, "api", "/api/status")).toEqual({
      ok: true,
      url: "https://app.example.com/api/status",
    });
    expect(ingressRequestTo(rules, "api", "/health")).toEqual({
      ok: false,
      why: "the Ingress sends app.example.com/health to Service web, not to api",
    });
    expect(ingressRequestTo(rules, "tenant", "/")).toEqual({
      ok: false,
      why: "no Ingress rule with a literal host routes to Service tenant",
    });
  });
});
