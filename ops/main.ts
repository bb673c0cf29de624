/**
 * The process around `run`: argv, the streams, and Ctrl-C. The first Ctrl-C aborts the running
 * Pulumi command (the Automation API sends it SIGINT, which cancels the update cleanly); a second
 * one exits at once.
 */
import { exitCodeOnFlush } from "./exit";
import { run } from "./cli";

const controller = new AbortController();
let interrupts = 0;
process.on("SIGINT", () => {
  interrupts += 1;
  if (interrupts > 1) process.exit(130);
  process.stderr.write("\nopsbook: interrupted; cancelling the running update (Ctrl-C again to quit at once)\n");
  controller.abort();
});

void run(process.argv.slice(2), {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
  signal: controller.signal,
}).then(exitCodeOnFlush);
