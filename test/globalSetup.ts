/**
 * Jest global setup: makes sure the plan of every shipped stack file is in the plan cache for the
 * current sources before any test file runs (test/helpers/stack.ts `planStack`). Built here, two at
 * a time for the two cores, so no test file waits on a build inside its own time limit; when the
 * sources have not changed since the last run, nothing is built.
 */
import { join } from "node:path";
import { listStacks } from "../tools/plan/stackFile";
import { cachedPlanJson } from "./helpers/stack";

export default async function globalSetup(): Promise<void> {
  const queue = listStacks(join(__dirname, ".."));
  const worker = async (): Promise<void> => {
    for (let stack = queue.shift(); stack !== undefined; stack = queue.shift()) {
      // A stack that fails to plan fails the test files that read it, with the plan tool's message,
      // not the whole run here.
      await cachedPlanJson(stack).catch(() => undefined);
    }
  };
  await Promise.all([worker(), worker()]);
}
