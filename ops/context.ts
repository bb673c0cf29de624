/** What a command runs with: its output streams, the clock and the stack access, so tests can swap them. */
import type { Flags } from "./args";
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
  openStack: (stack: string, workDir?: string) => Promise<StackHandle>;
  /** git in the repository (the tests replace it). */
  git: (args: string[]) => string;
}
