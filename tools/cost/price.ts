/**
 * Prices one resource of a plan from its type and inputs (R-cost-review): a monthly figure made of
 * items (quantity × rate), the usage-based charges it leaves out, and what it cannot price. Keyed
 * by type token, so a resource another part adds is priced as soon as its type is here, and a type
 * that is not is reported as unpriced rather than counted as free.
 */
import type { ResourceState } from "../diff/model";
import { at, isOn, list, num, text } from "../diff/values";
import { type AppliedRate, type PriceTable, rateIn } from "./table";

/** One priced line: `quantity` units of `unit` at `rate`. */
export interface CostItem {
  label: string;
  quantity: number;
  unit: string;
  rate: AppliedRate;
  monthly: number;
}

export interface ResourceCost {
  urn: string;
  type: string;
  name: string;
  /** The part of the program that declares it: its outermost component (`data/postgres`, `network`). */
  part: string;
  region: string;
  /** Sum of the items, USD a month. */
  monthly: number;
  items: CostItem[];
  /** Charges that depend on traffic or data volume, left out of the monthly figure. */
  usage: string[];
  /** What could not be priced, and why; empty when everything with a fixed price was priced. */
  unpriced: string[];
  /** True for a resource with no charge of its own (a subnet, an IAM role, ...). */
  free: boolean;
  /** Further facts for a reader (an autoscaling range, a free tier not deducted). */
  notes: string[];
}

/** What a pricer can look up besides the resource itself. */
export interface PricingContext {
  table: PriceTable;
  /** The stack's `aws:region`; a resource's own `region` input overrides it. */
  region: string;
  /** Every resource of the plan (or, for a preview, of the changes), to follow references. */
  resources: readonly ResourceState[];
}

/** Types with no charge of their own: configuration attached to something that is priced, or free. */
const FREE = new Set([
  "aws:ec2/vpc:Vpc",
  "aws:ec2/subnet:Subnet",
  "aws:ec2/routeTable:RouteTable",
  "aws:ec2/route:Route",
  "aws:ec2/routeTableAssociation:RouteTableAssociation",
  "aws:ec2/internetGateway:InternetGateway",
  "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway",
  "aws:ec2/securityGroup:SecurityGroup",
  "aws:ec2/securityGroupRule:SecurityGroupRule",
  "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
  "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl",
  "aws:ec2/networkAcl:NetworkAcl",
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  "aws:kms/alias:Alias",
  "aws:ecs/cluster:Cluster",
  "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders",
  "aws:ecs/taskDefinition:TaskDefinition",
  "aws:lb/targetGroup:TargetGroup",
  "aws:lb/listener:Listener",
  "aws:lb/listenerRule:ListenerRule",
  "aws:lb/listenerCertificate:ListenerCertificate",
  "aws:acm/certificate:Certificate",
  "aws:acm/certificateValidation:CertificateValidation",
  "aws:appautoscaling/target:Target",
  "aws:appautoscaling/policy:Policy",
  "aws:rds/subnetGroup:SubnetGroup",
  "aws:rds/parameterGroup:ParameterGroup",
  "aws:rds/optionGroup:OptionGroup",
  "aws:rds/proxyTarget:ProxyTarget",
  "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup",
  "aws:rds/proxyEndpoint:ProxyEndpoint",
  "aws:elasticache/subnetGroup:SubnetGroup",
  "aws:elasticache/parameterGroup:ParameterGroup",
  "aws:elasticache/user:User",
  "aws:elasticache/userGroup:UserGroup",
  "aws:sns/topicPolicy:TopicPolicy",
  "aws:sns/topicSubscription:TopicSubscription",
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
  "aws:s3/bucketLogging:BucketLogging",
  "aws:s3/bucketLoggingV2:BucketLoggingV2",
  "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
  "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2",
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  "aws:s3/bucketPolicy:BucketPolicy",
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
  "aws:s3/bucketVersioning:BucketVersioning",
  "aws:s3/bucketVersioningV2:BucketVersioningV2",
  "aws:secretsmanager/secretVersion:SecretVersion",
  "aws:secretsmanager/secretPolicy:SecretPolicy",
  "aws:wafv2/webAclAssociation:WebAclAssociation",
  "aws:ecr/lifecyclePolicy:LifecyclePolicy",
  "aws:ecr/repositoryPolicy:RepositoryPolicy",
  "aws:route53/record:Record",
]);

/** Types whose whole charge depends on volume: what drives it. */
const USAGE_ONLY: Readonly<Record<string, string>> = {
  "aws:s3/bucket:Bucket": "storage (GB-month), requests and data transfer",
  "aws:s3/bucketV2:BucketV2": "storage (GB-month), requests and data transfer",
  "aws:s3/bucketReplicationConfig:BucketReplicationConfig":
    "replicated data: cross-region transfer (per GB) and replica storage",
  "aws:cloudwatch/logGroup:LogGroup": "log ingestion (per GB) and storage (GB-month)",
  "aws:cloudwatch/logMetricFilter:LogMetricFilter":
    "the custom metric it publishes (per metric-month while it publishes)",
  "aws:ec2/flowLog:FlowLog": "flow log delivery (per GB)",
  "aws:sns/topic:Topic": "publishes and deliveries beyond the free tier (per million; SMS per message)",
  "aws:ecr/repository:Repository": "image storage (GB-month); enhanced scanning per image scanned",
  "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration": "enhanced scanning, per image scanned",
  "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication":
    "replicated backups: storage in the destination region (GB-month) and cross-region transfer (per GB)",
  "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": "WAF log delivery (per GB)",
  "aws:cloudwatch/eventTarget:EventTarget": "what the target does when the rule fires",
};

/** Kubernetes objects that consume capacity billed elsewhere, and where. */
const K8S_ELSEWHERE: Readonly<Record<string, string>> = {
  "kubernetes:apps/v1:Deployment":
    "its pods run on the cluster's nodes, which this stack does not declare: priced with the cluster",
  "kubernetes:apps/v1:StatefulSet":
    "its pods run on the cluster's nodes, which this stack does not declare: priced with the cluster",
  "kubernetes:apps/v1:DaemonSet":
    "its pods run on the cluster's nodes, which this stack does not declare: priced with the cluster",
  "kubernetes:batch/v1:Job": "its pods run on the cluster's nodes, which this stack does not declare",
  "kubernetes:batch/v1:CronJob": "its pods run on the cluster's nodes, which this stack does not declare",
  "kubernetes:core/v1:PersistentVolumeClaim":
    "its storage class provisions the volume (e.g. EBS) outside the plan; the class decides the price",
  "kubernetes:networking.k8s.io/v1:Ingress":
    "the ingress controller may create a load balancer outside the plan; its price is the controller's",
};

/** The outermost component in a URN's type chain, as a part name: `data/postgres`, `network`, `stack`. */
export function partOf(urn: string): string {
  const chain = urn.split("::")[2]?.split("$") ?? [];
  if (chain.length < 2) return "stack";
  const [, module, type] = chain[0]!.split(":");
  if (!module) return "stack";
  return module === "data" && type ? `data/${type.toLowerCase()}` : module;
}

/** The last segment of an ARN or id (`.../taskdefinition/api:3` -> `api`). */
function lastSegment(value: unknown): string | undefined {
  const s = text(value);
  if (!s) return undefined;
  const slash = s.lastIndexOf("/");
  return slash >= 0 ? s.slice(slash + 1).replace(/:\d+$/, "") : s.slice(s.lastIndexOf(":") + 1);
}

function find(ctx: PricingContext, type: string, match: (r: ResourceState) => boolean): ResourceState | undefined {
  return ctx.resources.find((r) => r.type === type && match(r));
}

/** Builds a ResourceCost step by step. */
class Builder {
  readonly cost: ResourceCost;
  constructor(
    readonly resource: ResourceState,
    readonly ctx: PricingContext,
  ) {
    this.cost = {
      urn: resource.urn,
      type: resource.type,
      name: resource.name,
      part: partOf(resource.urn),
      region: text(resource.inputs.region) ?? ctx.region,
      monthly: 0,
      items: [],
      usage: [],
      unpriced: [],
      free: false,
      notes: [],
    };
  }

  rate(key: string): AppliedRate | undefined {
    return rateIn(this.ctx.table, key, this.cost.region);
  }

  /** Adds `quantity` of `unit` at the rate `key`; per-hour rates run for the month's hours. */
  add(label: string, key: string, quantity: number, unit: string, hourly: boolean): boolean {
    const rate = this.rate(key);
    if (!rate) return false;
    const hours = hourly ? this.ctx.table.hoursPerMonth : 1;
    const monthly = quantity * hours * rate.usd;
    this.cost.items.push({ label, quantity: quantity * hours, unit, rate, monthly });
    this.cost.monthly += monthly;
    return true;
  }

  usage(...what: string[]): this {
    this.cost.usage.push(...what);
    return this;
  }

  cannot(why: string): this {
    this.cost.unpriced.push(why);
    return this;
  }

  note(what: string): this {
    this.cost.notes.push(what);
    return this;
  }
}

type Pricer = (b: Builder) => void;

function rdsInstance(b: Builder): void {
  const inputs = b.resource.inputs;
  const sourceRef = lastSegment(inputs.replicateSourceDb);
  const source = sourceRef
    ? find(b.ctx, b.resource.type, (r) => (text(r.inputs.identifier) ?? r.name) === sourceRef || r.name === sourceRef)
    : undefined;
  const engine = text(inputs.engine) ?? text(source?.inputs.engine);
  const instanceClass = text(inputs.instanceClass) ?? "(unset)";
  const copies = isOn(inputs.multiAz) ? 2 : 1;
  const az = copies === 2 ? "Multi-AZ: primary and standby" : "Single-AZ";
  if (engine !== "postgres") b.cannot(`engine ${JSON.stringify(engine ?? null)}: the price table has PostgreSQL only`);
  else if (!b.add(`instance ${instanceClass} (${az})`, `rds.postgres.${instanceClass}`, copies, "instance-hours", true))
    b.cannot(`instance class "${instanceClass}" is not in the price table`);

  const gb = num(inputs.allocatedStorage) ?? num(source?.inputs.allocatedStorage);
  const storageType = text(inputs.storageType) ?? text(source?.inputs.storageType) ?? (inputs.iops ? "io1" : "gp2");
  if (gb === undefined) b.cannot("allocated storage is not known from the inputs");
  else if (storageType !== "gp3") b.cannot(`storage type "${storageType}" is not in the price table (gp3 only)`);
  else {
    b.add(
      `storage gp3 ${gb} GB${copies === 2 ? " × 2 copies" : ""}`,
      "rds.storage.gp3",
      gb * copies,
      "GB-months",
      false,
    );
    // RDS gp3 includes 3,000 IOPS and 125 MiB/s below 400 GB, 12,000 and 500 MiB/s from 400 GB.
    const baselineIops = gb >= 400 ? 12000 : 3000;
    const iops = num(inputs.iops);
    if (iops !== undefined && iops > baselineIops)
      b.add(
        `IOPS above the ${baselineIops} included`,
        "rds.storage.gp3.iops",
        (iops - baselineIops) * copies,
        "IOPS-months",
        false,
      );
    const throughput = num(inputs.storageThroughput);
    if (throughput !== undefined && throughput > (gb >= 400 ? 500 : 125))
      b.cannot(`gp3 throughput above the included baseline (${throughput} MiB/s) is not in the price table`);
  }
  const maxGb = num(inputs.maxAllocatedStorage);
  if (gb !== undefined && maxGb !== undefined && maxGb > gb)
    b.usage(`storage autoscaling from ${gb} up to ${maxGb} GB (GB-month as it grows)`);
  // RDS creates and bills the master user's secret in Secrets Manager.
  if (isOn(inputs.manageMasterUserPassword))
    b.add("master user secret (Secrets Manager)", "secretsmanager.secret", 1, "secret-months", false);
  b.usage("backup storage beyond the allocated storage (GB-month)");
  if ((num(inputs.monitoringInterval) ?? 0) > 0) b.usage("Enhanced Monitoring (CloudWatch Logs ingestion)");
  if (isOn(inputs.performanceInsightsEnabled) && (num(inputs.performanceInsightsRetentionPeriod) ?? 7) > 7)
    b.cannot("Performance Insights retention beyond the free 7 days is not in the price table");
  b.usage("data transfer across zones and regions (per GB)");
}

function rdsProxy(b: Builder): void {
  const proxyName = text(b.resource.inputs.name) ?? b.resource.name;
  const targets = b.ctx.resources.filter(
    (r) => r.type === "aws:rds/proxyTarget:ProxyTarget" && (text(r.inputs.dbProxyName) ?? "").endsWith(proxyName),
  );
  const instances = targets
    .map((t) => lastSegment(t.inputs.dbInstanceIdentifier))
    .map((id) => find(b.ctx, "aws:rds/instance:Instance", (r) => (text(r.inputs.identifier) ?? r.name) === id));
  if (instances.length === 0 || instances.some((i) => i === undefined)) {
    b.cannot("its target instance is not in the plan: the proxy bills per vCPU of the target");
    return;
  }
  for (const instance of instances) {
    const instanceClass = text(instance!.inputs.instanceClass) ?? "(unset)";
    const vcpu = b.ctx.table.rates[`rds.postgres.${instanceClass}`]?.vcpu;
    if (vcpu === undefined) b.cannot(`vCPUs of "${instanceClass}" are not in the price table`);
    // RDS Proxy bills 2 vCPUs at least.
    else
      b.add(
        `proxy for ${instanceClass} (${Math.max(vcpu, 2)} vCPUs)`,
        "rds.proxy.vcpu",
        Math.max(vcpu, 2),
        "vCPU-hours",
        true,
      );
  }
}

function replicationGroup(b: Builder): void {
  const inputs = b.resource.inputs;
  const nodeType = text(inputs.nodeType) ?? "(unset)";
  const nodes =
    num(inputs.numCacheClusters) ?? (num(inputs.numNodeGroups) ?? 1) * (1 + (num(inputs.replicasPerNodeGroup) ?? 0));
  if (isOn(inputs.dataTieringEnabled)) b.cannot("data tiering node types are not in the price table");
  else if (
    !b.add(`${nodes} × ${nodeType} node${nodes === 1 ? "" : "s"}`, `elasticache.${nodeType}`, nodes, "node-hours", true)
  )
    b.cannot(`node type "${nodeType}" is not in the price table`);
  b.usage("snapshot storage beyond the free allowance (GB-month)", "cross-zone data transfer (per GB)");
}

function cacheCluster(b: Builder): void {
  const nodeType = text(b.resource.inputs.nodeType) ?? "(unset)";
  const nodes = num(b.resource.inputs.numCacheNodes) ?? 1;
  if (!b.add(`${nodes} × ${nodeType}`, `elasticache.${nodeType}`, nodes, "node-hours", true))
    b.cannot(`node type "${nodeType}" is not in the price table`);
}

function ecsService(b: Builder): void {
  const inputs = b.resource.inputs;
  const strategies = list(inputs.capacityProviderStrategies).map((s) =>
    text(at(s as Record<string, unknown>, "capacityProvider")),
  );
  const launch =
    text(inputs.launchType) ??
    (strategies.length > 0 && strategies.every((s) => s === "FARGATE") ? "FARGATE" : undefined);
  if (strategies.includes("FARGATE_SPOT")) return void b.cannot("Fargate Spot prices vary: not in the price table");
  if (launch !== "FARGATE")
    return void b.cannot(`launch type ${JSON.stringify(launch ?? null)}: only Fargate is priced`);
  const ref = lastSegment(inputs.taskDefinition);
  const task = find(
    b.ctx,
    "aws:ecs/taskDefinition:TaskDefinition",
    (r) => r.name === ref || text(r.inputs.family) === ref,
  );
  if (!task) return void b.cannot("its task definition is not in the plan: cpu and memory unknown");
  const vcpu = (num(task.inputs.cpu) ?? NaN) / 1024;
  const gb = (num(task.inputs.memory) ?? NaN) / 1024;
  if (!Number.isFinite(vcpu) || !Number.isFinite(gb))
    return void b.cannot("its task definition sets no task-level cpu and memory");
  const arch = text(at(task.inputs, "runtimePlatform.cpuArchitecture")) === "ARM64" ? "arm64" : "x86_64";
  const tasks = num(inputs.desiredCount) ?? 0;
  b.add(`vCPU: ${tasks} tasks × ${vcpu} vCPU (${arch})`, `fargate.${arch}.vcpu`, tasks * vcpu, "vCPU-hours", true);
  b.add(`memory: ${tasks} tasks × ${gb} GB`, `fargate.${arch}.gb`, tasks * gb, "GB-hours", true);
  const ephemeral = num(at(task.inputs, "ephemeralStorage.sizeInGib"));
  if (ephemeral !== undefined && ephemeral > 20)
    b.add(
      `ephemeral storage above 20 GB: ${tasks} × ${ephemeral - 20} GB`,
      "fargate.ephemeral.gb",
      tasks * (ephemeral - 20),
      "GB-hours",
      true,
    );
  const serviceName = text(inputs.name) ?? b.resource.name;
  const target = find(b.ctx, "aws:appautoscaling/target:Target", (r) =>
    (text(r.inputs.resourceId) ?? "").endsWith(`/${serviceName}`),
  );
  const max = num(target?.inputs.maxCapacity);
  if (max !== undefined && max > tasks && tasks > 0)
    b.note(`autoscaling up to ${max} tasks: up to ${money((b.cost.monthly * max) / tasks)} a month at the maximum`);
  b.usage("data transfer and public IPv4 of tasks with a public IP (per hour)");
}

function metricAlarm(b: Builder): void {
  const queries = list(b.resource.inputs.metricQueries) as Record<string, unknown>[];
  const metrics = queries.filter((q) => q.metric !== undefined);
  const periods =
    metrics.length > 0 ? metrics.map((q) => num(at(q, "metric.period"))) : [num(b.resource.inputs.period)];
  const highResolution = periods.some((p) => p !== undefined && p < 60);
  const count = Math.max(metrics.length, 1);
  const kind = highResolution ? "highResolution" : "standard";
  b.add(
    `${count} alarm metric${count === 1 ? "" : "s"} (${highResolution ? "high-resolution" : "standard"})`,
    `cloudwatch.alarm.${kind}`,
    count,
    "alarm metric-months",
    false,
  );
  b.note("the first 10 alarm metrics of an account are free: not deducted");
}

function webAcl(b: Builder): void {
  b.add("web ACL", "wafv2.webAcl", 1, "web ACL-months", false);
  const rules = list(b.resource.inputs.rules) as Record<string, unknown>[];
  if (rules.length > 0)
    b.add(`${rules.length} rule${rules.length === 1 ? "" : "s"}`, "wafv2.rule", rules.length, "rule-months", false);
  for (const rule of rules) {
    const group = text(at(rule, "statement.managedRuleGroupStatement.name"));
    if (group && /BotControl|ATP|ACFP|AntiDDoS/.test(group))
      b.cannot(`managed rule group ${group} has its own subscription fee: not in the price table`);
  }
  b.usage("requests inspected (per million)");
}

const PRICERS: Readonly<Record<string, Pricer>> = {
  "aws:rds/instance:Instance": rdsInstance,
  "aws:rds/proxy:Proxy": rdsProxy,
  "aws:elasticache/replicationGroup:ReplicationGroup": replicationGroup,
  "aws:elasticache/cluster:Cluster": cacheCluster,
  "aws:ecs/service:Service": ecsService,
  "aws:ec2/natGateway:NatGateway": (b) => {
    b.add("NAT gateway", "ec2.natGateway", 1, "hours", true);
    b.usage("data processed (per GB)");
  },
  "aws:ec2/eip:Eip": (b) => void b.add("public IPv4 address", "ec2.publicIpv4", 1, "address-hours", true),
  "aws:lb/loadBalancer:LoadBalancer": (b) => {
    const kind = text(b.resource.inputs.loadBalancerType) ?? "application";
    if (kind === "application" || kind === "network") {
      b.add(`${kind} load balancer`, `elb.${kind}`, 1, "hours", true);
      b.usage(
        `${kind === "application" ? "LCUs" : "NLCUs"}: connections, processed bytes and rule evaluations (per LCU-hour)`,
      );
    } else b.cannot(`load balancer type "${kind}" is not in the price table`);
  },
  "aws:kms/key:Key": (b) => {
    b.add("customer managed key", "kms.key", 1, "key-months", false);
    if (isOn(b.resource.inputs.enableKeyRotation))
      b.usage("each yearly rotation adds $1/month for the first two rotations");
    b.usage("requests beyond 20,000 a month (per 10,000)");
  },
  "aws:kms/replicaKey:ReplicaKey": (b) => void b.add("replica key", "kms.key", 1, "key-months", false),
  "aws:cloudwatch/metricAlarm:MetricAlarm": metricAlarm,
  "aws:cloudwatch/compositeAlarm:CompositeAlarm": (b) =>
    void b.add("composite alarm", "cloudwatch.alarm.composite", 1, "alarm-months", false),
  "aws:cloudwatch/dashboard:Dashboard": (b) => {
    b.add("dashboard", "cloudwatch.dashboard", 1, "dashboard-months", false);
    b.note("the first 3 dashboards of an account are free: not deducted");
  },
  "aws:wafv2/webAcl:WebAcl": webAcl,
  "aws:secretsmanager/secret:Secret": (b) => {
    b.add("secret", "secretsmanager.secret", 1, "secret-months", false);
    b.usage("API calls (per 10,000)");
  },
  "aws:scheduler/schedule:Schedule": (b) => {
    b.add("schedule (invocations within the free tier)", "scheduler.schedule", 1, "schedules", false);
    if (at(b.resource.inputs, "target.ecsParameters") !== undefined)
      b.usage("each run's Fargate task, for its run time (per vCPU-second and GB-second)");
  },
  "aws:cloudwatch/eventRule:EventRule": (b) => {
    // Rules on the default bus matching AWS service events or a schedule cost nothing themselves.
    b.cost.free = true;
  },
  "aws:route53/zone:Zone": (b) => {
    b.add("hosted zone", "route53.hostedZone", 1, "zone-months", false);
    b.usage("DNS queries (per million)");
  },
  "aws:ec2/vpcEndpoint:VpcEndpoint": (b) => {
    if ((text(b.resource.inputs.vpcEndpointType) ?? "Gateway") === "Gateway") b.cost.free = true;
    else b.cannot("interface endpoint hours are not in the price table");
  },
  "kubernetes:core/v1:Service": (b) => {
    if (text(at(b.resource.inputs, "spec.type")) === "LoadBalancer")
      b.cannot("type LoadBalancer creates a cloud load balancer outside the plan");
    else b.cost.free = true;
  },
};

/** USD with cents and thousands separators: "$1,234.56". */
export function money(usd: number): string {
  const sign = usd < 0 ? "-" : "";
  return `${sign}$${Math.abs(usd).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/**
 * The monthly cost of one resource, or undefined for what is not infrastructure (component
 * resources, the stack, providers and provider-local resources such as random values).
 */
export function priceResource(resource: ResourceState, ctx: PricingContext): ResourceCost | undefined {
  if (!resource.custom || resource.type.startsWith("pulumi:") || resource.type.startsWith("random:")) return undefined;
  const b = new Builder(resource, ctx);
  const pricer = PRICERS[resource.type];
  if (pricer) pricer(b);
  else if (FREE.has(resource.type)) b.cost.free = true;
  else if (USAGE_ONLY[resource.type]) b.usage(USAGE_ONLY[resource.type]!);
  else if (K8S_ELSEWHERE[resource.type]) b.cannot(K8S_ELSEWHERE[resource.type]!);
  else if (resource.type.startsWith("kubernetes:"))
    b.cost.free = true; // configuration objects inside the cluster
  else if (resource.type.startsWith("aws:iam/"))
    b.cost.free = true; // IAM has no charge
  else b.cannot(`type ${resource.type} is not in the price table`);
  return b.cost;
}
