/**
 * `opsbook rollback`: the stack revert (R-rollback-manual). The target comes from what actually
 * ran (the update history), not from a git ref: its recorded commit is checked out in a temporary
 * worktree and its recorded config applied there, then `up` runs. The time to initiate and to
 * complete is measured against runbook 004 (R-rollback-sla: 5 and 10 minutes).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { bool, str, type CommandSpec } from "../args";
import { ROLLBACK_LIMITS } from "../../lib/rollbackTiming";
import { addWorktree, removeWorktree } from "../../lib/worktree";
import type { Context } from "../context";
import { EXIT, failure, OpsError, Refusal, UsageError } from "../errors";
import {
  configObject,
  GIT_HEAD,
  printableConfig,
  rollbackMessage,
  selectRollback,
  updateConfig,
  type Update,
} from "../history";
import { fmt } from "../progress";
import { pulumiError, REPO_ROOT } from "../pulumi";
import { refuseInClusterData, stackFacts, type StackFacts } from "../deploy/facts";
import { verify, type VerifyResult } from "../deploy/verify";
import { kubeApi, type KubeApi } from "../kube";
import type { StackHandle } from "../pulumi";

export const rollbackSpec: CommandSpec = {
  name: "rollback",
  summary:
    "Revert the stack to the newest earlier update that succeeded and that no rollback marked bad: its git commit, checked out in a temporary worktree, with its config, applied by `pulumi up`.",
  flags: [
    {
      name: "to",
      kind: "string",
      value: "<version>",
      description: "roll back to this update version (see `opsbook history`)",
    },
    { name: "reason", kind: "string", value: "<text>", description: "why; recorded in the update message" },
    {
      name: "dry-run",
      kind: "boolean",
      description: "print { stack, from, to, commit, config } and change nothing (needs only the state backend)",
    },
  ],
  details:
    "The update message records the version rolled back from (`opsbook rollback from v<N> to v<M>`), so the history marks it bad and no later rollback returns to it.",
};

export interface RollbackPlan {
  stack: string;
  from: number;
  to: number;
  commit: string;
  config: Record<string, string>;
}

/** Reads the history and picks the target; throws a Refusal that says why none fits. */
export async function planRollback(ctx: Context, stack: string, to: number | undefined) {
  const handle = await ctx.progress.step(`select stack ${stack}`, () => ctx.openStack(stack));
  const history = (await ctx.progress.step(
    "read the update history",
    () => handle.history(),
    (h) => `${h.length} updates`,
  )) as Update[];
  const chosen = await ctx.progress.step(
    "choose the version to return to",
    () => Promise.resolve(selectRollback(history, to)),
    (s) => (s.ok ? `v${s.from.version} -> v${s.to.version}` : undefined),
  );
  if (!chosen.ok) throw new Refusal(`no rollback for stack ${stack}: ${chosen.why}`, chosen.hint);
  const plan: RollbackPlan = {
    stack,
    from: chosen.from.version,
    to: chosen.to.version,
    commit: chosen.to.environment[GIT_HEAD]!,
    config: printableConfig(chosen.to),
  };
  return { plan, target: chosen.to, handle };
}

/** Output values of an update result (`UpResult.outputs` holds `{ value, secret }`). */
export function outputValues(outputs: Record<string, { value: unknown }> | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(outputs ?? {}).map(([k, v]) => [k, v.value]));
}

export interface RollbackDone {
  initiatedSeconds: number;
  completedSeconds: number;
  withinSla: boolean;
  /** The stack outputs after the revert. */
  outputs: Record<string, unknown>;
}

/**
 * Applies the plan: the target's commit in a temporary worktree, its recorded config, `up`. Used by
 * `opsbook rollback` and by `opsbook deploy` when a deploy fails verification or the watch.
 */
export async function applyRollback(
  ctx: Context,
  plan: RollbackPlan,
  target: Update,
  reason: string | undefined,
  started: number,
): Promise<RollbackDone> {
  const stack = plan.stack;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "opsbook-rollback-"));
  try {
    await ctx.progress.step(`check out ${plan.commit.slice(0, 12)} in a temporary worktree`, () => {
      try {
        addWorktree(REPO_ROOT, dir, plan.commit);
      } catch (e) {
        throw new OpsError(
          `commit ${plan.commit} of v${plan.to} is not in this clone: ${e instanceof Error ? e.message.split("\n")[0] : ""}`,
          "fetch it (git fetch origin) and run the rollback again",
        );
      }
      // Today's dependencies run the earlier program: a rollback must not wait for an install.
      fs.symlinkSync(fs.realpathSync(path.join(REPO_ROOT, "node_modules")), path.join(dir, "node_modules"), "dir");
      return Promise.resolve();
    });
    const handle = await ctx.progress.step("select the stack in the worktree", () => ctx.openStack(stack, dir));
    await ctx.progress.step(`apply the config of v${plan.to}`, async () => {
      try {
        await handle.setConfig(updateConfig(target));
      } catch (e) {
        throw pulumiError(e, "setting the config", stack);
      }
    });
    const initiated = ctx.progress.elapsed() - started;
    const result = await ctx.progress.step(`pulumi up (v${plan.from} -> v${plan.to})`, async () => {
      try {
        return await handle.up({
          message: rollbackMessage(plan.from, plan.to, reason),
          onOutput: (s) => ctx.progress.log(s),
          signal: ctx.signal,
        });
      } catch (e) {
        throw pulumiError(e, "the rollback update", stack, ctx.signal);
      }
    });
    const completed = ctx.progress.elapsed() - started;
    return {
      initiatedSeconds: Math.round(initiated),
      completedSeconds: Math.round(completed),
      withinSla:
        initiated <= ROLLBACK_LIMITS.startsWithinSeconds && completed <= ROLLBACK_LIMITS.completesWithinSeconds,
      outputs: outputValues(result.outputs),
    };
  } finally {
    removeWorktree(REPO_ROOT, dir);
  }
}

/** "initiated in 1 min 05 s (runbook 004: under 5 min), completed in 4 min 10 s (under 10 min)" */
export function slaText(done: RollbackDone): string {
  return `initiated in ${fmt(done.initiatedSeconds)} (runbook 004: under ${ROLLBACK_LIMITS.startsWithinSeconds / 60} min), completed in ${fmt(done.completedSeconds)} (under ${ROLLBACK_LIMITS.completesWithinSeconds / 60} min)${done.withinSla ? "" : " -- OUTSIDE the runbook's limits"}`;
}

export async function rollback(ctx: Context): Promise<number> {
  const stack = str(ctx.flags, "stack")!;
  const toText = str(ctx.flags, "to");
  if (toText !== undefined && !/^\d+$/.test(toText))
    throw new UsageError(`--to ${toText}: not a version number`, "rollback");
  const started = ctx.progress.elapsed();
  const { plan, target, handle } = await planRollback(ctx, stack, toText === undefined ? undefined : Number(toText));
  const data = configObject(target.config ?? {}, "opsbook:data") as { platform?: unknown } | undefined;
  refuseInClusterData(data?.platform, stack, "rollback");

  if (bool(ctx.flags, "dry-run")) {
    ctx.progress.skip("apply the earlier version", "dry run");
    if (bool(ctx.flags, "json")) ctx.out(JSON.stringify(plan, null, 2) + "\n");
    else
      ctx.out(
        `would roll back ${stack} from v${plan.from} to v${plan.to} (commit ${plan.commit}) with ${Object.keys(plan.config).length} config keys\n`,
      );
    return EXIT.ok;
  }

  const before = await ctx.progress.step("read the stack outputs", () => handle.outputs());
  const since = ctx.now();
  const done = await applyRollback(ctx, plan, target, str(ctx.flags, "reason"), started);
  const verified = await verifyAfter(ctx, handle, stack, before, done.outputs, since);
  const timing = {
    initiatedSeconds: done.initiatedSeconds,
    completedSeconds: done.completedSeconds,
    withinSla: done.withinSla,
  };
  if (bool(ctx.flags, "json")) ctx.out(JSON.stringify({ ...plan, timing, verify: verified }, null, 2) + "\n");
  else ctx.out(`rolled back ${stack} from v${plan.from} to v${plan.to}: ${slaText(done)}\n`);
  if (verified.problems.length > 0) {
    throw new OpsError(
      `the rollback to v${plan.to} did not verify:\n  - ${verified.problems.join("\n  - ")}`,
      `the stack state names the earlier version; check the ${servicesText(done.outputs)} now, and page the on-call`,
    );
  }
  return EXIT.ok;
}

/** What to check by hand when a verify fails, per platform. */
export const servicesText = (outputs: Record<string, unknown>): string =>
  outputs.kubernetes ? "Deployments (kubectl rollout status) and the Ingress" : "ECS services and the load balancer";

/**
 * The cluster's API on `compute.platform: kubernetes` (R-k8s-verify): the kubeconfig and context of
 * the stack's config (`opsbook:kubernetes.kubeconfig`, `.context`), else the ambient kubeconfig.
 */
export async function clusterApi(ctx: Context, handle: StackHandle, facts: StackFacts): Promise<KubeApi | undefined> {
  if (!facts.kubernetes) return undefined;
  let k: { kubeconfig?: unknown; context?: unknown } = {};
  try {
    k = configObject(await handle.config(), "opsbook:kubernetes") ?? {};
  } catch (e) {
    throw pulumiError(e, "reading the stack config (opsbook:kubernetes)", handle.name);
  }
  return kubeApi({
    ...(typeof k.kubeconfig === "string" ? { kubeconfig: k.kubeconfig } : {}),
    ...(typeof k.context === "string" ? { context: k.context } : {}),
    env: ctx.env,
    region: facts.region,
    credentials: () => ctx.aws(facts.region).ecs.config.credentials(),
  });
}

/**
 * The verify step of a deploy after a revert (R-rollback-manual): skipped, saying why, when the
 * reverted program publishes no `services` output to verify against.
 */
export async function verifyAfter(
  ctx: Context,
  handle: StackHandle,
  stack: string,
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  since: Date,
): Promise<{ problems: string[]; notes: string[] }> {
  let facts: StackFacts;
  try {
    facts = stackFacts(after, stack);
  } catch (e) {
    ctx.progress.skip("verify the services", e instanceof Error ? e.message : String(e));
    return { problems: [], notes: [] };
  }
  const previous = (before.services ?? {}) as Record<string, { taskDefinitionArn?: string }>;
  const changed = Object.keys(facts.services).filter(
    (n) => previous[n]?.taskDefinitionArn !== facts.services[n]!.taskDefinitionArn,
  );
  const clients = ctx.aws(facts.region);
  let result: VerifyResult;
  try {
    result = await ctx.progress.step(
      "verify the services",
      async () =>
        verify({
          ecs: clients.ecs,
          ...(facts.kubernetes ? { kube: await clusterApi(ctx, handle, facts) } : {}),
          fetch: ctx.fetch,
          sleep: ctx.sleep,
          log: (s) => ctx.progress.log(s),
          facts,
          changed,
          since,
        }),
      (r) =>
        r.problems.length === 0
          ? `verified ${Object.keys(facts.kubernetes?.deployments ?? facts.services).join(", ") || "no services"}`
          : undefined,
    );
  } catch (e) {
    // The revert is already applied: a check that cannot run is one more problem to report, so the
    // caller still prints the timing and sends its notice instead of ending on this error.
    if (e instanceof OpsError && e.exitCode === EXIT.interrupted) throw e;
    return { problems: [`the services could not be verified: ${failure(e)}`], notes: [] };
  }
  for (const n of result.notes) ctx.progress.log(`note: ${n}`);
  return { problems: result.problems, notes: result.notes };
}
