/**
 * `opsbook maintenance on|off`: maintenance mode as a stack update (R-ops-maintenance-mode). It sets
 * `opsbook:maintenance.enabled` (and, with `--allow`, `opsbook:maintenance.allow`) in the stack's
 * config, which is the stack file `Pulumi.<stack>.yaml`, through the Automation API, then runs
 * `pulumi up` with a message saying so. The listener rules themselves come from the program
 * (`components/service/maintenance.ts`), so the stack file stays the record of what runs.
 */
import type { ConfigMap } from "@pulumi/pulumi/automation";
import { isCidr } from "../../lib/cidr";
import { list, bool, str, type CommandSpec } from "../args";
import type { Context } from "../context";
import { EXIT, OpsError, UsageError } from "../errors";
import { pulumiError } from "../pulumi";

export const maintenanceSpec: CommandSpec = {
  name: "maintenance",
  positionals: "on|off",
  summary:
    "Switch maintenance mode on or off: the HTTPS listener answers every request with a 503 maintenance page, except from the allowed CIDRs, while the services keep running.",
  flags: [
    {
      name: "allow",
      kind: "list",
      value: "<cidr>",
      description:
        "with on: the IPv4 CIDR blocks that still reach the services (replaces opsbook:maintenance.allow; without it the stack file's list stays)",
    },
  ],
  details: [
    "Sets opsbook:maintenance.enabled (and .allow) in Pulumi.<stack>.yaml, then runs `pulumi up` with the message",
    '"opsbook maintenance on|off". Commit the stack file afterwards: it is the record of what runs. `off` keeps the',
    "allow list for next time. The page's text and retry time are opsbook:maintenance.message and .retryAfterSeconds.",
    "ECS platform only (on Kubernetes the program refuses `enabled: true`).",
  ].join("\n"),
};

/** The config keys `on` / `off` set, as `pulumi config set-all --path` takes them. */
function maintenanceConfig(mode: "on" | "off", allow: string[] | undefined): ConfigMap {
  return {
    "opsbook:maintenance.enabled": { value: mode === "on" ? "true" : "false" },
    ...Object.fromEntries((allow ?? []).map((cidr, i) => [`opsbook:maintenance.allow[${i}]`, { value: cidr }])),
  };
}

/** The update message: what changed, so `pulumi stack history` says when maintenance began and ended. */
function maintenanceMessage(mode: "on" | "off", allow: string[] | undefined): string {
  return `opsbook maintenance ${mode}${mode === "on" && allow ? ` (allow ${allow.length > 0 ? allow.join(", ") : "nobody"})` : ""}`;
}

export async function maintenance(ctx: Context): Promise<number> {
  const stack = str(ctx.flags, "stack")!;
  const [mode, ...extra] = ctx.positionals;
  if (mode !== "on" && mode !== "off")
    throw new UsageError(mode === undefined ? "on or off is required" : `"${mode}": expected on or off`, "maintenance");
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`, "maintenance");
  const allow = ctx.flags.allow === undefined ? undefined : list(ctx.flags, "allow");
  if (allow !== undefined && mode === "off")
    throw new UsageError("--allow goes with on (off keeps the stack file's list)", "maintenance");
  for (const cidr of allow ?? []) {
    if (!isCidr(cidr))
      throw new UsageError(
        `--allow ${cidr}: not an IPv4 CIDR block with its network address, e.g. 203.0.113.0/24 or 198.51.100.7/32`,
        "maintenance",
      );
  }
  if (allow && new Set(allow).size !== allow.length)
    throw new UsageError(`--allow lists a block twice: ${allow.join(", ")}`, "maintenance");

  const handle = await ctx.progress.step(`select stack ${stack}`, () => ctx.openStack(stack));
  const config = maintenanceConfig(mode, allow);
  await ctx.progress.step(
    `set opsbook:maintenance.enabled to ${mode === "on"}${allow ? " and the allow list" : ""} in Pulumi.${stack}.yaml`,
    async () => {
      try {
        // Replacing the list: its old entries go first, or a shorter list would keep the tail of the old one.
        if (allow) await handle.removeConfigPath("opsbook:maintenance.allow");
        await handle.setConfig(config, true);
      } catch (e) {
        throw pulumiError(e, "setting the config", stack);
      }
    },
  );
  const message = maintenanceMessage(mode, allow);
  await ctx.progress.step(`pulumi up (${message})`, async () => {
    try {
      return await handle.up({ message, onOutput: (s) => ctx.progress.log(s), signal: ctx.signal });
    } catch (e) {
      const err = pulumiError(e, "the maintenance update", stack, ctx.signal);
      throw new OpsError(
        err.message,
        `${err.hint}; Pulumi.${stack}.yaml already says enabled: ${mode === "on"}: rerun \`opsbook maintenance ${mode} --stack ${stack}\`, or revert the stack file`,
        err.exitCode,
      );
    }
  });

  const result = {
    stack,
    maintenance: mode,
    ...(allow ? { allow } : {}),
    config: Object.fromEntries(Object.entries(config).map(([k, v]) => [k, v.value])),
    message,
  };
  if (bool(ctx.flags, "json")) ctx.out(JSON.stringify(result, null, 2) + "\n");
  else
    ctx.out(
      mode === "on"
        ? `maintenance is ON for ${stack}: every request gets the 503 maintenance page${allow && allow.length > 0 ? ` except from ${allow.join(", ")}` : allow ? "" : " except from the stack file's allow list"}; the services keep running. Commit Pulumi.${stack}.yaml; \`opsbook maintenance off --stack ${stack}\` ends it.\n`
        : `maintenance is OFF for ${stack}: the services answer again. Commit Pulumi.${stack}.yaml.\n`,
    );
  return EXIT.ok;
}
