/**
 * `opsbook deploy`: the release procedure of runbooks 001, 002 and 004 as one command. This
 * version plans: it checks the deploy window (R-deploy-windows) and the preconditions it can check
 * without AWS (R-deploy-pre-checks), and prints the steps and the config it would set. `--dry-run`
 * is required until the AWS steps (backup, migrations, verify, watch) are built.
 */
import { execFileSync } from "child_process";
import { deployVerdict, type DeployCalendar } from "../../lib/deployWindows";
import { bool, list, str, type CommandSpec } from "../args";
import type { Context } from "../context";
import { EXIT, OpsError, Refusal, UsageError } from "../errors";
import { deployMessage, stackUpdates, type Update } from "../history";
import { REPO_ROOT } from "../pulumi";

export const deploySpec: CommandSpec = {
  name: "deploy",
  summary:
    "Ship new image tags: window and preconditions, RDS snapshot, migrations, full update, verify, watch, roll back on failure. This version plans only (--dry-run).",
  flags: [
    {
      name: "set",
      kind: "list",
      value: "<service>=<tag>",
      description: "the image tag to ship per service, e.g. api=1.4.2",
    },
    {
      name: "hotfix",
      kind: "boolean",
      description: "allowed outside the deploy windows (runbook 002); watched 15 min instead of 5",
    },
    {
      name: "force",
      kind: "boolean",
      description: "deploy outside the windows without being a hotfix; needs --reason",
    },
    {
      name: "reason",
      kind: "string",
      value: "<text>",
      description: "why --force (or --hotfix); recorded in the update message",
    },
    {
      name: "dry-run",
      kind: "boolean",
      description: "check the window and preconditions, print the steps and config, change nothing",
    },
    {
      name: "main-ref",
      kind: "string",
      value: "<ref>",
      description: "the ref production commits must be on (default origin/main, else main)",
    },
  ],
  details:
    "Exit code 3 means a rule refused the deploy before anything changed; the message says which and what to do.",
};

const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** `api=1.4.2,web=1.4.2` -> { api: "1.4.2", web: "1.4.2" } */
export function parseSet(values: readonly string[]): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const v of values) {
    const [name, tag, ...rest] = v.split("=");
    if (!name || tag === undefined || rest.length > 0 || !TAG.test(tag)) {
      throw new UsageError(`--set ${v}: expected <service>=<tag>, a tag of letters, digits, '_', '.', '-'`, "deploy");
    }
    if (tags[name] !== undefined) throw new UsageError(`--set names ${name} twice`, "deploy");
    tags[name] = tag;
  }
  return tags;
}

/** The stack output `deploy`, checked for the fields the window needs. */
export function calendarFrom(outputs: Record<string, unknown>, stack: string): DeployCalendar {
  const d = outputs.deploy as Partial<DeployCalendar> | undefined;
  if (!d || typeof d.timeZone !== "string" || !Array.isArray(d.windows) || typeof d.anyTime !== "boolean") {
    throw new OpsError(
      `stack ${stack} has no "deploy" output with its deploy windows`,
      `run a plain \`pulumi up --stack ${stack}\` once with this version of the program, so the output exists`,
    );
  }
  return {
    timeZone: d.timeZone,
    anyTime: d.anyTime,
    windows: d.windows,
    holidays: d.holidays ?? [],
    monthEndDays: d.monthEndDays ?? 0,
  };
}

/** Which `opsbook:services[i].tag` keys the tags set, from the config the last update ran with. */
export function tagConfig(
  last: Update | undefined,
  tags: Record<string, string>,
  stack: string,
): Record<string, string> {
  let names: string[] = [];
  try {
    const list = JSON.parse(last?.config?.["opsbook:services"]?.value ?? "[]") as Array<{ name?: unknown }>;
    names = list.map((s) => String(s.name));
  } catch {
    names = [];
  }
  const out: Record<string, string> = {};
  for (const [name, tag] of Object.entries(tags)) {
    const i = names.indexOf(name);
    if (i === -1) {
      throw new UsageError(
        `--set ${name}=${tag}: stack ${stack} runs no service "${name}" (it runs: ${names.join(", ") || "none recorded"})`,
        "deploy",
      );
    }
    out[`opsbook:services[${i}].tag`] = tag;
  }
  return out;
}

/** git in this repository; the tests pass their own. */
export function repoGit(args: string[]): string {
  return execFileSync("git", args, { cwd: REPO_ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/** A clean tree, and for production a commit that the main branch contains. */
export function checkTree(
  production: boolean,
  mainRef: string | undefined,
  git: (args: string[]) => string = repoGit,
): { commit: string } {
  const dirty = git(["status", "--porcelain", "--untracked-files=no"]);
  if (dirty !== "") {
    throw new Refusal(
      `the git tree has uncommitted changes:\n${dirty}`,
      "commit or stash them: a deploy records the commit it ran from, and a rollback checks that commit out",
    );
  }
  const commit = git(["rev-parse", "HEAD"]);
  if (production) {
    const refs = mainRef ? [mainRef] : ["origin/main", "main"];
    const ref = refs.find((r) => {
      try {
        git(["rev-parse", "--verify", "--quiet", `${r}^{commit}`]);
        return true;
      } catch {
        return false;
      }
    });
    if (!ref)
      throw new Refusal(`none of ${refs.join(", ")} exists in this clone`, "git fetch origin main, or pass --main-ref");
    try {
      git(["merge-base", "--is-ancestor", commit, ref]);
    } catch {
      throw new Refusal(
        `commit ${commit.slice(0, 12)} is not on ${ref}`,
        "production ships only what main contains: merge first, then deploy",
      );
    }
  }
  return { commit };
}

export async function deploy(ctx: Context): Promise<number> {
  const stack = str(ctx.flags, "stack")!;
  const tags = parseSet(list(ctx.flags, "set"));
  if (Object.keys(tags).length === 0) throw new UsageError("--set <service>=<tag> is required", "deploy");
  const hotfix = bool(ctx.flags, "hotfix");
  const force = bool(ctx.flags, "force");
  const reason = str(ctx.flags, "reason");
  if (force && !reason)
    throw new UsageError("--force needs --reason <text>: a forced deploy is recorded with why", "deploy");
  if (!bool(ctx.flags, "dry-run")) {
    throw new OpsError(
      "this version of opsbook deploy only plans: the backup, migration, verify and watch steps are not built yet",
      'run it with --dry-run; ship with the recipe in README "A deploy, and when it goes bad"',
      EXIT.failed,
    );
  }

  const handle = await ctx.progress.step(`select stack ${stack}`, () => ctx.openStack(stack));
  const outputs = await ctx.progress.step("read the stack outputs", () => handle.outputs());
  const calendar = calendarFrom(outputs, stack);
  const now = ctx.now();
  const verdict = await ctx.progress.step(
    "check the deploy window",
    () => Promise.resolve(deployVerdict(calendar, now)),
    (v) => v.why,
  );
  if (!verdict.open && !hotfix && !force) {
    throw new Refusal(
      `stack ${stack} is closed for deploys: ${verdict.why}`,
      `${verdict.nextOpen ? `the next window opens ${verdict.nextOpen.toISOString()}; ` : ""}a hotfix ships with --hotfix, anything else with --force --reason <text>`,
    );
  }
  const history = await ctx.progress.step("check that no update is running", async () => {
    const h = (await handle.history()) as Update[];
    const running = stackUpdates(h).find((u) => u.result === "in-progress");
    if (running)
      throw new Refusal(`update v${running.version} is still running on ${stack}`, "wait for it to end, or cancel it");
    return h;
  });
  const { commit } = await ctx.progress.step("check the git tree", () =>
    Promise.resolve(checkTree(!calendar.anyTime, str(ctx.flags, "main-ref"), ctx.git)),
  );
  const config = tagConfig(stackUpdates(history)[0], tags, stack);
  const note = [hotfix ? "hotfix" : "", force ? `forced: ${reason}` : "", !force && reason ? reason : ""]
    .filter(Boolean)
    .join("; ");
  const message = deployMessage(tags, commit, note || undefined);
  const steps = [
    "check that no critical alarm is firing",
    "take a manual RDS snapshot named for the deploy and wait until it is available",
    `set ${Object.entries(config)
      .map(([k, v]) => `${k}=${v}`)
      .join(", ")}`,
    "update only the migration task definition, run the migration task, require exit code 0",
    `pulumi up with the message "${message}"`,
    "verify each changed service: ECS deployment SUCCESSFUL, the stack's task definition running, /health 200, smoke checks",
    `watch the critical alarms and ECS deployments for ${hotfix ? 15 : 5} min; roll back on any failure`,
  ];
  for (const s of steps) ctx.progress.skip(s, "dry run");
  const plan = {
    stack,
    commit,
    window: {
      open: verdict.open,
      why: verdict.why,
      ...(verdict.open ? {} : { override: hotfix ? "hotfix" : "force" }),
    },
    config,
    message,
    steps,
  };
  if (bool(ctx.flags, "json")) ctx.out(JSON.stringify(plan, null, 2) + "\n");
  else
    ctx.out(
      `would deploy ${stack} at ${commit.slice(0, 12)}:\n${steps.map((s, i) => `  ${i + 1}. ${s}`).join("\n")}\n`,
    );
  return EXIT.ok;
}
