/**
 * A failure whose message already tells the operator what broke and where, so it is logged as is
 * (no stack trace) and ends the run with a non-zero exit code.
 */
export class JobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "JobError";
  }
}

/** The message of any thrown value, for logs and for wrapping into a {@link JobError}. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    return error.message || error.name;
  }
  return String(error);
}
