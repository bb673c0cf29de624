/**
 * A report as text (a terminal), Markdown (a pull-request comment: risks first, the rest folded)
 * or JSON (other tools). Risky changes always come before the others.
 */
import { money } from "../cost/price";
import { cents } from "../cost/render";
import type { CostChange } from "./cost";
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

/** "+$12.30", "-$4.00", "$0.00"; "unknown" when no difference holds. */
function signed(usd: number | null): string {
  if (usd === null) return "unknown";
  const rounded = cents(usd);
  return rounded > 0 ? `+${money(rounded)}` : money(rounded);
}

/** The one-line summary of the cost change. */
function costLine(cost: CostChange): string {
  const basis = `on-demand estimate in ${cost.region}, price table of ${cost.pricesCompiled}, usage-based charges left out`;
  return cost.before !== undefined && cost.after !== undefined
    ? `${money(cost.before)} → ${money(cost.after)} (${signed(cost.delta)} a month; ${basis})`
    : `${signed(cost.delta)} a month from the changed resources whose cost is known (${basis})`;
}

function costRows(cost: CostChange): Array<{ change: CostChange["resources"][number]; detail: string }> {
  return cost.resources.map((c) => ({
    change: c,
    detail: [
      c.delta === null
        ? `${money(c.before)} → ${money(c.after)} for what could be priced on each side`
        : `${money(c.before)} → ${money(c.after)}`,
      ...(c.unpriced.length > 0 ? [`not priced: ${c.unpriced.join("; ")}`] : []),
    ].join("; "),
  }));
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
  if (report.cost) {
    lines.push("", `Monthly cost: ${costLine(report.cost)}`);
    for (const { change, detail } of costRows(report.cost))
      lines.push(
        `  ${signed(change.delta).padStart(10)}  ${SYMBOL[change.op].padEnd(2)} ${change.type}  ${change.name}  (${detail})`,
      );
  } else if (report.costSkipped) lines.push("", `Monthly cost: not estimated: ${report.costSkipped}`);
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
  if (report.cost) lines.push("", `**Monthly cost**: ${cell(costLine(report.cost))}`);
  else if (report.costSkipped) lines.push("", `**Monthly cost**: not estimated: ${cell(report.costSkipped)}`);
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
  const rows = report.cost ? costRows(report.cost) : [];
  if (rows.length > 0) {
    lines.push(
      "",
      "<details><summary>Cost by changed resource</summary>",
      "",
      "| change a month | resource | before → after |",
      "|---|---|---|",
    );
    for (const { change, detail } of rows.slice(0, MAX_MARKDOWN_ROWS))
      lines.push(
        `| ${signed(change.delta)} | \`${SYMBOL[change.op]}\` ${resourceCell(change.type, change.name)} | ${cell(detail)} |`,
      );
    lines.push("", "</details>");
  }
  return lines.join("\n");
}

/** The cost change with amounts in cents. */
function costJson(cost: CostChange): unknown {
  return {
    region: cost.region,
    pricesCompiled: cost.pricesCompiled,
    ...(cost.before !== undefined ? { before: cents(cost.before) } : {}),
    ...(cost.after !== undefined ? { after: cents(cost.after) } : {}),
    delta: cents(cost.delta),
    resources: cost.resources.map((c) => ({
      ...c,
      before: cents(c.before),
      after: cents(c.after),
      delta: c.delta === null ? null : cents(c.delta),
    })),
  };
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
      ...(report.cost ? { cost: costJson(report.cost) } : {}),
      ...(report.costSkipped ? { costSkipped: report.costSkipped } : {}),
    },
    null,
    2,
  );
}

/** The report in one of FORMATS. */
export function render(report: DiffReport, format: Format): string {
  return format === "markdown" ? renderMarkdown(report) : format === "json" ? renderJson(report) : renderText(report);
}
