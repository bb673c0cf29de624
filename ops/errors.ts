/**
 * The errors the `opsbook` command ends with. Each says what failed and what to do, and carries
 * the exit code CI branches on.
 */

/** Exit codes: documented in `opsbook --help`. */
export const EXIT = {
  ok: 0,
  /** A step failed (AWS, Pulumi or git said no). */
  failed: 1,
  /** The command line was wrong. */
  usage: 2,
  /** A rule refused the command before anything changed (window, dirty tree, alarm firing). */
  refused: 3,
  /** The deploy failed and the stack was rolled back. */
  rolledBack: 4,
  /** Ctrl-C: the running update was cancelled. */
  interrupted: 130,
} as const;

export class OpsError extends Error {
  constructor(
    message: string,
    /** What to do about it. */
    readonly hint: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
    this.name = "OpsError";
  }
}

export class UsageError extends OpsError {
  constructor(message: string, command: string) {
    super(message, `run: opsbook ${command === "" ? "" : `${command} `}--help`, EXIT.usage);
    this.name = "UsageError";
  }
}

export class Refusal extends OpsError {
  constructor(message: string, hint: string) {
    super(message, hint, EXIT.refused);
    this.name = "Refusal";
  }
}

/** An error as the one line a notice or a problem list shows: its message's first line. */
export const failure = (e: unknown): string => (e instanceof Error ? e.message.split("\n")[0]! : String(e));
