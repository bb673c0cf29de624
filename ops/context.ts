/** What a command runs with: its output streams, the clock and the stack access, so tests can swap them. */
import type { Flags } from "./args";
import type { AwsClients } from "./aws";
import type { Fetch } from "./deploy/verify";
import type { Progress } from "./progress";
import type { StackHandle } from "./pulumi";

export interface Context {
  flags: Flags;
  positionals: string[];
  out: (text: string) => void;
  progress: Progress;
  now: () => Date;
  /** Aborted on Ctrl-C: a running update is cancelled. */
  signal: AbortSignal;
  /** `env`: variables for the Pulumi commands (the `PULUMI_CI_*` metadata of a deploy). */
  openStack: (stack: string, workDir?: string, env?: Record<string, string>) => Promise<StackHandle>;
  /** The AWS clients for a region (the tests pass clients mocked with aws-sdk-client-mock). */
  aws: (region: string) => AwsClients;
  /** HTTP for the health and smoke checks. */
  fetch: Fetch;
  /** Waits between polls; the tests advance their clock instead. */
  sleep: (ms: number) => Promise<void>;
  /** The process environment (who runs the command, which CI). */
  env: Record<string, string | undefined>;
  /** git in the repository (the tests replace it). */
  git: (args: string[]) => string;
}
