/** `opsbook history`: the deployment history of runbook 002 (R-deploy-history), from the stack's updates. */
import { bool, str, type CommandSpec } from "../args";
import type { Context } from "../context";
import { deployments, historyMarkdown, type Update } from "../history";

export const historySpec: CommandSpec = {
  name: "history",
  summary:
    "The stack's deployments, newest first: version, start, duration, who, tags, commit, result and whether it was rolled back.",
  flags: [
    {
      name: "markdown",
      kind: "boolean",
      description: "print a Markdown table (for a release page or an incident report)",
    },
  ],
};

export async function history(ctx: Context): Promise<number> {
  const stack = str(ctx.flags, "stack")!;
  const handle = await ctx.progress.step(`select stack ${stack}`, () => ctx.openStack(stack));
  const updates = await ctx.progress.step(
    "read the update history",
    () => handle.history() as Promise<Update[]>,
    (h) => `${h.length} updates`,
  );
  const rows = deployments(updates);
  if (bool(ctx.flags, "json")) ctx.out(JSON.stringify({ stack, deployments: rows }, null, 2) + "\n");
  else if (bool(ctx.flags, "markdown")) ctx.out(historyMarkdown(stack, rows));
  else {
    for (const r of rows) {
      const tags = Object.entries(r.tags)
        .map(([k, v]) => `${k}=${v}`)
        .join(",");
      ctx.out(
        `v${r.version}  ${r.start}  ${r.result.padEnd(10)} ${r.kind}${r.rolledBackFrom !== undefined ? ` of v${r.rolledBackFrom}` : ""}${tags ? ` ${tags}` : ""}  ${r.who}${r.rolledBack ? "  [rolled back]" : ""}\n`,
      );
    }
  }
  return 0;
}
