/**
 * Pulumi's mock runtime, recording every resource the program registers: its type token, name,
 * parent, resource options (protect, retainOnDelete, ...) and every input value. Computed outputs
 * get placeholders derived from the resource (`arn:aws:kms:eu-west-1:123456789012:key/logs-key`), so
 * that a reference from one resource to another stays visible in the recorded inputs.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ReadResourceRequest, RegisterResourceRequest } from "@pulumi/pulumi/proto/resource_pb";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { deserializeProperties, specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { setMockOptions } from "@pulumi/pulumi/runtime/settings";
import * as state from "@pulumi/pulumi/runtime/state";
import { partitionOfRegion } from "../../lib/partition";
import { MOCK_ACCOUNT, mockState } from "./placeholders";

export { MOCK_ACCOUNT, mockState } from "./placeholders";

// Not in the published typings, but exported: the runtime's feature flags live in this store.
const { getStore } = state as unknown as { getStore: () => Record<string, unknown> };

export interface RecordedResource {
  urn: string;
  /** Pulumi type token, e.g. `aws:ec2/vpc:Vpc`. */
  type: string;
  name: string;
  /** URN of the parent, if any. */
  parent?: string;
  /** false for component resources. */
  custom: boolean;
  protect: boolean;
  retainOnDelete: boolean;
  deleteBeforeReplace: boolean;
  ignoreChanges: string[];
  /** URNs the resource waits for: its explicit `dependsOn` and the resources its inputs come from. */
  dependencies: string[];
  /**
   * URNs the resource had before a rename (its `aliases` and those inherited from its parents'),
   * sorted; the recorder always sets it (optional for states built by hand).
   */
  aliases?: string[];
  /** Every input, with secrets shown as "[secret]". */
  inputs: Record<string, unknown>;
}

/** Turns secret wrappers into "[secret]", as `pulumi preview` shows them. */
function reveal(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reveal);
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (obj[specialSigKey] === specialSecretSig) return "[secret]";
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, reveal(v)]));
  }
  return value;
}

/** Answers for the provider functions (invokes) the program calls. */
function invoke(token: string, region: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (token) {
    case "aws:secretsmanager/getSecretVersion:getSecretVersion": {
      // A JSON secret, so a reference to one of its keys (`<arn>:password::`) resolves too: the
      // RDS master secret's and the database roles' (lib/databaseRoles.ts ROLE_SECRET_KEYS).
      const id = String(inputs.secretId);
      const secretString = JSON.stringify({
        username: `[username in ${id}]`,
        password: `[password in ${id}]`,
        url: `[url in ${id}]`,
      });
      return { id, arn: id, secretId: id, secretString, versionId: "mock-version", versionStages: ["AWSCURRENT"] };
    }
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return {
        accountId: MOCK_ACCOUNT,
        arn: `arn:${partitionOfRegion(region)}:iam::${MOCK_ACCOUNT}:user/offline-plan`,
        userId: "OFFLINEPLAN",
        id: MOCK_ACCOUNT,
      };
    case "aws:index/getPartition:getPartition":
      return partitionOfRegion(region) === "aws-cn"
        ? { partition: "aws-cn", dnsSuffix: "amazonaws.com.cn", reverseDnsPrefix: "cn.com.amazonaws", id: "aws-cn" }
        : {
            partition: partitionOfRegion(region),
            dnsSuffix: "amazonaws.com",
            reverseDnsPrefix: "com.amazonaws",
            id: partitionOfRegion(region),
          };
    case "aws:index/getRegion:getRegion":
      return { name: region, region, id: region, description: region };
    case "aws:elb/getServiceAccount:getServiceAccount":
      return { arn: `arn:${partitionOfRegion(region)}:iam::156460612806:root`, id: "156460612806" };
    default: {
      const message = `the offline plan has no answer for the provider function ${token}: add one in tools/plan/mocks.ts`;
      // The runtime reports an invoke failure by its `details`.
      throw Object.assign(new Error(message), { details: message });
    }
  }
}

/** The base mock's URN maker: private in the typings, replaced below. */
type WithNewUrn = { newUrn: (parent: string, type: string, name: string) => string };

class RecordingMonitor extends MockMonitor {
  /**
   * URN of the resource being registered. The base mock calls `newResource` without the URN, but
   * synchronously from `registerResource` / `readResource` (before its first await), so the URN
   * set just before that call is the one of the resource `newResource` is asked about.
   */
  registering: string | undefined;

  constructor(
    mocks: pulumi.runtime.Mocks,
    private readonly record: (r: RecordedResource) => void,
  ) {
    super(mocks);
    // The engine qualifies a child's type with every ancestor's (`A$B$aws:s3/bucket:Bucket`); the
    // base mock keeps only the parent's, which makes two same-named resources under different
    // components collide. This URN is the engine's.
    (this as unknown as WithNewUrn).newUrn = (parent, type, name) => {
      const qualified = parent ? `${parent.split("::")[2]}$${type}` : type;
      return `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${qualified}::${name}`;
    };
  }

  override async registerResource(
    req: RegisterResourceRequest,
    callback: (err: unknown, innerResponse: unknown) => void,
  ): Promise<void> {
    const type: string = req.getType();
    const name: string = req.getName();
    const parent: string = req.getParent();
    const urn = (this as unknown as WithNewUrn).newUrn(parent, type, name);
    this.record({
      urn,
      type,
      name,
      parent: parent || undefined,
      custom: req.getCustom(),
      protect: req.getProtect() === true,
      retainOnDelete: req.getRetainondelete() === true,
      deleteBeforeReplace: req.getDeletebeforereplace() === true,
      ignoreChanges: req.getIgnorechangesList(),
      dependencies: req.getDependenciesList(),
      aliases: [...req.getAliasurnsList()].sort(),
      // The runtime always sends the inputs (an empty struct when there are none).
      inputs: reveal(deserializeProperties(req.getObject()!)) as Record<string, unknown>,
    });
    return this.as(urn, () => super.registerResource(req, callback));
  }

  override async readResource(
    req: ReadResourceRequest,
    callback: (err: unknown, innerResponse: unknown) => void,
  ): Promise<void> {
    const urn = (this as unknown as WithNewUrn).newUrn(req.getParent(), req.getType(), req.getName());
    return this.as(urn, () => super.readResource(req, callback));
  }

  /** Runs `register` with `registering` set to `urn` for the synchronous part of it. */
  private as(urn: string, register: () => Promise<void>): Promise<void> {
    this.registering = urn;
    try {
      return register();
    } finally {
      this.registering = undefined;
    }
  }
}

/**
 * Puts the Pulumi runtime of this process under mocks that record into `resources`.
 * Call before the program declares anything; config must be set separately.
 */
export async function installRecordingMocks(
  project: string,
  stack: string,
  region: string,
  resources: RecordedResource[],
): Promise<void> {
  // The monitor is made after the mocks it calls.
  const current: { monitor?: RecordingMonitor } = {};
  const mocks: pulumi.runtime.Mocks = {
    newResource: (args) => {
      const urn = current.monitor?.registering;
      if (urn === undefined) throw new Error(`the offline plan registered ${args.type} "${args.name}" without its URN`);
      return mockState(urn, args.type, args.name, region, args.inputs as Record<string, unknown>);
    },
    call: (args) => invoke(args.token, region, args.inputs as Record<string, unknown>),
  };
  // setMocks turns on the runtime features (secrets, resource references); our monitor then replaces
  // its own, and setMockOptions resets those features to off, so they are put back: without them a
  // secret input would be recorded, and shown by the plan, in plain text.
  await pulumi.runtime.setMocks(mocks, project, stack, false);
  const store = getStore();
  const features = Object.fromEntries(Object.entries(store).filter(([key]) => key.startsWith("supports")));
  current.monitor = new RecordingMonitor(mocks, (r) => resources.push(r));
  setMockOptions(current.monitor, project, stack, false);
  // Aliases as URNs: without alias specs the SDK itself derives every alias URN, the ones a child
  // inherits from a renamed parent included, as the engine would from the specs. (In this mode the
  // SDK drops the aliases of a resource without a parent; the program renames only children.)
  Object.assign(store, features, { supportsAliasSpecs: false });
}
