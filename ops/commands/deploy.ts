/**
 * `opsbook deploy`: the release procedure of runbooks 001, 002 and 004 as one command
 * (R-deploy-order): the window (R-deploy-windows) and the preconditions (R-deploy-pre-checks), a
 * notice (R-deploy-notify), a manual RDS snapshot (R-deploy-backup-first), the migrations before
 * the code (R-deploy-migrations), the full update, verify (R-deploy-verify, R-deploy-smoke-tests),
 * watch (R-deploy-post-watch), and on any failure the stack revert of `opsbook rollback`; on
 * `compute.platform: kubernetes` the verify and watch read the Deployments (R-k8s-verify).
 */
import { execFileSync } from "child_process";
import { deployVerdict, type DeployCalendar } from "../../lib/deployWindows";
import { POST_DEPLOY_WATCH_MINUTES } from "../../lib/rollbackTiming";
import { bool, list, str, type CommandSpec } from "../args";
import type { Context } from "../context";
import { EXIT, failure, OpsError, Refusal, UsageError } from "../errors";
import { configObject, deployMessage, migrationsMessage, serviceTags, stackUpdates, type Update } from "../history";
import { ConcurrentUpdateError } from "@pulumi/pulumi/automation";
import { pulumiError, REPO_ROOT, type StackHandle } from "../pulumi";
import { dataPlatformOf, refuseInClusterData, stackFacts } from "../deploy/facts";
import {
  alarmsFiring,
  latestTaskDefinition,
  notify,
  runMigration,
  snapshotIdentifier,
  takeSnapshot,
} from "../deploy/steps";
import { unreachableSmokeChecks, verify, watch } from "../deploy/verify";
import { criticalAlertsFiring } from "../deploy/kubernetes";
import { applyRollback, clusterApi, outputValues, planRollback, servicesText, slaText, verifyAfter } from "./rollback";

export const deploySpec: CommandSpec = {
  name: "deploy",
  summary:
    "Ship the stack file (or new image tags): window and preconditions, RDS snapshot, migrations, full update, verify, watch, roll back on failure.",
  flags: [
    {
      name: "set",
      kind: "list",
      value: "<service>=<tag>",
      description:
        "set these image tags in the stack config first, e.g. api=1.4.2; without it the stack file ships as committed",
    },
    {
      name: "hotfix",
      kind: "boolean",
      description: `allowed outside the deploy windows (runbook 002); watched ${POST_DEPLOY_WATCH_MINUTES.hotfix} min instead of ${POST_DEPLOY_WATCH_MINUTES.deploy}`,
    },
    {
      name: "force",
      kind: "boolean",
      description: "deploy outside the windows without being a hotfix, or with a critical alarm firing; needs --reason",
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
  details: [
    "Steps: window; clean tree on main (production); no update running; no critical alarm in ALARM; notice; RDS snapshot;",
    "set the tags (--set); `up --target` the migration task definition, run it, require exit code 0; the full `up`; verify",
    "each changed service (ECS deployment SUCCESSFUL, the stack's task definition running, /health 200 and the smoke checks",
    `through the load balancer); watch the critical alarms and ECS deployments for ${POST_DEPLOY_WATCH_MINUTES.deploy} min (${POST_DEPLOY_WATCH_MINUTES.hotfix} with --hotfix); notice.`,
    "On Kubernetes (compute.platform: kubernetes): each Deployment's rollout complete (kubectl rollout status's rules), its pods",
    "on the stack's image, /health and the smoke checks through the Ingress; the watch adds Prometheus's critical alerts.",
    "Exit code 3: refused before anything changed (window, dirty tree, not on main, update running, alarm firing).",
    "Exit code 1: a step failed before the services changed (snapshot, migration); the services run the old version.",
    "Exit code 4: the update, verify or watch failed and the stack was rolled back to the version before the deploy.",
    "Exit code 130: interrupted; the running update was cancelled.",
  ].join("\n"),
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
function calendarFrom(outputs: Record<string, unknown>, stack: string): DeployCalendar {
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

/**
 * Which `opsbook:services[i].tag` keys the tags set, by the services' order in the stack file at
 * the checked-out commit (`pulumi config --json` of the workspace): the update runs that file, so a
 * commit that adds or reorders services moves the index with it.
 */
function tagConfig(
  config: Record<string, { value?: string; objectValue?: unknown }>,
  tags: Record<string, string>,
  stack: string,
): Record<string, string> {
  const list = configObject(config, "opsbook:services");
  const names = (Array.isArray(list) ? (list as unknown[]) : []).map((s) =>
    typeof s === "object" && s !== null && "name" in s ? String(s.name) : "",
  );
  const out: Record<string, string> = {};
  for (const [name, tag] of Object.entries(tags)) {
    const i = names.indexOf(name);
    if (i === -1) {
      throw new UsageError(
        `--set ${name}=${tag}: the stack file of ${stack} names no service "${name}" (it names: ${names.join(", ") || "none"})`,
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
function checkTree(
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

/**
 * The `PULUMI_CI_*` variables Pulumi reads for an update's environment metadata when no CI it
 * knows is detected (pulumi/pulumi pkg/util/ciutil generic.go): who ran the deploy, and its id.
 * In a CI Pulumi knows (GitHub Actions sets CI), Pulumi records that CI's run itself.
 */
export function ciEnvironment(
  env: Record<string, string | undefined>,
  o: { deployId: string; kind: string },
): Record<string, string> {
  if (env.CI || env.GITHUB_ACTIONS) return {};
  const user = env.USER ?? env.USERNAME ?? env.LOGNAME ?? "unknown";
  return {
    PULUMI_CI_SYSTEM: `opsbook (${user})`,
    PULUMI_CI_BUILD_ID: o.deployId,
    PULUMI_CI_BUILD_TYPE: o.kind,
  };
}

/** The image tags the stack file names, from `pulumi config --json` (`opsbook:services`). */
export function fileTags(config: Record<string, { value?: string; objectValue?: unknown }>): Record<string, string> {
  return serviceTags(configObject(config, "opsbook:services"));
}

async function up(
  ctx: Context,
  handle: StackHandle,
  stack: string,
  what: string,
  opts: { message: string; targets?: string[] },
) {
  try {
    return await handle.up({ ...opts, onOutput: (s) => ctx.progress.log(s), signal: ctx.signal });
  } catch (e) {
    if (e instanceof ConcurrentUpdateError && !ctx.signal.aborted) {
      throw new Refusal(
        `${what}: another update is running on stack ${stack}`,
        `wait for it to end and deploy again; if nothing runs any more: pulumi cancel --stack ${stack}`,
      );
    }
    throw pulumiError(e, what, stack, ctx.signal);
  }
}

export async function deploy(ctx: Context): Promise<number> {
  const stack = str(ctx.flags, "stack")!;
  const tags = parseSet(list(ctx.flags, "set"));
  const hotfix = bool(ctx.flags, "hotfix");
  const force = bool(ctx.flags, "force");
  const reason = str(ctx.flags, "reason");
  if (force && !reason)
    throw new UsageError("--force needs --reason <text>: a forced deploy is recorded with why", "deploy");
  const dryRun = bool(ctx.flags, "dry-run");

  const handle = await ctx.progress.step(`select stack ${stack}`, () => ctx.openStack(stack));
  const outputs = await ctx.progress.step("read the stack outputs", () => handle.outputs());
  refuseInClusterData(dataPlatformOf(outputs), stack, "deploy");
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
  const maintenance = (outputs.deploy as { maintenance?: { enabled?: unknown; allow?: unknown } }).maintenance;
  if (maintenance?.enabled === true && !force) {
    const allow = Array.isArray(maintenance.allow) ? maintenance.allow.map(String) : [];
    throw new Refusal(
      `stack ${stack} is in maintenance mode: the load balancer answers 503${allow.length > 0 ? ` except to ${allow.join(", ")}` : ""}, so the health and smoke checks would fail and the deploy would roll itself back`,
      `turn it off first (opsbook maintenance off --stack ${stack}), or, from an allowed address, add --force --reason <text>`,
    );
  }
  await ctx.progress.step("check that no update is running", async () => {
    const h = (await handle.history()) as Update[];
    const running = stackUpdates(h).find((u) => u.result === "in-progress");
    if (running)
      throw new Refusal(`update v${running.version} is still running on ${stack}`, "wait for it to end, or cancel it");
  });
  const { commit } = await ctx.progress.step("check the git tree", () =>
    Promise.resolve(checkTree(!calendar.anyTime, str(ctx.flags, "main-ref"), ctx.git)),
  );
  const config =
    Object.keys(tags).length > 0
      ? tagConfig(
          await ctx.progress.step("read the stack file's services", async () => {
            try {
              return await handle.config();
            } catch (e) {
              throw pulumiError(e, "reading the stack config", stack);
            }
          }),
          tags,
          stack,
        )
      : {};
  const note = [hotfix ? "hotfix" : "", force ? `forced: ${reason}` : "", !force && reason ? reason : ""]
    .filter(Boolean)
    .join("; ");
  const watchMinutes = hotfix ? POST_DEPLOY_WATCH_MINUTES.hotfix : POST_DEPLOY_WATCH_MINUTES.deploy;

  if (dryRun) {
    const message = deployMessage(tags, commit, note || undefined);
    const steps = [
      "check that no critical alarm is firing",
      "take a manual RDS snapshot named for the deploy and wait until it is available",
      Object.keys(config).length > 0
        ? `set ${Object.entries(config)
            .map(([k, v]) => `${k}=${v}`)
            .join(", ")}`
        : "ship the stack file as committed (no --set)",
      "update only the migration task definition, run the migration task, require exit code 0",
      `pulumi up with the message "${message}"`,
      outputs.kubernetes
        ? "verify each Deployment: rollout complete, its pods on the stack's image, /health 200 and smoke checks through the Ingress"
        : "verify each changed service: ECS deployment SUCCESSFUL, the stack's task definition running, /health 200, smoke checks",
      `watch the critical alarms and ${outputs.kubernetes ? "Deployments" : "ECS deployments"} for ${watchMinutes} min; roll back on any failure`,
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

  const facts = stackFacts(outputs, stack);
  const unreachable = unreachableSmokeChecks(facts);
  if (unreachable.length > 0) {
    throw new Refusal(
      `smoke checks the load balancer would not send to their service:\n  - ${unreachable.join("\n  - ")}`,
      "fix opsbook:deploy.smokeChecks (a path inside the service's routes), commit, and deploy again",
    );
  }
  const aws = ctx.aws(facts.region);
  // On Kubernetes (R-k8s-verify): the cluster's API, and its Prometheus when the API server's
  // service proxy reaches it; the data tier's and the backups' alarms stay in CloudWatch.
  const kube = facts.kubernetes
    ? await ctx.progress.step(
        "connect to the cluster",
        () => clusterApi(ctx, handle, facts),
        (k) => k?.server,
      )
    : undefined;
  let prometheus = false;
  await ctx.progress.step("check that no critical alarm is firing", async () => {
    const firing = await alarmsFiring(aws.cloudwatch, facts.criticalAlarmNames);
    if (kube && facts.kubernetes) {
      try {
        firing.push(...(await criticalAlertsFiring(kube, facts.kubernetes)));
        prometheus = true;
      } catch (e) {
        ctx.progress.log(
          `warning: the cluster's Prometheus (${facts.kubernetes.prometheusNamespace}/prometheus-operated) did not answer through the API server: ${failure(e)}; the checks read the CloudWatch alarms and the Deployments only`,
        );
      }
    }
    if (firing.length > 0 && force) {
      ctx.progress.log(`warning: deploying with ${firing.join(", ")} in ALARM (--force: ${reason})`);
    } else if (firing.length > 0) {
      throw new Refusal(
        `critical alarm${firing.length > 1 ? "s" : ""} in ALARM on ${stack}: ${firing.join(", ")}`,
        "a deploy does not start during an incident: resolve it first, or, when this deploy is the fix, add --force --reason <text>",
      );
    }
  });

  const started = ctx.progress.elapsed();
  const deployId = snapshotIdentifier(stack, now, commit);
  const kind = hotfix ? "hotfix" : force ? "forced" : "deploy";
  const updater = await ctx.progress.step("select the stack for the update", () =>
    ctx.openStack(stack, undefined, ciEnvironment(ctx.env, { deployId, kind })),
  );
  const who = ctx.env.GITHUB_ACTIONS
    ? `GitHub Actions run ${ctx.env.GITHUB_RUN_ID ?? "?"} (${ctx.env.GITHUB_ACTOR ?? "?"})`
    : (ctx.env.USER ?? ctx.env.USERNAME ?? "unknown");
  const noticeLines = (t: Record<string, string>, extra: Record<string, string> = {}) => ({
    stack,
    tags:
      Object.entries(t)
        .map(([k, v]) => `${k}=${v}`)
        .join(", ") || "as in the stack file",
    commit,
    who,
    ...(note ? { note } : {}),
    ...extra,
  });
  const say = (subject: string, lines: Record<string, string>) =>
    ctx.progress.step(`notify: ${subject}`, () =>
      notify(aws.sns, facts.notifyTopicArn, subject, lines, (w) => ctx.progress.log(`warning: ${w}`)),
    );
  await say(`opsbook deploy of ${stack} started`, noticeLines(tags, { result: "started" }));

  let shipped = tags;
  let since: Date;
  let after: Record<string, unknown>;
  let version: number | undefined;
  try {
    await ctx.progress.step(
      `snapshot ${facts.databaseIdentifier} before the migrations`,
      () =>
        takeSnapshot(aws.rds, {
          instance: facts.databaseIdentifier,
          identifier: deployId,
          tags: {
            "opsbook:stack": stack,
            "opsbook:commit": commit,
            "opsbook:reason": "backup before deploy (runbooks 001, 002, 004)",
          },
          sleep: ctx.sleep,
          log: (s) => ctx.progress.log(s),
        }),
      (snap) => snap.identifier,
    );
    if (Object.keys(config).length > 0) {
      await ctx.progress.step(
        `set ${Object.entries(config)
          .map(([k, v]) => `${k}=${v}`)
          .join(", ")}`,
        async () => {
          try {
            await updater.setConfig(
              Object.fromEntries(Object.entries(config).map(([k, v]) => [k, { value: v, secret: false }])),
              true,
            );
          } catch (e) {
            throw pulumiError(e, "setting the tags", stack);
          }
        },
      );
    } else {
      shipped = await ctx.progress.step(
        "read the tags the stack file ships",
        async () => fileTags(await updater.config()),
        (t) =>
          Object.entries(t)
            .map(([k, v]) => `${k}=${v}`)
            .join(", "),
      );
    }
    const m = facts.migration;
    if (m) {
      const migrationService = Object.keys(shipped).find((n) => m.family.endsWith(`-${n}-migrate`));
      await ctx.progress.step("update only the migration task definition", () =>
        up(ctx, updater, stack, "the migration task definition update", {
          message: migrationsMessage(shipped, commit),
          targets: [m.taskDefinitionUrn],
        }),
      );
      const arn = await ctx.progress.step("find the new migration task definition", () =>
        latestTaskDefinition(aws.ecs, m.family, migrationService ? shipped[migrationService] : undefined),
      );
      await ctx.progress.step(
        "run the migrations",
        () =>
          runMigration(aws.ecs, m, arn, { sleep: ctx.sleep, log: (s) => ctx.progress.log(s), region: facts.region }),
        (r) => `task ${r.taskArn.split("/").pop()} exit code ${r.exitCode}`,
      );
    } else ctx.progress.skip("run the migrations", "the stack declares no migration task");
    since = ctx.now();
  } catch (e) {
    await say(`opsbook deploy of ${stack} FAILED before the update`, noticeLines(shipped, { result: failure(e) }));
    throw e;
  }

  const message = deployMessage(shipped, commit, note || undefined);
  let problem: string | undefined;
  try {
    const result = await ctx.progress.step(`pulumi up: ${message}`, () =>
      up(ctx, updater, stack, "the update", { message }),
    );
    version = result.summary.version;
    after = outputValues(result.outputs);
  } catch (e) {
    if (e instanceof OpsError && (e.exitCode === EXIT.interrupted || e.exitCode === EXIT.refused)) {
      await say(`opsbook deploy of ${stack} interrupted`, noticeLines(shipped, { result: failure(e) }));
      throw e;
    }
    problem = `the update failed: ${failure(e)}`;
    after = outputs;
  }

  if (!problem) {
    // A check that cannot run (AWS refused a call, the outputs lost their shape) leaves the new
    // version unverified: that is a failed deploy too, and is rolled back like one.
    try {
      const afterFacts = stackFacts(after, stack);
      const changed = Object.keys(afterFacts.services).filter(
        // A service whose task definition the update did not replace gets no new ECS deployment.
        (n) => facts.services[n]?.taskDefinitionArn !== afterFacts.services[n]!.taskDefinitionArn,
      );
      const checked = await ctx.progress.step(
        `verify ${(afterFacts.kubernetes ? Object.keys(afterFacts.kubernetes.deployments) : changed).join(", ") || "the services"}`,
        () =>
          verify({
            ecs: aws.ecs,
            ...(kube ? { kube } : {}),
            fetch: ctx.fetch,
            sleep: ctx.sleep,
            log: (s) => ctx.progress.log(s),
            facts: afterFacts,
            changed,
            since,
          }),
        (r) => (r.problems.length === 0 ? "verified" : `${r.problems.length} problems`),
      );
      for (const n of checked.notes) ctx.progress.log(`note: ${n}`);
      if (checked.problems.length > 0) problem = `verify failed: ${checked.problems.join("; ")}`;
      else {
        const watched = await ctx.progress.step(
          `watch the critical alarms and ${afterFacts.kubernetes ? "Deployments" : "ECS deployments"} for ${watchMinutes} min`,
          () =>
            watch({
              ecs: aws.ecs,
              ...(kube && afterFacts.kubernetes
                ? { kube, kubernetes: afterFacts.kubernetes, prometheus, rollouts: checked.rollouts }
                : {}),
              cloudwatch: aws.cloudwatch,
              sleep: ctx.sleep,
              now: ctx.now,
              log: (s) => ctx.progress.log(s),
              alarmNames: afterFacts.criticalAlarmNames,
              deployments: checked.deployments,
              minutes: watchMinutes,
            }),
          (w) => (w.problem ? undefined : `all clear after ${w.polls} polls`),
        );
        if (watched.problem) problem = `the watch saw: ${watched.problem}`;
      }
    } catch (e) {
      if (e instanceof OpsError && e.exitCode === EXIT.interrupted) throw e;
      problem = `the services could not be verified: ${failure(e)}`;
    }
  }

  if (!problem) {
    await say(`opsbook deploy of ${stack} completed`, noticeLines(shipped, { result: `completed as v${version}` }));
    const done = {
      stack,
      version,
      commit,
      tags: shipped,
      message,
      snapshot: deployId,
      seconds: Math.round(ctx.progress.elapsed() - started),
    };
    if (bool(ctx.flags, "json")) ctx.out(JSON.stringify(done, null, 2) + "\n");
    else
      ctx.out(
        `deployed ${stack} v${version} (${message}); snapshot ${deployId}\n${Object.keys(config).length > 0 ? `commit the tags --set wrote to Pulumi.${stack}.yaml, so main names what runs\n` : ""}`,
      );
    return EXIT.ok;
  }

  // R-rollback-manual, automatically: back to the version that ran before this deploy.
  ctx.progress.log(`deploy failed: ${problem}; rolling back`);
  await say(`opsbook deploy of ${stack} failed, rolling back`, noticeLines(shipped, { result: problem }));
  const reverting = ctx.now();
  const { plan, target } = await planRollback(ctx, stack, undefined);
  const done = await applyRollback(
    ctx,
    plan,
    target,
    `deploy failed: ${problem}`.slice(0, 200),
    ctx.progress.elapsed(),
  );
  const verified = await verifyAfter(ctx, updater, stack, after, done.outputs, reverting);
  const outcome = `rolled back from v${plan.from} to v${plan.to}: ${slaText(done)}${verified.problems.length > 0 ? `; the rollback did not verify: ${verified.problems.join("; ")}` : ""}`;
  await say(`opsbook deploy of ${stack} rolled back`, noticeLines(shipped, { result: `${problem}; ${outcome}` }));
  throw new OpsError(
    `the deploy of ${stack} failed and was rolled back: ${problem}\n  ${outcome}`,
    verified.problems.length > 0
      ? `the rollback did not verify either: check the ${servicesText(done.outputs)} now, and page the on-call`
      : `the services run v${plan.to} again; fix the release, and revert the stack file on main so the next merge does not redeploy it`,
    EXIT.rolledBack,
  );
}
