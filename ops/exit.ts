/** Exits with `code` once stdout and stderr are flushed (a piped --json result arrives whole). */
export function exitCodeOnFlush(code: number): void {
  process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
}
