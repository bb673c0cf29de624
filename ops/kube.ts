/**
 * The Kubernetes API for the verify and watch steps on `compute.platform: kubernetes` (R-k8s-verify):
 * GET requests to the API server of a kubeconfig, as kubectl makes them. The kubeconfig is the
 * stack's `opsbook:kubernetes.kubeconfig` secret, else the ambient one (`KUBECONFIG`, a list of files
 * merged as kubectl merges them, else `~/.kube/config`). Credentials: a bearer token (or token file),
 * a client certificate, or an `exec` plugin run as kubectl runs it; when that plugin is
 * `aws eks get-token` or `aws-iam-authenticator token` and cannot be run here, the EKS token is made
 * in-process from the AWS credentials the other steps use: a presigned STS `GetCallerIdentity` URL
 * signed with the `x-k8s-aws-id` header, base64url without padding, prefixed `k8s-aws-v1.`
 * (kubernetes-sigs/aws-iam-authenticator pkg/token).
 */
import { execFileSync } from "child_process";
import { createHash, createHmac, type Hash, type Hmac } from "crypto";
import { existsSync, readFileSync } from "fs";
import * as http from "http";
import * as https from "https";
import { homedir } from "os";
import * as path from "path";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity } from "@smithy/types";
import { parse } from "yaml";
import { OpsError } from "./errors";

/** GET of an API path, e.g. `/apis/apps/v1/namespaces/x/deployments/api`; the parsed JSON. */
export interface KubeApi {
  /** Where the requests go (the cluster's server), for messages. */
  server: string;
  get(apiPath: string): Promise<unknown>;
}

interface NamedCluster {
  name: string;
  cluster: {
    server: string;
    "certificate-authority-data"?: string;
    "certificate-authority"?: string;
    "insecure-skip-tls-verify"?: boolean;
    "tls-server-name"?: string;
  };
}
interface ExecConfig {
  command: string;
  args?: string[];
  env?: Array<{ name: string; value: string }> | null;
  apiVersion?: string;
}
interface NamedUser {
  name: string;
  user: {
    token?: string;
    tokenFile?: string;
    "client-certificate-data"?: string;
    "client-key-data"?: string;
    "client-certificate"?: string;
    "client-key"?: string;
    exec?: ExecConfig;
  };
}
interface NamedContext {
  name: string;
  context: { cluster: string; user: string };
}
export interface KubeConfig {
  "current-context"?: string;
  clusters?: NamedCluster[];
  users?: NamedUser[];
  contexts?: NamedContext[];
}

/**
 * The file paths a kubeconfig file names, resolved as kubectl resolves them: a relative path is
 * relative to the directory of the file that names it (each file of a merged KUBECONFIG its own),
 * and so is an exec plugin's command when it is a path (`./bin/auth`); a bare command is looked up
 * on PATH.
 */
function withPathsFrom(dir: string, config: KubeConfig): KubeConfig {
  const at = (p: string | undefined): string | undefined => (p === undefined || p === "" ? p : path.resolve(dir, p));
  const set = <T extends object, K extends keyof T>(o: T, key: K, value: T[K] | undefined): void => {
    if (value !== undefined) o[key] = value;
  };
  for (const { cluster } of config.clusters ?? []) {
    if (cluster) set(cluster, "certificate-authority", at(cluster["certificate-authority"]));
  }
  for (const { user } of config.users ?? []) {
    if (!user) continue;
    set(user, "tokenFile", at(user.tokenFile));
    set(user, "client-certificate", at(user["client-certificate"]));
    set(user, "client-key", at(user["client-key"]));
    if (user.exec?.command?.includes("/")) user.exec.command = at(user.exec.command)!;
  }
  return config;
}

/**
 * The kubeconfig: the stack's secret text, else the files of `KUBECONFIG` merged (the first file
 * that sets a value wins, as kubectl merges them), else `~/.kube/config`.
 */
export function loadKubeconfig(
  text: string | undefined,
  env: Record<string, string | undefined>,
): { config: KubeConfig; source: string } {
  const parseText = (t: string, source: string): KubeConfig => {
    try {
      const c = parse(t) as KubeConfig | null;
      if (typeof c !== "object" || c === null) throw new Error("not a YAML mapping");
      return c;
    } catch (e) {
      throw new OpsError(
        `the kubeconfig of ${source} is not valid YAML: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`,
        "fix it: kubectl --kubeconfig <file> config view reads the same file",
      );
    }
  };
  if (text !== undefined)
    return { config: parseText(text, "opsbook:kubernetes.kubeconfig"), source: "the stack config" };
  const files = (
    env.KUBECONFIG ? env.KUBECONFIG.split(path.delimiter) : [path.join(env.HOME ?? homedir(), ".kube", "config")]
  ).filter((f) => f !== "" && existsSync(f));
  if (files.length === 0) {
    throw new OpsError(
      `no kubeconfig: opsbook:kubernetes.kubeconfig is not set and ${env.KUBECONFIG ? `none of KUBECONFIG (${env.KUBECONFIG}) exists` : "~/.kube/config does not exist"}`,
      "set KUBECONFIG to the cluster's kubeconfig (on EKS: aws eks update-kubeconfig --name <cluster>), or pulumi config set --secret --path opsbook:kubernetes.kubeconfig < file",
    );
  }
  const merged: KubeConfig = { clusters: [], users: [], contexts: [] };
  for (const f of files) {
    const c = withPathsFrom(path.dirname(path.resolve(f)), parseText(readFileSync(f, "utf8"), f));
    merged["current-context"] ??= c["current-context"];
    for (const key of ["clusters", "users", "contexts"] as const) {
      const into = merged[key] as Array<{ name: string }>;
      for (const item of (c[key] ?? []) as Array<{ name: string }>)
        if (!into.some((x) => x.name === item.name)) into.push(item);
    }
  }
  return { config: merged, source: files.join(path.delimiter) };
}

/** A node crypto SHA-256 (an HMAC with a key) in the shape the SDK's signer takes. */
class Sha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: string | Uint8Array | ArrayBuffer | ArrayBufferView) {
    this.h =
      secret === undefined
        ? createHash("sha256")
        : createHmac("sha256", typeof secret === "string" ? secret : Buffer.from(secret as Uint8Array));
  }
  update(data: string | Uint8Array | ArrayBuffer | ArrayBufferView): void {
    this.h.update(typeof data === "string" ? data : Buffer.from(data as Uint8Array));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
}

/** The token `aws eks get-token --cluster-name <cluster>` prints, made from `credentials`. */
export async function eksToken(
  cluster: string,
  region: string,
  credentials: AwsCredentialIdentity,
  signingDate: Date = new Date(),
): Promise<string> {
  const hostname = `sts.${region}.amazonaws.com`;
  const signer = new SignatureV4({ service: "sts", region, credentials, sha256: Sha256 });
  const signed = await signer.presign(
    {
      method: "GET",
      protocol: "https:",
      hostname,
      path: "/",
      query: { Action: "GetCallerIdentity", Version: "2011-06-15" },
      headers: { host: hostname, "x-k8s-aws-id": cluster },
    },
    { expiresIn: 60, signingDate },
  );
  const query = Object.entries(signed.query ?? {})
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join("&");
  return `k8s-aws-v1.${Buffer.from(`https://${hostname}/?${query}`).toString("base64url")}`;
}

/** The cluster name and region an `aws eks get-token` or `aws-iam-authenticator token` plugin names. */
export function eksPlugin(exec: ExecConfig): { cluster: string; region?: string } | undefined {
  const args = exec.args ?? [];
  const after = (...flags: string[]) => {
    const i = args.findIndex((a) => flags.includes(a));
    const inline = args
      .map((a) => flags.map((f) => (a.startsWith(`${f}=`) ? a.slice(f.length + 1) : undefined)).find(Boolean))
      .find(Boolean);
    return inline ?? (i === -1 ? undefined : args[i + 1]);
  };
  const base = path.basename(exec.command);
  let cluster: string | undefined;
  if (base === "aws" && args.includes("eks") && args.includes("get-token")) cluster = after("--cluster-name");
  else if (base === "aws-iam-authenticator" && args.includes("token")) cluster = after("-i", "--cluster-id");
  if (!cluster) return undefined;
  const region = after("--region");
  return { cluster, ...(region ? { region } : {}) };
}

interface Auth {
  token?: string;
  cert?: Buffer;
  key?: Buffer;
  /** When the plugin said the credential expires (ms). */
  expires?: number;
}

/** Runs an `exec` plugin as kubectl does and reads its ExecCredential. */
function runExec(exec: ExecConfig, env: Record<string, string | undefined>): Auth {
  const out = execFileSync(exec.command, exec.args ?? [], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...env,
      ...Object.fromEntries((exec.env ?? []).map((e) => [e.name, e.value])),
      KUBERNETES_EXEC_INFO: JSON.stringify({
        apiVersion: exec.apiVersion ?? "client.authentication.k8s.io/v1beta1",
        kind: "ExecCredential",
        spec: { interactive: false },
      }),
    },
  });
  const status = (
    JSON.parse(out) as {
      status?: { token?: string; clientCertificateData?: string; clientKeyData?: string; expirationTimestamp?: string };
    }
  ).status;
  // ExecCredential's expirationTimestamp (RFC 3339), when the plugin gives one: not reused past it.
  const expiresAt = status?.expirationTimestamp ? Date.parse(status.expirationTimestamp) : NaN;
  const expiry = Number.isNaN(expiresAt) ? {} : { expires: expiresAt };
  if (status?.token) return { token: status.token, ...expiry };
  if (status?.clientCertificateData && status.clientKeyData)
    return { cert: Buffer.from(status.clientCertificateData), key: Buffer.from(status.clientKeyData), ...expiry };
  throw new Error(`${exec.command} printed no status.token and no client certificate`);
}

/** How long a plugin's credential is reused: well inside the 15 minutes an EKS token is accepted. */
const AUTH_REUSE_MS = 5 * 60_000;

/** The credential of an `exec` plugin, or the EKS token made here when the plugin is missing. */
async function pluginAuth(exec: ExecConfig, o: KubeOptions): Promise<Auth> {
  const eks = eksPlugin(exec);
  try {
    return runExec(exec, o.env);
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === "ENOENT";
    if (!(missing && eks)) {
      throw new OpsError(
        `the kubeconfig's exec plugin ${exec.command} failed: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`,
        `run it yourself (${[exec.command, ...(exec.args ?? [])].join(" ")}) and fix what it says, or set a kubeconfig with a token`,
      );
    }
  }
  // The plugin is not installed here: the same token, from the credentials the AWS steps use.
  let credentials: AwsCredentialIdentity;
  try {
    credentials = await o.credentials();
  } catch (err) {
    throw new OpsError(
      `no AWS credentials for the EKS token of cluster ${eks.cluster}: ${err instanceof Error ? err.message : String(err)}`,
      "configure the AWS credentials (AWS_PROFILE, or the CI's role); the identity needs access to the cluster (an EKS access entry)",
    );
  }
  return { token: await eksToken(eks.cluster, eks.region ?? o.region, credentials) };
}

export interface KubeOptions {
  /** `opsbook:kubernetes.kubeconfig` (the text), if the stack sets it. */
  kubeconfig?: string;
  /** `opsbook:kubernetes.context`, else the kubeconfig's current context. */
  context?: string;
  env: Record<string, string | undefined>;
  /** The stack's region: the EKS token's when the plugin names none. */
  region: string;
  /** The AWS credentials of the other steps (SDK default chain), for an EKS token. */
  credentials: () => Promise<AwsCredentialIdentity>;
}

/** An API server's URL, when it is one: http or https. */
function serverUrl(server: string): URL | undefined {
  try {
    const url = new URL(server);
    return url.protocol === "https:" || url.protocol === "http:" ? url : undefined;
  } catch {
    return undefined;
  }
}

/** A client for the kubeconfig's context; throws an OpsError that names what is missing. */
export async function kubeApi(o: KubeOptions): Promise<KubeApi> {
  const { config, source } = loadKubeconfig(o.kubeconfig, o.env);
  const contextName = o.context ?? config["current-context"];
  const context = config.contexts?.find((c) => c.name === contextName)?.context;
  if (!context) {
    throw new OpsError(
      `the kubeconfig (${source}) has no context ${contextName ? `"${contextName}"` : "set as current-context"}`,
      "set opsbook:kubernetes.context to one of its contexts (kubectl config get-contexts), or its current-context",
    );
  }
  const cluster = config.clusters?.find((c) => c.name === context.cluster)?.cluster;
  const user = config.users?.find((u) => u.name === context.user)?.user ?? {};
  if (!cluster?.server) {
    throw new OpsError(
      `the kubeconfig (${source}) has no cluster "${context.cluster}" with a server`,
      "fix the kubeconfig: kubectl config view shows what it holds",
    );
  }
  // Checked before any plugin runs: a server without its scheme (`host:6443`) either fails to parse
  // or parses with the host as the scheme, and neither reaches the cluster.
  const base = serverUrl(cluster.server);
  if (!base) {
    throw new OpsError(
      `the kubeconfig (${source}) has clusters[].cluster.server ${JSON.stringify(cluster.server)} for cluster "${context.cluster}": not an https:// (or http://) URL`,
      "set it to the API server's URL with its scheme, https://host:port (kubectl config set-cluster <name> --server https://host:port)",
    );
  }
  // A file the kubeconfig names: one that cannot be read is the kubeconfig's problem, named as such.
  const file = (field: string, p: string): Buffer => {
    try {
      return readFileSync(path.resolve(p));
    } catch (e) {
      throw new OpsError(
        `the kubeconfig (${source}) names ${field} ${p}, which cannot be read: ${e instanceof Error ? e.message : String(e)}`,
        `fix ${field} in the kubeconfig (a relative path is read from the kubeconfig file's directory, or from the directory opsbook runs in for opsbook:kubernetes.kubeconfig), or embed the value with ${field === "tokenFile" ? "token" : `${field}-data`}`,
      );
    }
  };
  const ca = cluster["certificate-authority-data"]
    ? Buffer.from(cluster["certificate-authority-data"], "base64")
    : cluster["certificate-authority"]
      ? file("certificate-authority", cluster["certificate-authority"])
      : undefined;
  let fixed: Auth | undefined;
  if (user.token) fixed = { token: user.token };
  else if (user.tokenFile) fixed = { token: file("tokenFile", user.tokenFile).toString("utf8").trim() };
  else if (user["client-certificate-data"] || user["client-certificate"]) {
    fixed = {
      cert: user["client-certificate-data"]
        ? Buffer.from(user["client-certificate-data"], "base64")
        : file("client-certificate", user["client-certificate"]!),
      ...(user["client-key-data"]
        ? { key: Buffer.from(user["client-key-data"], "base64") }
        : user["client-key"]
          ? { key: file("client-key", user["client-key"]) }
          : {}),
    };
  } else if (!user.exec) fixed = {};
  // A plugin's credential is short-lived (an EKS token lasts 15 min; a deploy can take longer):
  // made again when it is older than AUTH_REUSE_MS or past the expiry the plugin printed.
  let cached: { auth: Auth; until: number } | undefined;
  const authFor = async (): Promise<Auth> => {
    if (fixed) return fixed;
    if (cached && Date.now() < cached.until) return cached.auth;
    const made = await pluginAuth(user.exec!, o);
    cached = { auth: made, until: Math.min(Date.now() + AUTH_REUSE_MS, made.expires ?? Infinity) };
    return made;
  };
  await authFor();
  const client = base.protocol === "https:" ? https : http;
  return {
    server: cluster.server,
    get: async (apiPath) => {
      const auth = await authFor();
      return new Promise((resolve, reject) => {
        const url = new URL(base.pathname.replace(/\/$/, "") + apiPath, base);
        const req = client.request(
          url,
          {
            method: "GET",
            headers: { Accept: "application/json", ...(auth.token ? { Authorization: `Bearer ${auth.token}` } : {}) },
            ...(ca ? { ca } : {}),
            ...(auth.cert ? { cert: auth.cert } : {}),
            ...(auth.key ? { key: auth.key } : {}),
            ...(cluster["tls-server-name"] ? { servername: cluster["tls-server-name"] } : {}),
            rejectUnauthorized: cluster["insecure-skip-tls-verify"] !== true,
            timeout: 15_000,
          },
          (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (c: string) => (body += c));
            res.on("end", () => {
              const status = res.statusCode ?? 0;
              if (status < 200 || status >= 300) {
                let why = body.slice(0, 200);
                try {
                  why = (JSON.parse(body) as { message?: string }).message ?? why;
                } catch {
                  // not a Status object: the body's start is the message
                }
                reject(new KubeError(status, `GET ${apiPath}: ${status} ${why}`, refusedHint(status, apiPath, source)));
                return;
              }
              try {
                resolve(JSON.parse(body) as unknown);
              } catch {
                reject(
                  new KubeError(status, `GET ${apiPath}: the answer is not JSON`, refusedHint(status, apiPath, source)),
                );
              }
            });
          },
        );
        req.on("timeout", () => req.destroy(new Error(`GET ${apiPath}: no answer from ${cluster.server} in 15 s`)));
        req.on("error", reject);
        req.end();
      });
    },
  };
}

/**
 * What to do about an answer of the API server: a 401 is the credentials (expired or for another
 * cluster), a 403 the identity's RBAC, which must allow what the verify and watch steps read.
 */
function refusedHint(status: number, apiPath: string, source: string): string {
  if (status === 401)
    return `the kubeconfig's credentials (${source}) are not accepted: refresh them (on EKS: aws sso login, or the CI's role, then aws eks update-kubeconfig --name <cluster>) and run again`;
  if (status === 403)
    return `the kubeconfig's identity (${source}) was refused GET ${apiPath}: it needs get on deployments and list on pods in the stack's namespace, and get on services/proxy in the Prometheus namespace (README "Permissions the commands need"; a Role bound to it, on EKS an access entry)`;
  return `kubectl get --raw '${apiPath}' makes the same request; check the cluster and the kubeconfig (${source})`;
}

/** A Kubernetes API answer other than 2xx (its Status message), with what to do about it. */
export class KubeError extends OpsError {
  constructor(
    readonly status: number,
    message: string,
    hint: string,
  ) {
    super(message, hint);
    this.name = "KubeError";
  }
}
