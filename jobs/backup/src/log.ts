/**
 * One JSON object per line, so CloudWatch Logs Insights can filter on fields. Callers pass only
 * named, non-secret fields; nothing here ever serialises the configuration or the environment.
 */

export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

type Level = "info" | "warn" | "error";

const MASK = "****";

/**
 * Wraps a logger so that none of `secrets` can reach the output, in the message or in any string
 * field, whatever text an error happened to quote.
 */
export function redactingLogger(inner: Logger, secrets: readonly string[]): Logger {
  if (secrets.length === 0) {
    return inner;
  }
  const redact = (text: string): string => secrets.reduce((out, secret) => out.split(secret).join(MASK), text);
  const redactFields = (fields: LogFields = {}): LogFields =>
    Object.fromEntries(
      Object.entries(fields).map(([key, value]) => [key, typeof value === "string" ? redact(value) : value]),
    );
  return {
    info: (message, fields) => inner.info(redact(message), redactFields(fields)),
    warn: (message, fields) => inner.warn(redact(message), redactFields(fields)),
    error: (message, fields) => inner.error(redact(message), redactFields(fields)),
  };
}

/**
 * A logger writing JSON lines: info to `out`, warnings and errors to `err`.
 *
 * @param command the command being run, added to every line
 */
export function createJsonLogger(
  command: string,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Logger {
  const write = (level: Level, message: string, fields: LogFields = {}): void => {
    const line = JSON.stringify({ time: new Date().toISOString(), level, command, message, ...fields });
    (level === "info" ? out : err).write(`${line}\n`);
  };
  return {
    info: (message, fields) => write("info", message, fields),
    warn: (message, fields) => write("warn", message, fields),
    error: (message, fields) => write("error", message, fields),
  };
}
