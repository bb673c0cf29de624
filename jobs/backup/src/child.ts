/**
 * Child processes (pg_dump, pg_restore, psql) whose exit status and stderr are always collected:
 * a pipe from a program that failed can still end cleanly, so its exit code is the only truth.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { JobError } from "./errors";

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The end of stderr (a dump's stderr is small, but a broken one may repeat an error). */
  stderr: string;
}

export interface Child {
  readonly name: string;
  readonly process: ChildProcessWithoutNullStreams;
  /**
   * Settles once the process has exited and its stderr is fully read. Rejects only when the
   * program could not be started at all (e.g. not installed).
   */
  readonly exit: Promise<ChildExit>;
  /** Everything written to stdout so far, when started with `stdout: "capture"`. */
  stdout(): string;
}

export interface StartOptions {
  env: Readonly<Record<string, string>>;
  /**
   * "capture" keeps it in memory (small outputs: a query result); "stream"
   * leaves it for the caller to consume; "discard" (the default) drains it so the child never
   * blocks on a full pipe.
   */
  stdout?: "capture" | "stream" | "discard";
  /** Terminates the child when aborted (the job received SIGTERM). */
  signal?: AbortSignal;
}

const STDERR_LIMIT = 16 * 1024;

/**
 * Starts a program with all three stdio streams piped. Errors on stdin (EPIPE when the child
 * exits before reading everything) are swallowed here because the exit status reports them better.
 *
 * @param command program name, looked up on `env.PATH`
 * @param args arguments; never put a secret here, they are visible in the process list
 */
export function startChild(command: string, args: readonly string[], options: StartOptions): Child {
  const child = spawn(command, args, { env: { ...options.env }, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  let stdout = "";
  child.stdin.on("error", () => undefined);
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_LIMIT);
  });
  if (options.stdout === "capture") {
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      stdout += chunk;
    });
  } else if (options.stdout !== "stream") {
    child.stdout.resume();
  }
  const stop = (): void => {
    child.kill("SIGTERM");
  };
  if (options.signal?.aborted) {
    stop();
  }
  options.signal?.addEventListener("abort", stop, { once: true });

  const exit = new Promise<ChildExit>((resolve, reject) => {
    let exited: Pick<ChildExit, "code" | "signal"> | undefined;
    let stderrDone = false;
    const settle = (): void => {
      if (exited && stderrDone) {
        options.signal?.removeEventListener("abort", stop);
        resolve({ ...exited, stderr: stderr.trim() });
      }
    };
    child.once("error", (error: NodeJS.ErrnoException) => {
      options.signal?.removeEventListener("abort", stop);
      const hint = error.code === "ENOENT" ? ": it is not installed or not on PATH" : "";
      reject(new JobError(`could not start ${command}${hint} (${error.message})`, { cause: error }));
    });
    child.once("exit", (code, signal) => {
      exited = { code, signal };
      settle();
    });
    child.stderr.once("close", () => {
      stderrDone = true;
      settle();
    });
  });
  return { name: command, process: child, exit, stdout: () => stdout };
}

/** True when the program exited by itself with status 0. */
export function succeeded(exit: ChildExit): boolean {
  return exit.code === 0 && exit.signal === null;
}

/** e.g. `pg_dump exited with code 1: pg_dump: error: connection to server ... failed` */
export function describeExit(name: string, exit: ChildExit): string {
  const how = exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  return exit.stderr === "" ? `${name} ${how}` : `${name} ${how}: ${exit.stderr.replace(/\s*\n\s*/g, " | ")}`;
}

/**
 * Runs a program to completion with no input and returns its stdout.
 *
 * @throws {JobError} `failure: <exit description>` if it does not exit with status 0
 */
export async function runToCompletion(
  command: string,
  args: readonly string[],
  options: StartOptions,
  failure: string,
): Promise<string> {
  const child = startChild(command, args, { ...options, stdout: "capture" });
  child.process.stdin.end();
  const exit = await child.exit;
  if (!succeeded(exit)) {
    throw new JobError(`${failure}: ${describeExit(command, exit)}`);
  }
  return child.stdout();
}
