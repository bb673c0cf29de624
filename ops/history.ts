/**
 * The stack's update history (`pulumi stack history`, `Stack.history()`) read as deployments:
 * which version is running, which were rolled back, and which one a rollback goes to. Pure: the
 * history is an argument, so the selection is table-tested over recorded histories.
 */
import type { UpdateSummary } from "@pulumi/pulumi/automation";
import { SECRET } from "../lib/configErrors";

/** The fields of an update the selection reads; `UpdateSummary` has them all. */
export type Update = Pick<
  UpdateSummary,
  "version" | "kind" | "startTime" | "message" | "environment" | "config" | "result"
> &
  Partial<Pick<UpdateSummary, "endTime" | "resourceChanges">>;

/** The environment key in which the Pulumi CLI records the git commit an update ran from. */
export const GIT_HEAD = "git.head";

const ROLLBACK = /\bopsbook rollback\b.*?\bfrom (?:version |v)?(\d+)/i;
const TAGS = /\btags ([a-z0-9-]+=[^\s,]+(?:,[a-z0-9-]+=[^\s,]+)*)/i;

/**
 * The update message of a rollback: the version it reverts from is part of it, so the history
 * itself records that the version was bad (R-deploy-history).
 */
export function rollbackMessage(from: number, to: number, reason: string | undefined): string {
  return `opsbook rollback from v${from} to v${to}${reason ? `: ${reason}` : ""}`;
}

/** The update message of a deploy: the tags it sets and the commit it ran from. */
export function deployMessage(tags: Record<string, string>, commit: string, note?: string): string {
  const set = Object.entries(tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  const what = set === "" ? "the stack file" : `tags ${set}`;
  return `opsbook deploy ${what} at ${commit.slice(0, 12)}${note ? ` (${note})` : ""}`;
}

/**
 * The update message of a deploy's first, targeted update (only the migration task definition):
 * its state is the old services with the new migrations, so no rollback returns to it.
 */
export function migrationsMessage(tags: Record<string, string>, commit: string): string {
  return deployMessage(tags, commit, "migrations only").replace(/^opsbook deploy/, "opsbook deploy migrations");
}

const isMigrationsOnly = (u: Pick<Update, "message">): boolean => /^opsbook deploy migrations\b/.test(u.message ?? "");

/** The version a rollback update reverted from, or undefined when `u` is not a rollback. */
export function rolledBackFrom(u: Pick<Update, "message">): number | undefined {
  const m = ROLLBACK.exec(u.message ?? "");
  return m ? Number(m[1]) : undefined;
}

/** The tags a deploy's message records, e.g. { api: "1.4.2" }. */
export function deployedTags(u: Pick<Update, "message">): Record<string, string> {
  const m = TAGS.exec(u.message ?? "");
  if (!m) return {};
  return Object.fromEntries(m[1]!.split(",").map((pair) => pair.split("=") as [string, string]));
}

/**
 * The image tags an update ran: from its recorded `opsbook:services` config (what actually ran),
 * else from a deploy message.
 */
/**
 * A structured config value, as `pulumi config --json` and `stack history --json` give it
 * (`objectValue`, else the JSON text of `value`); undefined when absent or not JSON.
 */
export function configObject(config: Record<string, { value?: string; objectValue?: unknown }>, key: string): unknown {
  const v = config[key];
  if (v?.objectValue !== undefined) return v.objectValue;
  try {
    return v?.value ? (JSON.parse(v.value) as unknown) : undefined;
  } catch {
    return undefined;
  }
}

/** `{ service: tag }` of an `opsbook:services` list; entries without a name and a tag are skipped. */
export function serviceTags(list: unknown): Record<string, string> {
  if (!Array.isArray(list)) return {};
  return Object.fromEntries(
    list
      .filter(
        (x): x is { name: unknown; tag: unknown } => typeof x === "object" && x !== null && "name" in x && "tag" in x,
      )
      .map((x) => [String(x.name), String(x.tag)]),
  );
}

/** The tags an update ran with: its recorded `opsbook:services`, else what its message names. */
function tagsOf(u: Pick<Update, "message" | "config">): Record<string, string> {
  const tags = serviceTags(configObject(u.config ?? {}, "opsbook:services"));
  return Object.keys(tags).length > 0 ? tags : deployedTags(u);
}

/** Updates that changed the stack (not previews or refreshes), newest first. */
export function stackUpdates(history: readonly Update[]): Update[] {
  return history.filter((u) => u.kind === "update").sort((a, b) => b.version - a.version);
}

/** Versions some later rollback marked bad. */
function markedBad(history: readonly Update[]): Set<number> {
  return new Set(history.map(rolledBackFrom).filter((v): v is number => v !== undefined));
}

export type Selection = { ok: true; from: Update; to: Update } | { ok: false; why: string; hint: string };

/**
 * The rollback target (R-rollback-manual): the newest update before the current one that
 * succeeded and that no rollback marked bad; with `to`, that version, if it qualifies.
 */
export function selectRollback(history: readonly Update[], to?: number): Selection {
  const updates = stackUpdates(history);
  const current = updates[0];
  if (!current) return { ok: false, why: "the stack has no updates to roll back", hint: "deploy it first" };
  if (current.result === "in-progress") {
    return {
      ok: false,
      why: `update v${current.version} is still running`,
      hint: "wait for it to end, or cancel it (Ctrl-C in the command that runs it, or `pulumi cancel`)",
    };
  }
  const bad = markedBad(history);
  const fit = (u: Update): string | undefined => {
    if (u.version >= current.version) return `v${u.version} is not before the current v${current.version}`;
    if (u.result !== "succeeded") return `v${u.version} did not succeed (${u.result})`;
    if (bad.has(u.version)) return `v${u.version} was rolled back by a later rollback`;
    if (isMigrationsOnly(u)) return `v${u.version} updated only the migration task of a deploy`;
    if (!u.environment?.[GIT_HEAD]) return `v${u.version} recorded no git commit (${GIT_HEAD})`;
    // `opsbook deploy` starts only from a clean tree; with --set the one change is the tags it set
    // in the stack file, and the config it ran with is recorded with the update and applied back.
    if (u.environment["git.dirty"] === "true" && !/^opsbook deploy tags\b/.test(u.message ?? ""))
      return `v${u.version} ran from a tree with uncommitted changes`;
    return undefined;
  };
  if (to !== undefined) {
    const chosen = updates.find((u) => u.version === to);
    if (!chosen) {
      return { ok: false, why: `the stack has no update v${to}`, hint: "pick a version from `opsbook history`" };
    }
    const why = fit(chosen);
    return why === undefined
      ? { ok: true, from: current, to: chosen }
      : { ok: false, why, hint: "pick another version from `opsbook history`" };
  }
  const target = updates.find((u) => fit(u) === undefined);
  if (!target) {
    return {
      ok: false,
      why: `no update before v${current.version} succeeded, ran from a clean commit and was not rolled back`,
      hint: "restore by hand: revert the stack file in git and deploy it",
    };
  }
  return { ok: true, from: current, to: target };
}

/** Config of an update as `pulumi config set-all` takes it; object values as JSON. */
export function updateConfig(u: Update): Record<string, { value: string; secret: boolean }> {
  return Object.fromEntries(
    Object.entries(u.config ?? {}).map(([key, v]) => [key, { value: v.value ?? "", secret: v.secret === true }]),
  );
}

/** The same config for printing: secrets are never shown. */
export function printableConfig(u: Update): Record<string, string> {
  return Object.fromEntries(Object.entries(updateConfig(u)).map(([key, v]) => [key, v.secret ? SECRET : v.value]));
}

/** One row of the deployment history of runbook 002 (R-deploy-history). */
export interface Deployment {
  version: number;
  start: string;
  durationSeconds: number | undefined;
  who: string;
  tags: Record<string, string>;
  commit: string | undefined;
  result: string;
  /** What the update was: a deploy, a rollback (from which version), or another update. */
  kind: "deploy" | "rollback" | "update";
  rolledBackFrom?: number;
  /** True when a later rollback reverted this version. */
  rolledBack: boolean;
  message: string;
}

const iso = (d: Date | string | undefined): string | undefined =>
  d === undefined ? undefined : (d instanceof Date ? d : new Date(d)).toISOString();

/** Who started an update, from what the Pulumi CLI records: the CI run, else the git author. */
function whoStarted(env: Record<string, string> | undefined): string {
  const e = env ?? {};
  if (e["ci.system"]) return [e["ci.system"], e["ci.build.id"] ?? e["ci.build.number"]].filter(Boolean).join(" ");
  return e["git.committer"] ?? e["git.author"] ?? e["updatedBy"] ?? "unknown";
}

export function deployments(history: readonly Update[]): Deployment[] {
  const bad = markedBad(history);
  return stackUpdates(history).map((u) => {
    const start = iso(u.startTime) ?? "";
    const end = iso(u.endTime);
    const from = rolledBackFrom(u);
    const tags = tagsOf(u);
    return {
      version: u.version,
      start,
      durationSeconds: end && u.result !== "in-progress" ? (Date.parse(end) - Date.parse(start)) / 1000 : undefined,
      who: whoStarted(u.environment),
      tags,
      commit: u.environment?.[GIT_HEAD],
      result: u.result,
      kind: from !== undefined ? "rollback" : /^opsbook deploy\b/.test(u.message ?? "") ? "deploy" : "update",
      ...(from !== undefined ? { rolledBackFrom: from } : {}),
      rolledBack: bad.has(u.version),
      message: u.message ?? "",
    };
  });
}

/** The history as a Markdown table, for a release page or an incident report. */
export function historyMarkdown(stack: string, rows: readonly Deployment[]): string {
  const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
  const lines = [
    `## Deployments of ${stack}`,
    "",
    "| version | start (UTC) | duration | who | tags | commit | result | rolled back |",
    "|---|---|---|---|---|---|---|---|",
    ...rows
      .map((r) =>
        [
          `v${r.version}${r.kind === "rollback" ? ` (rollback of v${r.rolledBackFrom})` : ""}`,
          r.start.replace("T", " ").replace(/\.\d+Z$|Z$/, ""),
          r.durationSeconds === undefined ? "-" : `${Math.round(r.durationSeconds)} s`,
          cell(r.who),
          Object.entries(r.tags)
            .map(([k, v]) => `${k}=${v}`)
            .join(", ") || "-",
          r.commit ? `\`${r.commit.slice(0, 12)}\`` : "-",
          r.result,
          r.rolledBack ? "yes" : "no",
        ].join(" | "),
      )
      .map((l) => `| ${l} |`),
  ];
  return lines.join("\n") + "\n";
}
