/**
 * Process entry point of the image: `node cli.js <command>`, the commands of main.ts (`backup`,
 * `restore-drill`, `bootstrap-roles`, `maintenance-analyze`, `maintenance-vacuum`).
 * SIGTERM (ECS stopping the task) and SIGINT abort the run so that children are stopped and the
 * cleanup (partial dump deleted, throwaway database dropped) still happens before the exit.
 */
import { main } from "./main";

/** The SDK's keep-alive sockets must not hold a finished job open. */
const EXIT_GRACE_MS = 5000;

const controller = new AbortController();
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => controller.abort());
}

// `void`: the chain handles main's rejection itself, and its last step only sets the exit code.
void main(process.argv.slice(2), process.env, { signal: controller.signal })
  .then(
    (code) => code,
    (error: unknown) => {
      process.stderr.write(`${JSON.stringify({ level: "error", message: `unexpected failure: ${String(error)}` })}\n`);
      return 1;
    },
  )
  .then((code) => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
  });
