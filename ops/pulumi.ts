/**
 * The stack through Pulumi's Automation API: a LocalWorkspace over this repository (or over a
 * worktree at an earlier commit, for a rollback). The `pulumi` found on PATH runs every command;
 * the tests put a fake one there that replays recorded CLI output.
 */
import {
  CommandError,
  ConcurrentUpdateError,
  LocalWorkspace,
  PulumiCommand,
  type ConfigMap,
  type Stack,
  type UpResult,
  type UpdateSummary,
} from "@pulumi/pulumi/automation";
import { existsSync } from "fs";
import * as path from "path";
import { EXIT, OpsError } from "./errors";

/** The repository this file lives in: ops/.. */
export const REPO_ROOT = path.resolve(__dirname, "..");

export interface StackHandle {
  name: string;
  history(): Promise<UpdateSummary[]>;
  outputs(): Promise<Record<string, unknown>>;
  /** `pulumi config set-all`; with `path`, keys such as `opsbook:services[0].tag` set one value inside. */
  setConfig(config: ConfigMap, path?: boolean): Promise<void>;
  /** The stack file's config as the update will run it (`pulumi config --json`). */
  config(): Promise<ConfigMap>;
  /** Removes a key given as a path, e.g. `opsbook:maintenance.allow` (`pulumi config rm --path`). */
  removeConfigPath(key: string): Promise<void>;
  up(opts: {
    message: string;
    targets?: string[];
    onOutput: (s: string) => void;
    signal?: AbortSignal;
  }): Promise<UpResult>;
}

/** What went wrong in a Pulumi command, as an OpsError that says what to do. */
export function pulumiError(e: unknown, what: string, stack: string, signal?: AbortSignal): OpsError {
  if (signal?.aborted) {
    return new OpsError(
      `${what} was interrupted; the update was cancelled`,
      `check the stack with: pulumi stack --stack ${stack}; run \`pulumi refresh --stack ${stack}\` if a resource operation was cut off`,
      EXIT.interrupted,
    );
  }
  if (e instanceof ConcurrentUpdateError) {
    return new OpsError(
      `${what}: another update is running on stack ${stack}`,
      "wait for it to finish; if nothing is running any more, `pulumi cancel --stack " + stack + "`",
    );
  }
  if (e instanceof CommandError) {
    const text = e.message
      .split("\n")
      .filter((l) => /error|stderr/i.test(l))
      .slice(0, 6)
      .join("\n");
    return new OpsError(
      `${what} failed:\n${text || e.message}`,
      `read Pulumi's output above; rerun with the same flags once fixed`,
    );
  }
  return new OpsError(`${what} failed: ${e instanceof Error ? e.message : String(e)}`, "see the error above");
}

/** The Automation API's variable that skips its minimum-version check of the CLI. */
const SKIP_VERSION_CHECK = "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK";

const cli = new Map<boolean, Promise<PulumiCommand>>();

/**
 * The `pulumi` on PATH, with its version checked once per process: a workspace made without one
 * runs `pulumi version` itself, and a deploy opens two (a rollback three). The version check is
 * skipped as the workspace would skip it (the variable in its environment or in this process's);
 * a failed lookup is not kept, so the next workspace asks again.
 */
function pulumiCli(env: Record<string, string>): Promise<PulumiCommand> {
  const skipVersionCheck = !!env[SKIP_VERSION_CHECK] || !!process.env[SKIP_VERSION_CHECK];
  let lookup = cli.get(skipVersionCheck);
  if (lookup === undefined) {
    const made = PulumiCommand.get({ skipVersionCheck });
    lookup = made;
    cli.set(skipVersionCheck, made);
    made.catch(() => {
      if (cli.get(skipVersionCheck) === made) cli.delete(skipVersionCheck);
    });
  }
  return lookup;
}

/** Selects `stack` in a LocalWorkspace over `workDir` (the repository, or a worktree). */
export async function openStack(
  stack: string,
  workDir: string = REPO_ROOT,
  env: Record<string, string> = {},
): Promise<StackHandle> {
  let pulumiCommand: PulumiCommand;
  try {
    pulumiCommand = await pulumiCli(env);
  } catch (e) {
    // The lookup runs `pulumi version`; the Automation API reports a missing binary only as the
    // spawn's ENOENT in its message (the error's result is private).
    if (e instanceof Error && /\bENOENT\b/.test(e.message)) {
      throw new OpsError(
        `cannot select stack "${stack}": the Pulumi CLI (pulumi) is not on PATH`,
        "install it (https://www.pulumi.com/docs/install/) and put its directory on PATH, then run again",
      );
    }
    throw new OpsError(
      `cannot select stack "${stack}": ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`,
      `install a Pulumi CLI the Automation API supports (https://www.pulumi.com/docs/install/), or set ${SKIP_VERSION_CHECK}=true to skip its version check`,
    );
  }
  let selected: Stack;
  try {
    selected = await LocalWorkspace.selectStack({ stackName: stack, workDir }, { envVars: env, pulumiCommand });
  } catch (e) {
    throw new OpsError(
      `cannot select stack "${stack}": ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`,
      "check `pulumi login` (the state backend) and the stack name: pulumi stack ls",
    );
  }
  const policyConfig = path.join(workDir, "policy", "config", `${stack}.json`);
  return {
    name: stack,
    history: () => selected.history(undefined, undefined, true),
    outputs: async () =>
      Object.fromEntries(Object.entries(await selected.outputs()).map(([k, v]) => [k, v.value as unknown])),
    setConfig: (config, path) => selected.setAllConfig(config, path),
    config: () => selected.getAllConfig(),
    removeConfigPath: (key) => selected.removeConfig(key, true),
    up: (opts) =>
      selected.up({
        message: opts.message,
        // Every update the command runs is checked by the policy pack, as previews are (the pack and
        // the stack's pack config of the checked-out commit).
        policyPacks: [path.join(workDir, "policy")],
        ...(existsSync(policyConfig) ? { policyPackConfigs: [policyConfig] } : {}),
        ...(opts.targets ? { target: opts.targets } : {}),
        onOutput: opts.onOutput,
        ...(opts.signal ? { signal: opts.signal } : {}),
      }),
  };
}
