/**
 * `opsbook rollback`: the stack revert (R-rollback-manual). The target comes from what actually
 * ran (the update history), not from a git ref: its recorded commit is checked out in a temporary
 * worktree and its recorded config applied there, then `up` runs. The time to initiate and to
 * complete is measured against runbook 004 (R-rollback-sla: 5 and 10 minutes).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { bool, str, type CommandSpec } from "../args";
import { ROLLBACK_LIMITS } from "../../lib/rollbackTiming";
import type { Context } from "../context";
import { EXIT, OpsError, Refusal, UsageError } from "../errors";
import { GIT_HEAD, printableConfig, rollbackMessage, selectRollback, updateConfig, type Update } from "../history";
import { fmt } from "../progress";
import { pulumiError, REPO_ROOT } from "../pulumi";

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
  return { plan, target: chosen.to };
}

function git(cwd: string, args: string[]): string {
  return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

export async function rollback(ctx: Context): Promise<number> {
  const stack = str(ctx.flags, "stack")!;
  const toText = str(ctx.flags, "to");
  if (toText !== undefined && !/^\d+$/.test(toText))
    throw new UsageError(`--to ${toText}: not a version number`, "rollback");
  const started = ctx.progress.elapsed();
  const { plan, target } = await planRollback(ctx, stack, toText === undefined ? undefined : Number(toText));

  if (bool(ctx.flags, "dry-run")) {
    ctx.progress.skip("apply the earlier version", "dry run");
    if (bool(ctx.flags, "json")) ctx.out(JSON.stringify(plan, null, 2) + "\n");
    else
      ctx.out(
        `would roll back ${stack} from v${plan.from} to v${plan.to} (commit ${plan.commit}) with ${Object.keys(plan.config).length} config keys\n`,
      );
    return EXIT.ok;
  }

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "opsbook-rollback-"));
  try {
    await ctx.progress.step(`check out ${plan.commit.slice(0, 12)} in a temporary worktree`, () => {
      try {
        git(REPO_ROOT, ["worktree", "add", "--detach", "--quiet", dir, plan.commit]);
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
    await ctx.progress.step(`pulumi up (v${plan.from} -> v${plan.to})`, async () => {
      try {
        return await handle.up({
          message: rollbackMessage(plan.from, plan.to, str(ctx.flags, "reason")),
          onOutput: (s) => ctx.progress.log(s),
          signal: ctx.signal,
        });
      } catch (e) {
        throw pulumiError(e, "the rollback update", stack, ctx.signal);
      }
    });
    const completed = ctx.progress.elapsed() - started;
    const timing = {
      initiatedSeconds: Math.round(initiated),
      completedSeconds: Math.round(completed),
      withinSla:
        initiated <= ROLLBACK_LIMITS.startsWithinSeconds && completed <= ROLLBACK_LIMITS.completesWithinSeconds,
    };
    if (bool(ctx.flags, "json")) ctx.out(JSON.stringify({ ...plan, timing }, null, 2) + "\n");
    else {
      ctx.out(
        `rolled back ${stack} from v${plan.from} to v${plan.to}: initiated in ${fmt(initiated)} (runbook 004: under 5 min), completed in ${fmt(completed)} (under 10 min)${timing.withinSla ? "" : " -- OUTSIDE the runbook's limits"}\n`,
      );
    }
    return EXIT.ok;
  } finally {
    try {
      git(REPO_ROOT, ["worktree", "remove", "--force", dir]);
    } catch {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}
