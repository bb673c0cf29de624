/**
 * Test harness over the offline plan's recording mocks: put a test file's Pulumi runtime under
 * mocks, declare resources, then `settle()` and assert on what was recorded.
 */
import type { RecordedResource } from "../../tools/plan/mocks";
import { installRecordingMocks } from "../../tools/plan/mocks";
import { resolve, settle as allRegistered } from "../../tools/plan/plan";
import { placeholderId } from "../../tools/plan/placeholders";

export { resolve };
export type { RecordedResource };

/*
 * While a test declares resources, no stack traces: @pulumi/pulumi captures one for every promise
 * it creates (debuggablePromise), and under jest each is 100 frames, every one mapped through the
 * source maps, which was about 40% of a component test file's time. The traces are only read when
 * a promise leaks, and the resources' source positions set their own limit, so what is recorded
 * is the same. The limit comes back at `settle()`, and at the latest when the test ends: an error
 * thrown between `recordResources()` and `settle()` has its message but no frames.
 */
let savedStackTraceLimit: number | undefined;

function stacklessDeclarations(): void {
  if (savedStackTraceLimit !== undefined) return;
  savedStackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
}

function restoreStackTraces(): void {
  if (savedStackTraceLimit === undefined) return;
  Error.stackTraceLimit = savedStackTraceLimit;
  savedStackTraceLimit = undefined;
}

afterEach(restoreStackTraces);
afterAll(restoreStackTraces);

/**
 * Installs recording mocks for this test file and returns the live list of recorded resources.
 * Declare the resources under test next, then `settle()`.
 */
export async function recordResources(stack = "test", region = "eu-west-1"): Promise<RecordedResource[]> {
  const resources: RecordedResource[] = [];
  await installRecordingMocks("opsbook", stack, region, resources);
  stacklessDeclarations();
  return resources;
}

/** Waits until every declared resource has been registered (and recorded); stack traces are back after it. */
export async function settle(): Promise<void> {
  try {
    await allRegistered();
  } finally {
    restoreStackTraces();
  }
}

/** Resources of one type token, in name order. */
export function ofType(resources: RecordedResource[], type: string): RecordedResource[] {
  return resources.filter((r) => r.type === type).sort((a, b) => a.name.localeCompare(b.name));
}

/** The one resource of `type` named `name`; fails the test if there is not exactly one. */
export function one(resources: RecordedResource[], type: string, name: string): RecordedResource {
  const found = resources.filter((r) => r.type === type && r.name === name);
  if (found.length !== 1) {
    const names = ofType(resources, type).map((r) => r.name);
    throw new Error(
      `expected one ${type} named ${name}, found ${found.length} (${type} names: ${names.join(", ") || "none"})`,
    );
  }
  return found[0]!;
}

/** The id the mocks gave a recorded resource, as the resources that refer to it record it. */
export function idOf(resource: RecordedResource): string {
  return placeholderId(resource.urn, resource.type, resource.name, resource.inputs);
}

/** The id of the one resource of `type` named `name` (see `one`). */
export function idOfOne(resources: RecordedResource[], type: string, name: string): string {
  return idOf(one(resources, type, name));
}

/** Ids that more than one custom resource got, each with the URNs that share it. */
export function sharedIds(resources: RecordedResource[]): Array<[string, string[]]> {
  const byId = new Map<string, string[]>();
  for (const r of resources.filter((r) => r.custom)) byId.set(idOf(r), [...(byId.get(idOf(r)) ?? []), r.urn]);
  return [...byId].filter(([, urns]) => urns.length > 1);
}

/** Parses a JSON policy document recorded as a string input. */
export function policyOf(resource: RecordedResource, key = "policy"): { Statement: Array<Record<string, unknown>> } {
  const text = resource.inputs[key];
  if (typeof text !== "string")
    throw new Error(`${resource.name}.${key} is not a JSON string: ${JSON.stringify(text)}`);
  return JSON.parse(text) as { Statement: Array<Record<string, unknown>> };
}

/** A container definition as a task definition records it (the keys the tests read). */
export interface ContainerDefinition {
  name: string;
  image: string;
  command?: string[];
  environment: Array<{ name: string; value: string }>;
  secrets: Array<{ name: string; valueFrom: string }>;
  readonlyRootFilesystem?: boolean;
  logConfiguration?: { logDriver: string; options: Record<string, string> };
  [key: string]: unknown;
}

/** The container definitions of a recorded task definition. */
export function containersOf(taskDefinition: RecordedResource): ContainerDefinition[] {
  return JSON.parse(taskDefinition.inputs.containerDefinitions as string) as ContainerDefinition[];
}
