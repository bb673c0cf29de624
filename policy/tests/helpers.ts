/**
 * Runs single policies over hand-built resources through the offline runner's engine emulation,
 * so rule tests see exactly what `npm run policy` and the engine hand a policy.
 */
import type { Policy } from "@pulumi/policy";
import type { RecordedResource } from "../../tools/plan/mocks";
import { placeholderId } from "../../tools/plan/placeholders";
import { reconcileConfig } from "../../tools/policy/config";
import { type Diagnostic, type PackRun, analyzeResources, analyzeStack } from "../../tools/policy/engine";

export const STACK = "test";
export const REGION = "eu-west-1";

/** A recorded resource as the offline plan would list it. */
export function resource(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  options: Partial<Pick<RecordedResource, "protect" | "parent" | "custom">> = {},
): RecordedResource {
  return {
    urn: `urn:pulumi:${STACK}::opsbook::${type}::${name}`,
    type,
    name,
    ...(options.parent ? { parent: options.parent } : {}),
    custom: options.custom ?? true,
    protect: options.protect ?? false,
    retainOnDelete: false,
    dependencies: [],
    deleteBeforeReplace: false,
    ignoreChanges: [],
    inputs,
  };
}

/** The id the offline plan's mocks give a recorded resource (what a reference to it holds). */
export function idOf(record: RecordedResource): string {
  return placeholderId(record.urn, record.type, record.name, record.inputs);
}

function packOf(policy: Policy, config?: Record<string, unknown>): PackRun {
  return {
    name: "opsbook",
    version: "0.0.0-test",
    policies: [policy],
    config: reconcileConfig([policy], "mandatory", config ? { [policy.name]: { properties: config } } : {}),
  };
}

function only(policy: Policy, diagnostics: Diagnostic[]): Diagnostic[] {
  for (const d of diagnostics) expect(d.policyName).toBe(policy.name);
  return diagnostics;
}

/** Messages a resource policy reports for one resource of `type` with `props`. */
export async function violations(
  policy: Policy,
  type: string,
  props: Record<string, unknown>,
  options: { name?: string; config?: Record<string, unknown>; protect?: boolean } = {},
): Promise<string[]> {
  const record = resource(type, options.name ?? "subject", props, { protect: options.protect ?? false });
  return only(policy, await analyzeResources([record], packOf(policy, options.config))).map((d) => d.message);
}

/** What a stack policy reports over `resources`: `<resource name>: <message>` per violation. */
export async function stackViolations(
  policy: Policy,
  resources: RecordedResource[],
  config?: Record<string, unknown>,
): Promise<string[]> {
  const byUrn = new Map(resources.map((r) => [r.urn, r.name]));
  return only(policy, await analyzeStack(resources, REGION, packOf(policy, config))).map(
    (d) => `${byUrn.get(d.urn ?? "") ?? "(stack)"}: ${d.message}`,
  );
}

/** `base` with one property changed (or removed, with `undefined`). */
export function changed<T extends Record<string, unknown>>(
  base: T,
  change: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(change)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}
