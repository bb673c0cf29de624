/**
 * Verify and watch (R-deploy-verify, R-deploy-smoke-tests, R-deploy-post-watch): after the update,
 * each changed service's ECS service deployment must have ended SUCCESSFUL (not rolled back or
 * stopped; `pulumi up` alone reports success after an ECS rollback, pulumi/pulumi-aws#4487), ECS
 * must run the task definition the stack names, and the health and smoke requests through the load
 * balancer must answer as expected; then the critical alarms and the deployments are watched.
 */
import {
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  ListServiceDeploymentsCommand,
  type ECSClient,
} from "@aws-sdk/client-ecs";
import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { awsCall } from "../aws";
import type { KubeApi } from "../kube";
import type { ServiceFacts, StackFacts } from "./facts";
import { criticalAlertsFiring, deploymentTrouble, verifyRollouts, type RolloutState } from "./kubernetes";
import { ingressRequestTo, requestTo, type Request } from "./routing";
import { alarmsFiring, SETTLE_MINUTES, type Sleep } from "./steps";

export type Fetch = (url: string, init: { redirect: "manual"; signal: AbortSignal }) => Promise<{ status: number }>;

const FAILED = new Set([
  "ROLLBACK_REQUESTED",
  "ROLLBACK_IN_PROGRESS",
  "ROLLBACK_SUCCESSFUL",
  "ROLLBACK_FAILED",
  "STOPPED",
  "STOP_REQUESTED",
]);

export interface DeploymentState {
  service: string;
  arn?: string;
  status: string;
  reason?: string;
}

/** What has changed when a check cannot call ECS: these run after the update (or the revert) is applied. */
const APPLIED = "the update is applied and its checks did not finish";

/** The newest ECS service deployment of `service` created at or after `since`. */
async function deploymentSince(
  ecs: ECSClient,
  cluster: string,
  name: string,
  s: ServiceFacts,
  since: Date,
): Promise<DeploymentState> {
  const list = await awsCall(
    () => ecs.send(new ListServiceDeploymentsCommand({ cluster, service: s.serviceName, createdAt: { after: since } })),
    {
      call: `ECS ListServiceDeployments of ${s.serviceName}`,
      permission: "ecs:ListServiceDeployments",
      changed: APPLIED,
    },
  );
  const newest = [...(list.serviceDeployments ?? [])].sort(
    (a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0),
  )[0];
  if (!newest?.serviceDeploymentArn) return { service: name, status: "NONE" };
  return describeDeployment(ecs, name, newest.serviceDeploymentArn);
}

async function describeDeployment(ecs: ECSClient, name: string, arn: string): Promise<DeploymentState> {
  const out = await awsCall(() => ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] })), {
    call: `ECS DescribeServiceDeployments of ${arn}`,
    permission: "ecs:DescribeServiceDeployments",
    changed: APPLIED,
  });
  const d = out.serviceDeployments?.[0];
  return { service: name, arn, status: d?.status ?? "UNKNOWN", ...(d?.statusReason ? { reason: d.statusReason } : {}) };
}

export interface VerifyInput {
  ecs: ECSClient;
  /** The cluster's API, on `compute.platform: kubernetes`. */
  kube?: KubeApi;
  fetch: Fetch;
  sleep: Sleep;
  log: (s: string) => void;
  facts: StackFacts;
  /** Services whose task definition the update changed: their ECS deployment is checked. */
  changed: string[];
  /** When the update began: the deployment to check was created after it. */
  since: Date;
  pollSeconds?: number;
  /** How long an IN_PROGRESS deployment may take to end after `up` returned. */
  settleMinutes?: number;
}

export interface VerifyResult {
  problems: string[];
  deployments: DeploymentState[];
  /** On Kubernetes: each Deployment's rollout, watched after. */
  rollouts: RolloutState[];
  notes: string[];
}

/** The URL that reaches `service` at `path`: through the load balancer on ECS, the Ingress on Kubernetes. */
export function requestFor(facts: StackFacts, service: string, path: string): Request {
  if (facts.kubernetes) {
    const d = facts.kubernetes.deployments[service];
    if (!d) return { ok: false, why: `${service} is not a Deployment of the stack` };
    return ingressRequestTo(facts.kubernetes.ingressRules, d.serviceName, path);
  }
  const routes = Object.fromEntries(
    Object.entries(facts.services).flatMap(([n, s]) => (s.routing ? [[n, s.routing] as const] : [])),
  );
  return requestTo(routes, service, path, facts.url);
}

/** Each service's health path: the target group's on ECS, the readiness probe's on Kubernetes. */
function healthPaths(facts: StackFacts): Array<[string, string]> {
  if (facts.kubernetes) return Object.entries(facts.kubernetes.deployments).map(([n, d]) => [n, d.healthCheckPath]);
  return Object.entries(facts.services).flatMap(([n, s]) => (s.routing ? [[n, s.routing.healthCheckPath]] : []));
}

/** Every check of R-deploy-verify; returns the problems found (none: verified). */
export async function verify(v: VerifyInput): Promise<VerifyResult> {
  const problems: string[] = [];
  const notes: string[] = [];
  const deployments: DeploymentState[] = [];
  let rollouts: RolloutState[] = [];
  if (v.facts.kubernetes) {
    if (!v.kube) throw new Error("no Kubernetes client for a stack on Kubernetes");
    const r = await verifyRollouts({
      kube: v.kube,
      facts: v.facts.kubernetes,
      sleep: v.sleep,
      log: v.log,
      ...(v.pollSeconds !== undefined ? { pollSeconds: v.pollSeconds } : {}),
      ...(v.settleMinutes !== undefined ? { settleMinutes: v.settleMinutes } : {}),
    });
    problems.push(...r.problems);
    rollouts = r.rollouts;
  } else problems.push(...(await verifyEcs(v, deployments)));
  const checks: Array<{ service: string; path: string; status: number; what: string }> = [];
  for (const [name, path] of healthPaths(v.facts)) checks.push({ service: name, path, status: 200, what: "health" });
  for (const [name, list] of Object.entries(v.facts.smokeChecks))
    for (const c of list) checks.push({ service: name, path: c.path, status: c.status, what: "smoke check" });
  for (const c of checks) {
    const req = requestFor(v.facts, c.service, c.path);
    if (!req.ok) {
      // A health path the listener does not route to its service is covered by the target
      // group's health check (ECS needs it to pass for SUCCESSFUL), on Kubernetes by the readiness
      // probe (the rollout needs it to complete); a smoke check must be reachable.
      if (c.what === "health")
        notes.push(
          `${c.service} ${c.path} not requested through the ${v.facts.kubernetes ? "Ingress" : "load balancer"}: ${req.why}`,
        );
      else problems.push(`${c.service}: smoke check ${c.path} cannot be reached: ${req.why}`);
      continue;
    }
    try {
      const res = await v.fetch(req.url, { redirect: "manual", signal: AbortSignal.timeout(10_000) });
      if (res.status !== c.status)
        problems.push(`${c.service}: ${c.what} ${req.url} answered ${res.status}, expected ${c.status}`);
      else v.log(`${c.service}: ${c.what} ${req.url} ${res.status}`);
    } catch (e) {
      problems.push(`${c.service}: ${c.what} ${req.url} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return { problems, deployments, rollouts, notes };
}

/** The ECS checks: each changed service's deployment SUCCESSFUL, and every service on the stack's task definition. */
async function verifyEcs(v: VerifyInput, deployments: DeploymentState[]): Promise<string[]> {
  const problems: string[] = [];
  const cluster = v.facts.clusterName!;
  const poll = (v.pollSeconds ?? 15) * 1000;
  for (const name of v.changed) {
    const s = v.facts.services[name]!;
    let state = await deploymentSince(v.ecs, cluster, name, s, v.since);
    for (
      let i = 0;
      i < ((v.settleMinutes ?? SETTLE_MINUTES) * 60_000) / poll &&
      (state.status === "IN_PROGRESS" || state.status === "PENDING");
      i++
    ) {
      v.log(`${name}: ECS deployment ${state.status}`);
      await v.sleep(poll);
      state = state.arn ? await describeDeployment(v.ecs, name, state.arn) : state;
    }
    deployments.push(state);
    if (state.status === "NONE") problems.push(`${name}: ECS started no service deployment after the update began`);
    else if (state.status !== "SUCCESSFUL")
      problems.push(
        `${name}: ECS deployment ${state.arn} ended ${state.status}${state.reason ? `: ${state.reason}` : ""}`,
      );
  }
  const names = Object.keys(v.facts.services);
  if (names.length > 0) {
    const serviceNames = names.map((n) => v.facts.services[n]!.serviceName);
    const out = await awsCall(
      () => v.ecs.send(new DescribeServicesCommand({ cluster: cluster, services: serviceNames })),
      {
        call: `ECS DescribeServices of ${serviceNames.join(", ")}`,
        permission: "ecs:DescribeServices",
        changed: APPLIED,
      },
    );
    for (const name of names) {
      const s = v.facts.services[name]!;
      const running = out.services?.find((x) => x.serviceName === s.serviceName)?.taskDefinition;
      if (running !== s.taskDefinitionArn)
        problems.push(`${name}: ECS runs ${running ?? "nothing"}, the stack names ${s.taskDefinitionArn}`);
    }
  }
  return problems;
}

/** Smoke checks the listener would not route to their service: refused before anything changes. */
export function unreachableSmokeChecks(facts: StackFacts): string[] {
  return Object.entries(facts.smokeChecks).flatMap(([name, list]) =>
    list.flatMap((c) => {
      const r = requestFor(facts, name, c.path);
      return r.ok ? [] : [`${name} ${c.path}: ${r.why}`];
    }),
  );
}

export interface WatchInput {
  ecs: ECSClient;
  /** On Kubernetes: the cluster, its facts, and whether its Prometheus answers (read at the pre-checks). */
  kube?: KubeApi;
  kubernetes?: StackFacts["kubernetes"];
  prometheus?: boolean;
  rollouts?: RolloutState[];
  cloudwatch: CloudWatchClient;
  sleep: Sleep;
  now: () => Date;
  log: (s: string) => void;
  alarmNames: string[];
  deployments: DeploymentState[];
  minutes: number;
  pollSeconds?: number;
}

/** Polls the critical alarms and the deployments for `minutes`; the first trouble ends the watch. */
export async function watch(w: WatchInput): Promise<{ problem?: string; polls: number }> {
  const end = w.now().getTime() + w.minutes * 60_000;
  const poll = (w.pollSeconds ?? 30) * 1000;
  let polls = 0;
  for (;;) {
    polls++;
    const firing = await alarmsFiring(w.cloudwatch, w.alarmNames);
    if (firing.length > 0) return { problem: `critical alarm in ALARM: ${firing.join(", ")}`, polls };
    if (w.kube && w.kubernetes) {
      if (w.prometheus) {
        const alerts = await criticalAlertsFiring(w.kube, w.kubernetes);
        if (alerts.length > 0) return { problem: `critical alert firing in Prometheus: ${alerts.join(", ")}`, polls };
      }
      for (const r of w.rollouts ?? []) {
        const trouble = await deploymentTrouble(w.kube, w.kubernetes, r);
        if (trouble) return { problem: trouble, polls };
      }
    }
    for (const d of w.deployments) {
      if (!d.arn) continue;
      const now = await describeDeployment(w.ecs, d.service, d.arn);
      if (FAILED.has(now.status))
        return {
          problem: `${d.service}: ECS deployment ${d.arn} is now ${now.status}${now.reason ? `: ${now.reason}` : ""}`,
          polls,
        };
    }
    const left = end - w.now().getTime();
    if (left <= 0) return { polls };
    w.log(`watching: all clear, ${Math.ceil(left / 60_000)} min to go`);
    await w.sleep(Math.min(poll, left));
  }
}
