/**
 * Runs a policy pack's policies over an offline plan the way the Pulumi engine and @pulumi/policy's
 * analyzer server do during `pulumi preview --policy-pack`:
 * - `validateResource` per resource, with `props` = the recorded inputs behind the same
 *   unknown-checking proxy (reading an unknown value downgrades that policy to advisory), `opts`
 *   as the analyzer protocol carries them (protect, ignoreChanges, deleteBeforeReplace, parent;
 *   no retainOnDelete), `isType` / `asType`, `getConfig()` and `notApplicable()`;
 * - `validateStack` once, with every resource's outputs: the inputs plus the placeholder outputs the
 *   plan's mocks answered (ids, ARNs, names), parents linked; dependencies are not recorded by the
 *   plan and stay empty;
 * - the level of a violation is the policy's configured level; "remediate" counts as mandatory.
 */
import type {
  EnforcementLevel,
  Policy,
  PolicyResource,
  PolicyResourceOptions,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import * as proxy from "@pulumi/policy/proxy";
import type { RecordedResource } from "../plan/mocks";
import { mockState } from "../plan/placeholders";
import type { ReconciledConfig } from "./config";

// The analyzer's own proxy, from its module (the package index would also load gRPC and the Pulumi
// runtime); exported at run time, but left out of the typings, which mark it internal.
const { unknownCheckingProxy, UnknownValueError } = proxy as unknown as {
  /** Wraps props so that reading an unknown (preview-time) value throws UnknownValueError. */
  unknownCheckingProxy: <T>(props: T) => T;
  UnknownValueError: new (...args: never[]) => Error;
};

/** One reported violation. */
export interface Diagnostic {
  policyName: string;
  policyPackName: string;
  policyPackVersion: string;
  enforcementLevel: "advisory" | "mandatory";
  /** The policy's description. */
  description: string;
  /** What the policy reported (the engine shows it after the description). */
  message: string;
  urn?: string;
  /** Type and name of the resource the violation is about, when it names one. */
  resource?: { type: string; name: string };
}

/** A pack to run: its identity, policies and reconciled config. */
export interface PackRun {
  name: string;
  version: string;
  policies: readonly Policy[];
  config: ReconciledConfig;
}

/**
 * A deep copy of plan data (plain JSON). Not structuredClone: its copies come from the host realm,
 * which the unknown-checking proxy's `instanceof Object` test does not recognise under jest's VM.
 */
function copy<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

/** Thrown by `notApplicable()`; the engine counts the policy as not applicable to the resource. */
class NotApplicableError extends Error {}

const NO_TAGS: ReadonlyMap<string, string> = Object.freeze(new Map<string, string>());

function notApplicable(reason?: string): never {
  // Policies call this for most resources they see and the engine only counts it, never reads
  // its stack: capturing a stack trace for each was a large part of a policy run.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const error = new NotApplicableError(reason ?? "Policy does not apply");
  Error.stackTraceLimit = stackTraceLimit;
  throw error;
}

/** `isType` as @pulumi/policy implements it: the class's Pulumi type token, else its `isInstance`. */
export function isTypeOf(type: string, resourceClass: unknown): boolean {
  const token = (resourceClass as { __pulumiType?: unknown } | undefined)?.__pulumiType;
  if (typeof token === "string" && token.length > 0) return type === token;
  const isInstance = (resourceClass as { isInstance?: (candidate: unknown) => unknown } | undefined)?.isInstance;
  return typeof isInstance === "function" && isInstance({ __pulumiType: type }) === true;
}

/** The options the analyzer protocol carries for a resource. */
export function optionsOf(record: RecordedResource): PolicyResourceOptions {
  return {
    protect: record.protect,
    ignoreChanges: [...record.ignoreChanges],
    ...(record.deleteBeforeReplace ? { deleteBeforeReplace: true } : {}),
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
    ...(record.parent ? { parent: record.parent } : {}),
  };
}

function levelOf(run: PackRun, policy: Policy): EnforcementLevel {
  return run.config.get(policy.name)?.enforcementLevel ?? policy.enforcementLevel ?? "advisory";
}

function getConfigFor(run: PackRun, policy: Policy) {
  return <T extends object>(): T => copy(run.config.get(policy.name)?.properties ?? {}) as T;
}

function isResourcePolicy(p: Policy): p is ResourceValidationPolicy {
  const v = (p as ResourceValidationPolicy).validateResource;
  return (
    typeof v === "function" ||
    Array.isArray(v) ||
    typeof (p as ResourceValidationPolicy).remediateResource === "function"
  );
}

function isStackPolicy(p: Policy): p is StackValidationPolicy {
  return typeof (p as StackValidationPolicy).validateStack === "function";
}

/** Collects what a policy reports, as the analyzer server does (description, then message). */
function reporter(
  run: PackRun,
  policy: Policy,
  level: "advisory" | "mandatory",
  out: Diagnostic[],
  byUrn: Map<string, RecordedResource>,
  defaultUrn?: string,
): ReportViolation {
  return (text: string, urn?: string) => {
    const target = urn ?? defaultUrn;
    const resource = target ? byUrn.get(target) : undefined;
    out.push({
      policyName: policy.name,
      policyPackName: run.name,
      policyPackVersion: run.version,
      enforcementLevel: level,
      description: policy.description,
      message: text,
      ...(target ? { urn: target } : {}),
      ...(resource ? { resource: { type: resource.type, name: resource.name } } : {}),
    });
  };
}

/** Runs one validation, turning the engine's special errors into what the engine makes of them. */
async function guarded(
  run: PackRun,
  policy: Policy,
  out: Diagnostic[],
  attempt: () => unknown,
  urn?: string,
): Promise<void> {
  try {
    await attempt();
  } catch (e) {
    if (e instanceof NotApplicableError) return;
    const from = `policy '${policy.name}' from policy pack '${run.name}@v${run.version}'`;
    if (e instanceof UnknownValueError) {
      out.push({
        policyName: policy.name,
        policyPackName: run.name,
        policyPackVersion: run.version,
        enforcementLevel: "advisory",
        description: policy.description,
        message: `can't run ${from} during preview: ${e.message}`,
        ...(urn ? { urn } : {}),
      });
      return;
    }
    throw new Error(
      `Error validating ${urn ?? "the stack"} with ${from}:\n${e instanceof Error ? e.stack : String(e)}`,
    );
  }
}

function reportLevel(level: EnforcementLevel): "advisory" | "mandatory" {
  return level === "advisory" ? "advisory" : "mandatory";
}

/** Runs every resource policy over each resource, in plan order. */
export async function analyzeResources(resources: readonly RecordedResource[], run: PackRun): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  for (const record of resources) {
    // Serialized once per resource and parsed per validation: the same fresh copy as `copy`, at half the cost.
    const inputs = JSON.stringify(record.inputs);
    for (const policy of run.policies) {
      const level = levelOf(run, policy);
      if (level === "disabled" || !isResourcePolicy(policy)) continue;
      if (level === "remediate" && policy.remediateResource) {
        throw new Error(
          `policy '${policy.name}' remediates, which the offline runner does not do: run it with pulumi preview, or configure it as mandatory`,
        );
      }
      const validations =
        policy.validateResource === undefined
          ? []
          : Array.isArray(policy.validateResource)
            ? policy.validateResource
            : [policy.validateResource];
      for (const validation of validations) {
        // A fresh copy per validation, as the engine deserializes one: a policy cannot change what the next one sees.
        const props = unknownCheckingProxy(JSON.parse(inputs) as RecordedResource["inputs"]);
        const args: ResourceValidationArgs = {
          type: record.type,
          props,
          urn: record.urn,
          name: record.name,
          opts: optionsOf(record),
          stackTags: NO_TAGS,
          isType: (resourceClass) => isTypeOf(record.type, resourceClass),
          asType: ((resourceClass: unknown) =>
            isTypeOf(record.type, resourceClass) ? props : undefined) as ResourceValidationArgs["asType"],
          getConfig: getConfigFor(run, policy),
          notApplicable,
        };
        await guarded(
          run,
          policy,
          out,
          () => validation(args, reporter(run, policy, reportLevel(level), out, byUrn, record.urn)),
          record.urn,
        );
      }
    }
  }
  return out;
}

/** The outputs the plan's mocks answered for a resource: what a stack policy sees as its props. */
export function outputsOf(record: RecordedResource, region: string): Record<string, unknown> {
  return record.custom
    ? mockState(record.urn, record.type, record.name, region, copy(record.inputs)).state
    : copy(record.inputs);
}

/** Runs every stack policy once over all resources, with their outputs. */
export async function analyzeStack(
  resources: readonly RecordedResource[],
  region: string,
  run: PackRun,
): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  for (const policy of run.policies) {
    const level = levelOf(run, policy);
    if (level === "disabled" || !isStackPolicy(policy)) continue;
    const policyResources: PolicyResource[] = resources.map((record) => {
      const props = unknownCheckingProxy(outputsOf(record, region));
      return {
        type: record.type,
        props,
        urn: record.urn,
        name: record.name,
        opts: optionsOf(record),
        dependencies: [],
        propertyDependencies: {},
        isType: (resourceClass) => isTypeOf(record.type, resourceClass),
        asType: ((resourceClass: unknown) =>
          isTypeOf(record.type, resourceClass) ? props : undefined) as PolicyResource["asType"],
      };
    });
    const byUrnResource = new Map(policyResources.map((r) => [r.urn, r]));
    resources.forEach((record, i) => {
      const parent = record.parent ? byUrnResource.get(record.parent) : undefined;
      if (parent) policyResources[i]!.parent = parent;
    });
    const args: StackValidationArgs = {
      resources: policyResources,
      stackTags: NO_TAGS,
      getConfig: getConfigFor(run, policy),
      notApplicable,
    };
    await guarded(run, policy, out, () =>
      policy.validateStack(args, reporter(run, policy, reportLevel(level), out, byUrn)),
    );
  }
  return out;
}

/** Both passes over a plan: resource policies, then stack policies. */
export async function analyzePlan(
  resources: readonly RecordedResource[],
  region: string,
  run: PackRun,
): Promise<Diagnostic[]> {
  return [...(await analyzeResources(resources, run)), ...(await analyzeStack(resources, region, run))];
}
