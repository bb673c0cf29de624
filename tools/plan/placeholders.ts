/**
 * The placeholder outputs the offline plan's mocks answer for each resource (ids, ARNs, names,
 * endpoints), derived from the resource's type, name and inputs. Pure, with no Pulumi runtime, so
 * that the policy runner can compute the same outputs cheaply.
 */
import { createHash } from "node:crypto";
import { partitionOfRegion } from "../../lib/partition";

/** The account every placeholder ARN names. */
export const MOCK_ACCOUNT = "123456789012";

/** Services whose ARNs have no region. */
const GLOBAL_SERVICES = new Set(["iam", "route53", "cloudfront"]);

/** An input in a placeholder name: the names and ports read here are strings or numbers; else `fallback`. */
function text(value: unknown, fallback: string): string {
  return typeof value === "string" || typeof value === "number" ? String(value) : fallback;
}

/** Placeholder outputs a resource of `type` computes, beyond `id`, `arn` and `name`. */
function computed(
  type: string,
  name: string,
  region: string,
  inputs: Record<string, unknown>,
  id: string,
): Record<string, unknown> {
  switch (type) {
    case "aws:rds/instance:Instance": {
      const identifier = text(inputs.identifier, name);
      const address = `${identifier}.mock.${region}.rds.amazonaws.com`;
      const port = inputs.port ?? 5432;
      return {
        address,
        port,
        endpoint: `${address}:${text(port, "")}`,
        identifier,
        resourceId: `db-${identifier}`,
        masterUserSecrets: [
          {
            secretArn: `arn:${partitionOfRegion(region)}:secretsmanager:${region}:${MOCK_ACCOUNT}:secret:rds!${identifier}`,
            kmsKeyId: inputs.masterUserSecretKmsKeyId ?? "",
            secretStatus: "active",
          },
        ],
      };
    }
    case "aws:rds/proxy:Proxy": {
      // RDS names a proxy's endpoint <name>.proxy-<random>.<region>.rds.amazonaws.com.
      const proxy = text(inputs.name, name);
      return { name: proxy, endpoint: `${proxy}.proxy-mock.${region}.rds.amazonaws.com` };
    }
    case "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup":
      // A proxy has one target group, which RDS names "default".
      return { name: "default" };
    case "aws:elasticache/replicationGroup:ReplicationGroup": {
      // ElastiCache names the member clusters <group id>-001, -002, ...
      const groupId = text(inputs.replicationGroupId, name);
      const members = Array.from(
        { length: Number(inputs.numCacheClusters ?? 1) },
        (_, i) => `${groupId}-${String(i + 1).padStart(3, "0")}`,
      );
      return {
        primaryEndpointAddress: `master.${groupId}.mock.cache.amazonaws.com`,
        readerEndpointAddress: `replica.${groupId}.mock.cache.amazonaws.com`,
        port: inputs.port ?? 6379,
        memberClusters: members,
      };
    }
    case "aws:lb/loadBalancer:LoadBalancer":
      return {
        dnsName: `${name}.${region}.elb.amazonaws.com`,
        zoneId: "Z32O12XQLNTSW2",
        arnSuffix: `app/${name}/mock`,
      };
    case "aws:lb/targetGroup:TargetGroup":
      return { arnSuffix: `targetgroup/${name}/mock` };
    case "aws:kms/key:Key":
      return { keyId: `${name}-key-id` };
    case "aws:s3/bucket:Bucket":
    case "aws:s3/bucketV2:BucketV2": {
      // A bucket's id is its name (bucketId).
      return {
        bucket: id,
        arn: `arn:${partitionOfRegion(region)}:s3:::${id}`,
        bucketRegionalDomainName: `${id}.s3.${region}.amazonaws.com`,
      };
    }
    case "random:index/randomPassword:RandomPassword":
    case "random:index/randomString:RandomString":
      return { result: `[generated ${name}]` };
    case "random:index/randomId:RandomId":
      return { hex: "0a1b2c3d" };
    case "aws:ecr/repository:Repository": {
      const repository = text(inputs.name, name);
      return {
        arn: `arn:${partitionOfRegion(region)}:ecr:${region}:${MOCK_ACCOUNT}:repository/${repository}`,
        repositoryUrl: `${MOCK_ACCOUNT}.dkr.ecr.${region}.amazonaws.com/${repository}`,
        registryId: MOCK_ACCOUNT,
      };
    }
    case "aws:ecs/cluster:Cluster":
    case "aws:ecs/service:Service":
      return { name: inputs.name ?? name };
    case "aws:ecs/taskDefinition:TaskDefinition":
      return {
        family: inputs.family ?? name,
        revision: 1,
        arnWithoutRevision: `arn:${partitionOfRegion(region)}:ecs:${region}:${MOCK_ACCOUNT}:task-definition/${text(inputs.family, name)}`,
      };
    default:
      return {};
  }
}

/** ARN shapes that do not follow `arn:${partitionOfRegion(region)}:<module>:<region>:<account>:<kind>/<name>`. */
const ARN_SHAPES: Record<string, (name: string, region: string) => string> = {
  "aws:cloudwatch/logGroup:LogGroup": (name, region) =>
    `arn:${partitionOfRegion(region)}:logs:${region}:${MOCK_ACCOUNT}:log-group:${name}`,
  "aws:cloudwatch/metricAlarm:MetricAlarm": (name, region) =>
    `arn:${partitionOfRegion(region)}:cloudwatch:${region}:${MOCK_ACCOUNT}:alarm:${name}`,
  "aws:sns/topic:Topic": (name, region) => `arn:${partitionOfRegion(region)}:sns:${region}:${MOCK_ACCOUNT}:${name}`,
  "aws:secretsmanager/secret:Secret": (name, region) =>
    `arn:${partitionOfRegion(region)}:secretsmanager:${region}:${MOCK_ACCOUNT}:secret:${name}`,
};

function placeholderArn(type: string, name: string, region: string): string {
  const shape = ARN_SHAPES[type];
  if (shape) return shape(name, region);
  const [pkg, module = ""] = type.split(":");
  const service = (module.split("/")[0] ?? module).toLowerCase();
  const kind = (type.split(":")[2] ?? "resource").toLowerCase();
  if (pkg !== "aws") return `${pkg}:${kind}:${name}`;
  return `arn:${partitionOfRegion(region)}:${service}:${GLOBAL_SERVICES.has(service) ? "" : region}:${MOCK_ACCOUNT}:${kind}/${name}`;
}

/**
 * A resource's placeholder id: its name and 8 hex digits of its URN's hash (urnHash). Unique per resource
 * (two resources share a name across types and parents: a security group and the database it
 * guards, two components' "access-logs" buckets), so that a rule matching resources by id never
 * takes one for the other; and the same on every run, so plans stay comparable.
 */
export function mockId(urn: string, name: string): string {
  return `${name}-${urnHash(urn)}`;
}

/**
 * 8 hex digits of the SHA-256 of the URN's resource part (its qualified type and name): unique in a
 * stack, as the URN is, and the same for the same resource in every stack, so plans of two stacks
 * (or of one stack under two configs) compare resource by resource.
 */
function urnHash(urn: string): string {
  return createHash("sha256").update(urn.split("::").slice(2).join("::")).digest("hex").slice(0, 8);
}

const BUCKET_TYPES = new Set(["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"]);

/**
 * An S3 bucket's id is its name: the given `bucket`, else `bucketPrefix` and a suffix (as the
 * provider makes one), else the placeholder id. Two buckets never share one, so a companion
 * (`BucketLogging.targetBucket`, an ALB's `accessLogs.bucket`) names exactly one bucket.
 */
function bucketId(urn: string, name: string, inputs: Record<string, unknown>): string {
  if (typeof inputs.bucket === "string") return inputs.bucket;
  if (typeof inputs.bucketPrefix === "string") return `${inputs.bucketPrefix}${urnHash(urn)}`;
  return mockId(urn, name);
}

/** The id the mocks answer for a resource: `bucketId` for an S3 bucket, else `mockId`. */
export function placeholderId(urn: string, type: string, name: string, inputs: Record<string, unknown>): string {
  return BUCKET_TYPES.has(type) ? bucketId(urn, name, inputs) : mockId(urn, name);
}

/**
 * What the mocks answer for a new resource: its id, and its state (the inputs plus placeholder
 * outputs). The policy runner calls this too, to see a resource's outputs as the program saw them.
 */
export function mockState(
  urn: string,
  type: string,
  name: string,
  region: string,
  inputs: Record<string, unknown>,
): { id: string; state: Record<string, unknown> } {
  const arn = placeholderArn(type, name, region);
  const id = placeholderId(urn, type, name, inputs);
  const physicalName = inputs.name ?? (inputs.namePrefix ? `${text(inputs.namePrefix, "")}mock` : name);
  return { id, state: { ...inputs, id, arn, name: physicalName, ...computed(type, name, region, inputs, id) } };
}
