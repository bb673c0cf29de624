/**
 * Pulumi's mock runtime, recording every resource the program registers: its type token, name,
 * parent, resource options (protect, retainOnDelete, ...) and every input value. Computed outputs
 * get placeholders derived from the resource (`arn:aws:kms:eu-west-1:123456789012:key/logs-key`), so
 * that a reference from one resource to another stays visible in the recorded inputs.
 */
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { deserializeProperties, specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { setMockOptions } from "@pulumi/pulumi/runtime/settings";

/** The account every placeholder ARN names. */
export const MOCK_ACCOUNT = "123456789012";

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
  /** Every input, with secrets shown as "[secret]". */
  inputs: Record<string, unknown>;
}

/** Services whose ARNs have no region. */
const GLOBAL_SERVICES = new Set(["iam", "route53", "cloudfront"]);

/** Placeholder outputs a resource of `type` computes, beyond `id`, `arn` and `name`. */
function computed(type: string, name: string, region: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (type) {
    case "aws:rds/instance:Instance": {
      const address = `${name}.mock.${region}.rds.amazonaws.com`;
      const port = inputs.port ?? 5432;
      return { address, port, endpoint: `${address}:${port}`, identifier: inputs.identifier ?? name, masterUserSecrets: [{ secretArn: `arn:aws:secretsmanager:${region}:${MOCK_ACCOUNT}:secret:rds!${name}`, kmsKeyId: inputs.masterUserSecretKmsKeyId ?? "", secretStatus: "active" }] };
    }
    case "aws:elasticache/replicationGroup:ReplicationGroup":
      return { primaryEndpointAddress: `master.${name}.mock.cache.amazonaws.com`, readerEndpointAddress: `replica.${name}.mock.cache.amazonaws.com`, port: inputs.port ?? 6379 };
    case "aws:lb/loadBalancer:LoadBalancer":
      return { dnsName: `${name}.${region}.elb.amazonaws.com`, zoneId: "Z32O12XQLNTSW2", arnSuffix: `app/${name}/mock` };
    case "aws:lb/targetGroup:TargetGroup":
      return { arnSuffix: `targetgroup/${name}/mock` };
    case "aws:kms/key:Key":
      return { keyId: `${name}-key-id` };
    case "aws:s3/bucket:Bucket":
    case "aws:s3/bucketV2:BucketV2":
      return { bucket: inputs.bucket ?? `${name}-mock`, bucketRegionalDomainName: `${name}-mock.s3.${region}.amazonaws.com` };
    case "random:index/randomPassword:RandomPassword":
    case "random:index/randomString:RandomString":
      return { result: `[generated ${name}]` };
    case "aws:ecs/cluster:Cluster":
    case "aws:ecs/service:Service":
      return { name: inputs.name ?? name };
    case "aws:ecs/taskDefinition:TaskDefinition":
      return { family: inputs.family ?? name, revision: 1, arnWithoutRevision: `arn:aws:ecs:${region}:${MOCK_ACCOUNT}:task-definition/${inputs.family ?? name}` };
    default:
      return {};
  }
}

/** ARN shapes that do not follow `arn:aws:<module>:<region>:<account>:<kind>/<name>`. */
const ARN_SHAPES: Record<string, (name: string, region: string) => string> = {
  "aws:cloudwatch/logGroup:LogGroup": (name, region) => `arn:aws:logs:${region}:${MOCK_ACCOUNT}:log-group:${name}`,
  "aws:cloudwatch/metricAlarm:MetricAlarm": (name, region) => `arn:aws:cloudwatch:${region}:${MOCK_ACCOUNT}:alarm:${name}`,
  "aws:sns/topic:Topic": (name, region) => `arn:aws:sns:${region}:${MOCK_ACCOUNT}:${name}`,
  "aws:s3/bucket:Bucket": (name) => `arn:aws:s3:::${name}-mock`,
  "aws:s3/bucketV2:BucketV2": (name) => `arn:aws:s3:::${name}-mock`,
  "aws:secretsmanager/secret:Secret": (name, region) => `arn:aws:secretsmanager:${region}:${MOCK_ACCOUNT}:secret:${name}`,
};

function placeholderArn(type: string, name: string, region: string): string {
  const shape = ARN_SHAPES[type];
  if (shape) return shape(name, region);
  const [pkg, module = "", ] = type.split(":");
  const service = (module.split("/")[0] ?? module).toLowerCase();
  const kind = (type.split(":")[2] ?? "resource").toLowerCase();
  if (pkg !== "aws") return `${pkg}:${kind}:${name}`;
  return `arn:aws:${service}:${GLOBAL_SERVICES.has(service) ? "" : region}:${MOCK_ACCOUNT}:${kind}/${name}`;
}

/**
 * What the mocks answer for a new resource: its id, and its state (the inputs plus placeholder
 * outputs). The policy runner calls this too, to see a resource's outputs as the program saw them.
 */
export function mockState(type: string, name: string, region: string, inputs: Record<string, any>): { id: string; state: Record<string, unknown> } {
  const arn = placeholderArn(type, name, region);
  const id = `${name}-id`;
  const physicalName = inputs.name ?? (inputs.namePrefix ? `${inputs.namePrefix}mock` : name);
  return { id, state: { ...inputs, id, arn, name: physicalName, ...computed(type, name, region, inputs) } };
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
function invoke(token: string, region: string): Record<string, unknown> {
  switch (token) {
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return { accountId: MOCK_ACCOUNT, arn: `arn:aws:iam::${MOCK_ACCOUNT}:user/offline-plan`, userId: "OFFLINEPLAN", id: MOCK_ACCOUNT };
    case "aws:index/getPartition:getPartition":
      return { partition: "aws", dnsSuffix: "amazonaws.com", reverseDnsPrefix: "com.amazonaws", id: "aws" };
    case "aws:index/getRegion:getRegion":
      return { name: region, region, id: region, description: region };
    default:
      throw new Error(`the offline plan has no answer for the provider function ${token}: add one in tools/plan/mocks.ts`);
  }
}

class RecordingMonitor extends MockMonitor {
  constructor(
    mocks: pulumi.runtime.Mocks,
    private readonly record: (r: RecordedResource) => void,
  ) {
    super(mocks);
  }

  override async registerResource(req: any, callback: (err: any, innerResponse: any) => void): Promise<void> {
    const type: string = req.getType();
    const name: string = req.getName();
    const parent: string = req.getParent();
    this.record({
      urn: (this as any).newUrn(parent, type, name),
      type,
      name,
      parent: parent || undefined,
      custom: req.getCustom(),
      protect: req.getProtect() === true,
      retainOnDelete: req.getRetainondelete() === true,
      deleteBeforeReplace: req.getDeletebeforereplace() === true,
      ignoreChanges: req.getIgnorechangesList(),
      inputs: reveal(deserializeProperties(req.getObject())) as Record<string, unknown>,
    });
    return super.registerResource(req, callback);
  }
}

/**
 * Puts the Pulumi runtime of this process under mocks that record into `resources`.
 * Call before the program declares anything; config must be set separately.
 */
export async function installRecordingMocks(project: string, stack: string, region: string, resources: RecordedResource[]): Promise<void> {
  const mocks: pulumi.runtime.Mocks = {
    newResource: (args) => mockState(args.type, args.name, region, args.inputs),
    call: (args) => invoke(args.token, region),
  };
  // setMocks turns on the runtime features (secrets, resource references); then our monitor replaces its own.
  await pulumi.runtime.setMocks(mocks, project, stack, false);
  setMockOptions(new RecordingMonitor(mocks, (r) => resources.push(r)), project, stack, false);
}
