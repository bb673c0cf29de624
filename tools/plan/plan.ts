/**
 * The offline plan: runs the real program (`index.ts`, the file `pulumi up` runs) under Pulumi's
 * mock runtime with a stack's config from `Pulumi.<stack>.yaml`, and returns every resource it
 * declares and the stack outputs. No AWS account and no Pulumi CLI are involved.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as settings from "@pulumi/pulumi/runtime/settings";
import { installRecordingMocks, type RecordedResource } from "./mocks";
import { readStackFile, regionOfStackFile } from "./stackFile";

export interface Plan {
  stack: string;
  project: string;
  resources: RecordedResource[];
  outputs: Record<string, unknown>;
}

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

// Not in the published typings, but exported: resolves once every registration has been answered.
const { waitForRPCs } = settings as unknown as { waitForRPCs: () => Promise<void> };

/** Waits until every resource the program declared has been registered. */
export function settle(): Promise<void> {
  return waitForRPCs();
}

/** Resolves an output (or a plain value holding outputs) to its value. */
export function resolve<T>(value: pulumi.Input<T>): Promise<pulumi.Unwrap<T>> {
  return new Promise((ok) => pulumi.output(value).apply((v) => ok(v)));
}

/**
 * Builds the plan of `stack`. One plan per process (or per jest module registry): the Pulumi
 * runtime is global. `load` runs the program; it defaults to requiring `index.ts`.
 */
export async function buildPlan(stack: string, options: { root?: string; load?: () => unknown } = {}): Promise<Plan> {
  const root = path.resolve(options.root ?? REPO_ROOT);
  const file = readStackFile(root, stack);
  const resources: RecordedResource[] = [];
  await installRecordingMocks(file.project, stack, regionOfStackFile(file), resources);
  pulumi.runtime.setAllConfig(file.config, file.secretKeys);

  // @pulumi/pulumi captures a stack trace for every promise it creates (debuggablePromise), which
  // is most of the program's run time here; the traces are only read when a promise leaks. The
  // engine's source positions for resources set their own limit, so the plan is unchanged.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  let outputs: Record<string, unknown>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- import() would skip the .ts require hook
    const exported = (options.load ?? ((): unknown => require(path.join(root, "index.ts"))))();
    outputs = await resolve(exported as Record<string, unknown>);
    await settle();
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
  resources.sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
  return { stack, project: file.project, resources, outputs };
}
