/**
 * Ends a command-line tool with `code` once everything written to stdout and stderr has left the
 * process. `process.exit` alone drops what a pipe has not taken yet: a large plan piped into
 * another program arrives cut off.
 */
export function exitWhenFlushed(code: number): void {
  process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
}
