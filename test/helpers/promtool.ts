import { spawnSync } from "node:child_process";

/** Runs Prometheus' rule checker (`promtool check rules`, `promtool test rules`): its exit status and all it printed. */
export function promtool(...argv: string[]): { status: number | null; output: string } {
  const r = spawnSync("promtool", argv, { encoding: "utf8" });
  if (r.error)
    throw new Error(`promtool is needed (Debian package "prometheus"; .ci/run installs it): ${r.error.message}`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}
