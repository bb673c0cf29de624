/**
 * Verify and watch on `compute.platform: kubernetes` (R-k8s-verify, R-deploy-verify,
 * R-deploy-post-watch): what the ECS deployment status and the running task definition are on ECS,
 * the Deployment's rollout status and its pods' image are here, read from the Kubernetes API as
 * `kubectl rollout status` reads them; the critical alerts of the stack's PrometheusRule are read
 * from the cluster's Prometheus through the API server's service proxy.
 */
import type { KubeApi } from "../kube";
import type { DeploymentFacts, KubernetesFacts } from "./facts";
import { SETTLE_MINUTES, type Sleep } from "./steps";

/** The fields of an apps/v1 Deployment the checks read. */
export interface Deployment {
  metadata?: { name?: string; generation?: number };
  spec?: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> };
    template?: { spec?: { containers?: Array<{ name?: string; image?: string }> } };
  };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    unavailableReplicas?: number;
    conditions?: Array<{ type?: string; status?: string; reason?: string; message?: string }>;
  };
}

/** The fields of a v1 PodList the image check reads. */
export interface PodList {
  items?: Array<{
    metadata?: { name?: string; deletionTimestamp?: string };
    spec?: { containers?: Array<{ name?: string; image?: string }> };
    status?: { phase?: string };
  }>;
}

export type Rollout = { state: "complete" } | { state: "progressing"; why: string } | { state: "failed"; why: string };

/**
 * The rollout of one Deployment, by the rules of `kubectl rollout status`: failed once its
 * `Progressing` condition says `ProgressDeadlineExceeded`; complete when the controller observed
 * the current generation, every replica is updated and available, none unavailable, and
 * `Progressing` says `NewReplicaSetAvailable`.
 */
export function rolloutOf(d: Deployment): Rollout {
  const progressing = d.status?.conditions?.find((c) => c.type === "Progressing");
  if (progressing?.reason === "ProgressDeadlineExceeded")
    return { state: "failed", why: `ProgressDeadlineExceeded: ${progressing.message ?? "no message"}` };
  const want = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  const generation = d.metadata?.generation ?? 0;
  if ((s.observedGeneration ?? 0) < generation)
    return { state: "progressing", why: `generation ${generation} not observed yet (${s.observedGeneration ?? 0})` };
  if ((s.updatedReplicas ?? 0) !== want)
    return { state: "progressing", why: `${s.updatedReplicas ?? 0} of ${want} replicas updated` };
  if ((s.replicas ?? 0) > want)
    return { state: "progressing", why: `${(s.replicas ?? 0) - want} old replicas pending termination` };
  if ((s.availableReplicas ?? 0) !== want)
    return { state: "progressing", why: `${s.availableReplicas ?? 0} of ${want} updated replicas available` };
  if ((s.unavailableReplicas ?? 0) > 0)
    return { state: "progressing", why: `${s.unavailableReplicas} replicas unavailable` };
  if (progressing?.reason !== "NewReplicaSetAvailable")
    return {
      state: "progressing",
      why: `Progressing is ${progressing?.reason ?? "not reported"}, not NewReplicaSetAvailable`,
    };
  return { state: "complete" };
}

const deploymentPath = (ns: string, name: string) =>
  `/apis/apps/v1/namespaces/${encodeURIComponent(ns)}/deployments/${encodeURIComponent(name)}`;

/** Problems with the image of the pods that run: each must run the stack's image, `replicas` of them. */
export function podImageProblems(pods: PodList, d: DeploymentFacts, replicas: number, service: string): string[] {
  const running = (pods.items ?? []).filter((p) => p.status?.phase === "Running" && !p.metadata?.deletionTimestamp);
  const problems: string[] = [];
  let matching = 0;
  for (const p of running) {
    const image = p.spec?.containers?.find((c) => c.name === d.container)?.image;
    if (image === d.image) matching++;
    else
      problems.push(
        `${service}: pod ${p.metadata?.name ?? "?"} runs ${image ?? "no container " + d.container}, the stack names ${d.image}`,
      );
  }
  if (matching < replicas)
    problems.push(`${service}: ${matching} running pods run ${d.image}, the Deployment wants ${replicas}`);
  return problems;
}

export interface RolloutState {
  service: string;
  deployment: string;
  generation?: number;
  state: Rollout["state"];
  why?: string;
}

/**
 * Each Deployment's rollout until complete or failed (at most `settleMinutes`, {@link SETTLE_MINUTES}), then its pods'
 * image. `pulumi up` waits for the rollout already; this catches a rollout that `up` did not wait
 * for (skipAwait, a timeout) and pods of an older ReplicaSet still serving.
 */
export async function verifyRollouts(v: {
  kube: KubeApi;
  facts: KubernetesFacts;
  sleep: Sleep;
  log: (s: string) => void;
  pollSeconds?: number;
  settleMinutes?: number;
}): Promise<{ problems: string[]; rollouts: RolloutState[] }> {
  const problems: string[] = [];
  const rollouts: RolloutState[] = [];
  const poll = (v.pollSeconds ?? 10) * 1000;
  const settleMinutes = v.settleMinutes ?? SETTLE_MINUTES;
  const polls = (settleMinutes * 60_000) / poll;
  for (const [service, d] of Object.entries(v.facts.deployments)) {
    let dep = (await v.kube.get(deploymentPath(v.facts.namespace, d.name))) as Deployment;
    let r = rolloutOf(dep);
    for (let i = 0; i < polls && r.state === "progressing"; i++) {
      v.log(`${service}: rollout of Deployment ${v.facts.namespace}/${d.name}: ${r.why}`);
      await v.sleep(poll);
      dep = (await v.kube.get(deploymentPath(v.facts.namespace, d.name))) as Deployment;
      r = rolloutOf(dep);
    }
    rollouts.push({
      service,
      deployment: d.name,
      ...(dep.metadata?.generation !== undefined ? { generation: dep.metadata.generation } : {}),
      state: r.state,
      ...(r.state !== "complete" ? { why: r.why } : {}),
    });
    if (r.state === "failed") {
      problems.push(`${service}: the rollout of Deployment ${v.facts.namespace}/${d.name} failed: ${r.why}`);
      continue;
    }
    if (r.state === "progressing") {
      problems.push(
        `${service}: the rollout of Deployment ${v.facts.namespace}/${d.name} did not complete in ${settleMinutes} min: ${r.why}`,
      );
      continue;
    }
    const declared = dep.spec?.template?.spec?.containers?.find((c) => c.name === d.container)?.image;
    if (declared !== d.image)
      problems.push(
        `${service}: Deployment ${v.facts.namespace}/${d.name} runs ${declared ?? "no container " + d.container}, the stack names ${d.image}`,
      );
    const selector = Object.entries(dep.spec?.selector?.matchLabels ?? {})
      .map(([k, val]) => `${k}=${val}`)
      .join(",");
    const pods = (await v.kube.get(
      `/api/v1/namespaces/${encodeURIComponent(v.facts.namespace)}/pods?labelSelector=${encodeURIComponent(selector)}`,
    )) as PodList;
    problems.push(...podImageProblems(pods, d, dep.spec?.replicas ?? 1, service));
  }
  return { problems, rollouts };
}

/** One watch poll of a Deployment: trouble once its rollout fails or someone else changed it. */
export async function deploymentTrouble(
  kube: KubeApi,
  facts: KubernetesFacts,
  r: RolloutState,
): Promise<string | undefined> {
  const d = facts.deployments[r.service]!;
  const dep = (await kube.get(deploymentPath(facts.namespace, d.name))) as Deployment;
  const now = rolloutOf(dep);
  if (now.state === "failed") return `${r.service}: Deployment ${facts.namespace}/${d.name} ${now.why}`;
  if (r.generation !== undefined && dep.metadata?.generation !== r.generation)
    return `${r.service}: Deployment ${facts.namespace}/${d.name} changed to generation ${dep.metadata?.generation} during the watch (a rollout undo, another update)`;
  return undefined;
}

/** The Service prometheus-operator creates for every Prometheus it runs (port `web`, 9090). */
const PROMETHEUS_SERVICE = "prometheus-operated:9090";

/** The Prometheus HTTP API `/api/v1/alerts` answer. */
interface AlertsAnswer {
  status?: string;
  data?: { alerts?: Array<{ labels?: Record<string, string>; state?: string }> };
}

/**
 * The stack's critical alerts firing now (`severity: critical` with the stack's `environment`
 * label, as the PrometheusRule labels them), read through the API server's service proxy.
 */
export async function criticalAlertsFiring(kube: KubeApi, facts: KubernetesFacts): Promise<string[]> {
  const answer = (await kube.get(
    `/api/v1/namespaces/${encodeURIComponent(facts.prometheusNamespace)}/services/${PROMETHEUS_SERVICE}/proxy/api/v1/alerts`,
  )) as AlertsAnswer;
  if (answer.status !== "success" || !Array.isArray(answer.data?.alerts))
    throw new Error(`Prometheus answered ${answer.status ?? "without a status"} to /api/v1/alerts`);
  return answer.data.alerts
    .filter(
      (a) => a.state === "firing" && a.labels?.severity === "critical" && a.labels.environment === facts.environment,
    )
    .map((a) => `${a.labels!.alertname ?? "?"}${a.labels!.service ? ` (${a.labels!.service})` : ""}`);
}
