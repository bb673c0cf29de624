import type {
  Policy,
  PolicyResource,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
} from "@pulumi/policy";
import { reconcileConfig } from "../../../tools/policy/config";
import type * as aws from "@pulumi/aws";
import { type PackRun, analyzeResources, analyzeStack, isTypeOf, outputsOf } from "../../../tools/policy/engine";
import { rdsStorageEncrypted } from "../../rules/rds";
import { REGION, resource } from "../helpers";

// @pulumi/policy's marker for a string that is unknown during preview.
const UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

function run(policies: Policy[], given = {}): PackRun {
  return { name: "opsbook", version: "1.2.3", policies, config: reconcileConfig(policies, "mandatory", given) };
}

// Stand-ins for @pulumi/aws classes: isType / asType read only their type token or isInstance.
const Instance = { __pulumiType: "aws:rds/instance:Instance" } as unknown as typeof aws.rds.Instance;
const Bucket = { __pulumiType: "aws:s3/bucket:Bucket" } as unknown as typeof aws.s3.Bucket;
const AnyRdsResource = {
  isInstance: (o: { __pulumiType: string }) => o.__pulumiType.startsWith("aws:rds/"),
} as unknown as typeof aws.rds.Instance;

const component = resource("opsbook:data:Postgres", "db", {}, { custom: false });
const instance = resource(
  "aws:rds/instance:Instance",
  "db-instance",
  { identifier: "db", storageEncrypted: true, kmsKeyId: UNKNOWN_STRING },
  { parent: component.urn, protect: true },
);

test("a policy that reads a value unknown during preview is reported as advisory, as the engine does", async () => {
  expect(await analyzeResources([component, instance], run([rdsStorageEncrypted]))).toEqual([
    {
      policyName: "rds-storage-encrypted",
      policyPackName: "opsbook",
      policyPackVersion: "1.2.3",
      enforcementLevel: "advisory",
      description: rdsStorageEncrypted.description,
      message:
        "can't run policy 'rds-storage-encrypted' from policy pack 'opsbook@v1.2.3' during preview: string value at .kmsKeyId can't be known during preview",
      urn: instance.urn,
    },
  ]);
});

test("a resource policy sees what the engine hands it", async () => {
  const seen: Array<Partial<ResourceValidationArgs> & { asBucket: unknown; isInstance: boolean }> = [];
  const probe: ResourceValidationPolicy = {
    name: "probe",
    description: "records its arguments",
    enforcementLevel: "advisory",
    validateResource: (args) => {
      if (args.type !== "aws:rds/instance:Instance") args.notApplicable("not a database");
      const asInstance = args.asType(Instance);
      seen.push({
        type: args.type,
        name: args.name,
        urn: args.urn,
        opts: args.opts,
        props: { identifier: asInstance?.identifier },
        asBucket: args.asType(Bucket),
        isInstance: args.isType(AnyRdsResource),
        // Bound rather than wrapped: bind throws if the engine hands over no function, so the check below still tells.
        getConfig: args.getConfig.bind(args),
      });
    },
  };
  expect(await analyzeResources([component, instance], run([probe]))).toEqual([]);
  expect(seen).toEqual([
    {
      type: "aws:rds/instance:Instance",
      name: "db-instance",
      urn: instance.urn,
      opts: {
        protect: true,
        ignoreChanges: [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
        parent: component.urn,
      },
      props: { identifier: "db" },
      asBucket: undefined,
      isInstance: true,
      getConfig: expect.any(Function) as jest.AsymmetricMatcher,
    },
  ]);
});

test("a stack policy sees outputs as the plan's mocks made them, with parents linked", async () => {
  const seen: PolicyResource[] = [];
  const probe = {
    name: "probe",
    description: "records the stack",
    enforcementLevel: "mandatory",
    validateStack: (args: StackValidationArgs) => void seen.push(...args.resources),
  } as Policy;
  const bucket = resource("aws:s3/bucket:Bucket", "backups", { forceDestroy: false }, { parent: component.urn });
  expect(await analyzeStack([component, bucket], REGION, run([probe]))).toEqual([]);
  expect(seen.map((r) => ({ name: r.name, parent: r.parent?.name, props: { ...r.props } }))).toEqual([
    { name: "db", parent: undefined, props: {} },
    {
      name: "backups",
      parent: "db",
      props: {
        forceDestroy: false,
        // A bucket's id is its name: here its logical name and 8 hex digits of its URN's hash.
        id: "backups-8ea1231b",
        arn: "arn:aws:s3:::backups-8ea1231b",
        name: "backups",
        bucket: "backups-8ea1231b",
        bucketRegionalDomainName: "backups-8ea1231b.s3.eu-west-1.amazonaws.com",
      },
    },
  ]);
  expect(outputsOf(bucket, REGION)).toEqual(seen[1]!.props);
});

test("disabled policies do not run; remediate counts as mandatory", async () => {
  const always: ResourceValidationPolicy = {
    name: "always",
    description: "always reports",
    enforcementLevel: "mandatory",
    validateResource: (_a, report) => report("found"),
  };
  expect(
    await analyzeResources([instance], run([always], { always: { enforcementLevel: "disabled", properties: {} } })),
  ).toEqual([]);
  expect(
    (
      await analyzeResources([instance], run([always], { always: { enforcementLevel: "remediate", properties: {} } }))
    ).map((d) => d.enforcementLevel),
  ).toEqual(["mandatory"]);
});

test("a remediation is refused rather than skipped, and a failing policy fails the run with its name", async () => {
  const fixer = {
    name: "fixer",
    description: "remediates",
    enforcementLevel: "remediate",
    remediateResource: () => ({}),
  } as Policy;
  await expect(analyzeResources([instance], run([fixer]))).rejects.toThrow(
    "policy 'fixer' remediates, which the offline runner does not do",
  );
  const broken = {
    name: "broken",
    description: "throws",
    enforcementLevel: "mandatory",
    validateResource: () => {
      throw new Error("boom");
    },
  } as Policy;
  await expect(analyzeResources([instance], run([broken]))).rejects.toThrow(
    `Error validating ${instance.urn} with policy 'broken' from policy pack 'opsbook@v1.2.3':\nError: boom`,
  );
});

test("isTypeOf prefers the class's type token and falls back to isInstance", () => {
  expect(isTypeOf("aws:s3/bucket:Bucket", { __pulumiType: "aws:s3/bucket:Bucket" })).toBe(true);
  expect(isTypeOf("aws:s3/bucket:Bucket", { __pulumiType: "aws:s3/bucketV2:BucketV2", isInstance: () => true })).toBe(
    false,
  );
  expect(isTypeOf("aws:s3/bucket:Bucket", { isInstance: () => true })).toBe(true);
  expect(isTypeOf("aws:s3/bucket:Bucket", {})).toBe(false);
});
