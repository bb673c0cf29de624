/**
 * A report as text (a terminal), Markdown (a pull-request comment: risks first, the rest folded)
 * or JSON (other tools). Risky changes always come before the others.
 */
import type { Change, DiffReport } from "./model";
import { countChanges } from "./report";

export const FORMATS = ["text", "markdown", "json"] as const;
export type Format = (typeof FORMATS)[number];

const SYMBOL: Record<Change["op"], string> = { create: "+", update: "~", replace: "+-", delete: "-" };

/** A comment has 65,536 characters at most; a diff that lists more rows than this folds the rest. */
const MAX_MARKDOWN_ROWS = 250;

/** "1 change", "3 changes". */
function changesWord(count: number): string {
  return `${count} change${count === 1 ? "" : "s"}`;
}

function sourceNote(report: DiffReport): string {
  return report.source === "preview"
    ? "from `pulumi preview`: replacements as the provider reports them"
    : "from offline plans of the base and the head: replacements estimated from known replacing inputs";
}

function countLine(report: DiffReport): string {
  const n = countChanges(report);
  return `${n.create} to create, ${n.update} to update, ${n.replace} to replace, ${n.delete} to delete; ${n.unchanged} unchanged`;
}

function changedText(change: Change): string {
  const keys = change.op === "replace" && change.replaceReasons.length > 0 ? change.replaceReasons : change.changedKeys;
  const renamed = change.renamedFrom
    ? [`renamed from ${change.renamedFrom.slice(change.renamedFrom.lastIndexOf("::") + 2)}`]
    : [];
  return [...renamed, ...keys].join(", ");
}

/** "update", or "rename" for an update that only moves a resource to a new name. */
function opText(change: Change): string {
  return change.renamedFrom && change.op === "update" ? "rename" : change.op;
}

/** For a terminal. */
export function renderText(report: DiffReport): string {
  const n = countChanges(report);
  const lines = [
    `${report.project || "stack"} / ${report.stack}: ${changesWord(report.changes.length)}, ${n.risky} risky (${sourceNote(report).replace(/`/g, "")})`,
    `  ${countLine(report)}`,
  ];
  if (report.risks.length > 0) {
    lines.push("", "Risky:");
    for (const r of report.risks) lines.push(`  ${r.kind.padEnd(27)} ${r.type}  ${r.name}`, `      ${r.detail}`);
  }
  if (report.changes.length > 0) {
    lines.push("", "Changes:");
    for (const c of report.changes) {
      const keys = changedText(c);
      lines.push(`  ${SYMBOL[c.op].padEnd(2)} ${opText(c).padEnd(8)} ${c.type}  ${c.name}${keys ? `  (${keys})` : ""}`);
    }
  }
  return lines.join("\n");
}

/** Makes untrusted text safe inside a Markdown table cell and outside HTML. */
function cell(value: string): string {
  return value
    .replace(/[\r\n]+/g, " ")
    .replace(/\|/g, "\\|")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/`/g, "'");
}

function resourceCell(type: string, name: string): string {
  return `\`${cell(type)}\` **${cell(name)}**`;
}

/** For a pull-request comment: a heading per stack, the risk table, then every change folded. */
export function renderMarkdown(report: DiffReport): string {
  const n = countChanges(report);
  const stack = cell(report.stack);
  const heading =
    report.changes.length === 0
      ? `### \`${stack}\`: no changes`
      : n.risky > 0
        ? `### \`${stack}\`: :warning: ${n.risky} risky of ${changesWord(report.changes.length)}`
        : `### \`${stack}\`: ${changesWord(report.changes.length)}, none risky`;
  const lines = [heading, "", `_${countLine(report)}; ${sourceNote(report)}._`];
  if (report.risks.length > 0) {
    lines.push("", "| risk | resource | detail |", "|---|---|---|");
    for (const r of report.risks) lines.push(`| \`${r.kind}\` | ${resourceCell(r.type, r.name)} | ${cell(r.detail)} |`);
  }
  if (report.changes.length > 0) {
    lines.push(
      "",
      `<details><summary>All ${changesWord(report.changes.length)}</summary>`,
      "",
      "| op | resource | inputs |",
      "|---|---|---|",
    );
    for (const c of report.changes.slice(0, MAX_MARKDOWN_ROWS)) {
      const keys = changedText(c);
      lines.push(`| \`${SYMBOL[c.op]}\` ${opText(c)} | ${resourceCell(c.type, c.name)} | ${keys ? cell(keys) : ""} |`);
    }
    if (report.changes.length > MAX_MARKDOWN_ROWS)
      lines.push(
        "",
        `…and ${report.changes.length - MAX_MARKDOWN_ROWS} more: run \`npm run diff\` locally for the full list.`,
      );
    lines.push("", "</details>");
  }
  return lines.join("\n");
}

/** For other tools: the counts, every risk and every change, without the resource states. */
export function renderJson(report: DiffReport): string {
  const changes = report.changes.map(({ op, urn, type, name, changedKeys, replaceReasons, renamedFrom }) => ({
    op,
    urn,
    type,
    name,
    changedKeys,
    replaceReasons,
    ...(renamedFrom ? { renamedFrom } : {}),
  }));
  return JSON.stringify(
    {
      stack: report.stack,
      project: report.project,
      source: report.source,
      summary: countChanges(report),
      risks: report.risks,
      changes,
    },
    null,
    2,
  );
}

/** The report in one of FORMATS. */
export function render(report: DiffReport, format: Format): string {
  return format === "markdown" ? renderMarkdown(report) : format === "json" ? renderJson(report) : renderText(report);
}
