import { estimatePlan } from "../../../tools/cost/estimate";
import { partOf, priceResource } from "../../../tools/cost/price";
import { parsePriceTable, PRICES, rateIn } from "../../../tools/cost/table";
import type { ResourceState } from "../../../tools/diff/model";
import { plan, RDS, resource } from "../diff/builders";

const HOURS = 730;
const REGION = "eu-west-1";
/** A rate's figure straight from the table, so expected totals are computed here, not copied. */
const usd = (key: string): number => {
  const rate = PRICES.rates[key];
  if (!rate) throw new Error(`no rate ${key} in the table`);
  return rate.usd;
};

function price(r: ResourceState, ...others: ResourceState[]) {
  const cost = priceResource(r, { table: PRICES, region: REGION, resources: [r, ...others] });
  if (!cost) throw new Error("not priced at all");
  return cost;
}

const postgres = {
  engine: "postgres",
  instanceClass: "db.r6g.large",
  multiAz: true,
  allocatedStorage: 100,
  storageType: "gp3",
};

describe("the price table", () => {
  test("every rate names a listed source and a region, and the stacks' regions are covered", () => {
    for (const [key, rate] of Object.entries(PRICES.rates)) {
      expect([key, rate.source in PRICES.sources]).toEqual([key, true]);
      expect(rate.figureRegion).not.toBe("");
    }
    expect(PRICES.regions).toEqual(expect.arrayContaining(["eu-west-1", "eu-central-1"]));
    expect(PRICES.compiled).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  test("a rate naming an unlisted source is refused, naming the entry", () => {
    const broken = {
      ...PRICES,
      rates: { ...PRICES.rates, "kms.key": { ...PRICES.rates["kms.key"], source: "somewhere" } },
    };
    expect(() => parsePriceTable(broken)).toThrow(
      'rates.kms.key.source: names source "somewhere", which is not in "sources"',
    );
  });

  test("a regional figure replaces the default one; elsewhere the default stands in and says so", () => {
    expect(rateIn(PRICES, "elb.application", "eu-west-1")).toMatchObject({
      usd: 0.0252,
      standIn: false,
      figureRegion: "eu-west-1",
    });
    expect(rateIn(PRICES, "elb.application", "eu-central-1")).toMatchObject({
      usd: 0.0225,
      standIn: true,
      figureRegion: "us-east-1",
    });
    // A stand-in names the region its figure is for, which is not always us-east-1.
    expect(PRICES.rates["ec2.natGateway"]?.figureRegion).toBe("us-east-2");
    expect(rateIn(PRICES, "ec2.natGateway", "eu-west-1")).toMatchObject({ standIn: true, figureRegion: "us-east-2" });
    expect(rateIn(PRICES, "kms.key", "eu-central-1")).toMatchObject({ standIn: false, figureRegion: "all" });
    expect(rateIn(PRICES, "rds.postgres.db.r6g.large", REGION)).toMatchObject({ unverified: true });
  });
});

describe("pricing a resource from its inputs", () => {
  test("a db.r6g.large Multi-AZ with 100 GB gp3: both copies' hours and storage", () => {
    const cost = price(resource(RDS, "db", postgres));
    const expected = usd("rds.postgres.db.r6g.large") * HOURS * 2 + usd("rds.storage.gp3") * 100 * 2;
    expect(cost.monthly).toBeCloseTo(expected, 6);
    expect(cost.items.map((i) => [i.label, i.quantity])).toEqual([
      ["instance db.r6g.large (Multi-AZ: primary and standby)", 2 * HOURS],
      ["storage gp3 100 GB × 2 copies", 200],
    ]);
    expect(cost.unpriced).toEqual([]);
  });

  test("Single-AZ halves it; the RDS-managed master secret and IOPS above the gp3 baseline are added", () => {
    const cost = price(
      resource(RDS, "db", { ...postgres, multiAz: false, manageMasterUserPassword: true, iops: 4000 }),
    );
    const expected =
      usd("rds.postgres.db.r6g.large") * HOURS +
      usd("rds.storage.gp3") * 100 +
      usd("rds.storage.gp3.iops") * 1000 +
      usd("secretsmanager.secret");
    expect(cost.monthly).toBeCloseTo(expected, 6);
  });

  test("an engine, class or storage type the table lacks is reported, not priced as free", () => {
    expect(price(resource(RDS, "db", { ...postgres, engine: "mysql" })).unpriced[0]).toBe(
      'engine "mysql": the price table has PostgreSQL only',
    );
    expect(price(resource(RDS, "db", { ...postgres, instanceClass: "db.x2g.large" })).unpriced).toEqual([
      'instance class "db.x2g.large" is not in the price table',
    ]);
    const io1 = price(resource(RDS, "db", { ...postgres, storageType: "io1" }));
    expect(io1.unpriced).toEqual(['storage type "io1" is not in the price table (gp3 only)']);
    expect(io1.monthly).toBeCloseTo(usd("rds.postgres.db.r6g.large") * HOURS * 2, 6);
  });

  test("a read replica takes its engine and storage from the source instance", () => {
    const source = resource(RDS, "primary", { ...postgres, identifier: "opsbook-production" });
    const replica = resource(RDS, "replica", {
      instanceClass: "db.t4g.medium",
      replicateSourceDb: "arn:aws:rds:eu-west-1:123456789012:db:opsbook-production",
    });
    const cost = price(replica, source);
    expect(cost.monthly).toBeCloseTo(usd("rds.postgres.db.t4g.medium") * HOURS + usd("rds.storage.gp3") * 100, 6);
  });

  test("a Fargate service: task cpu and memory × desired count × 730 h, and its autoscaling ceiling", () => {
    const task = resource("aws:ecs/taskDefinition:TaskDefinition", "api", {
      cpu: "1024",
      memory: "2048",
      family: "opsbook-production-api",
      runtimePlatform: { cpuArchitecture: "X86_64" },
    });
    const service = resource("aws:ecs/service:Service", "api", {
      name: "opsbook-production-api",
      launchType: "FARGATE",
      desiredCount: 3,
      taskDefinition: "arn:aws:ecs:eu-west-1:123456789012:taskdefinition/api",
    });
    const scaling = resource("aws:appautoscaling/target:Target", "api", {
      resourceId: "service/opsbook-production/opsbook-production-api",
      minCapacity: 3,
      maxCapacity: 10,
    });
    const cost = price(service, task, scaling);
    const perTask = 1 * HOURS * usd("fargate.x86_64.vcpu") + 2 * HOURS * usd("fargate.x86_64.gb");
    expect(cost.monthly).toBeCloseTo(3 * perTask, 6);
    expect(cost.notes).toEqual([
      `autoscaling up to 10 tasks: up to $${(10 * perTask).toFixed(2)} a month at the maximum`,
    ]);
    expect(price(service).unpriced).toEqual(["its task definition is not in the plan: cpu and memory unknown"]);
  });

  test("an ARM64 task uses the Graviton rates", () => {
    const task = resource("aws:ecs/taskDefinition:TaskDefinition", "web", {
      cpu: "512",
      memory: "1024",
      runtimePlatform: { cpuArchitecture: "ARM64" },
    });
    const service = resource("aws:ecs/service:Service", "web", {
      launchType: "FARGATE",
      desiredCount: 2,
      taskDefinition: "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:7",
    });
    const expected = 2 * HOURS * (0.5 * usd("fargate.arm64.vcpu") + 1 * usd("fargate.arm64.gb"));
    expect(price(service, task).monthly).toBeCloseTo(expected, 6);
  });

  test("a NAT gateway: its hours priced, the data it processes listed as usage", () => {
    const cost = price(resource("aws:ec2/natGateway:NatGateway", "nat", { subnetId: "subnet-1" }));
    expect(cost.monthly).toBeCloseTo(HOURS * usd("ec2.natGateway"), 6);
    expect(cost.usage).toEqual(["data processed (per GB)"]);
  });

  test("ElastiCache nodes, WAF rules, alarms by metric and resolution, a KMS key", () => {
    const redis = price(
      resource("aws:elasticache/replicationGroup:ReplicationGroup", "redis", {
        nodeType: "cache.t4g.small",
        numCacheClusters: 2,
      }),
    );
    expect(redis.monthly).toBeCloseTo(2 * HOURS * usd("elasticache.cache.t4g.small"), 6);
    const waf = price(resource("aws:wafv2/webAcl:WebAcl", "acl", { rules: [{ name: "a" }, { name: "b" }] }));
    expect(waf.monthly).toBeCloseTo(usd("wafv2.webAcl") + 2 * usd("wafv2.rule"), 6);
    const ratio = price(
      resource("aws:cloudwatch/metricAlarm:MetricAlarm", "ratio", {
        metricQueries: [{ id: "a", metric: { period: 60 } }, { id: "b", metric: { period: 60 } }, { id: "e" }],
      }),
    );
    expect(ratio.monthly).toBeCloseTo(2 * usd("cloudwatch.alarm.standard"), 6);
    const fast = price(resource("aws:cloudwatch/metricAlarm:MetricAlarm", "fast", { period: 10 }));
    expect(fast.monthly).toBeCloseTo(usd("cloudwatch.alarm.highResolution"), 6);
    expect(price(resource("aws:kms/key:Key", "k", {})).monthly).toBe(usd("kms.key"));
  });

  test("an RDS Proxy bills per vCPU of its target instance", () => {
    const db = resource(RDS, "db", { ...postgres, identifier: "opsbook-production" });
    const proxy = resource("aws:rds/proxy:Proxy", "proxy", { name: "opsbook-production" });
    const target = resource("aws:rds/proxyTarget:ProxyTarget", "target", {
      dbProxyName: "opsbook-production",
      dbInstanceIdentifier: "opsbook-production",
    });
    const vcpu = PRICES.rates["rds.postgres.db.r6g.large"]!.vcpu!;
    expect(price(proxy, db, target).monthly).toBeCloseTo(vcpu * HOURS * usd("rds.proxy.vcpu"), 6);
    expect(price(proxy).unpriced).toEqual([
      "its target instance is not in the plan: the proxy bills per vCPU of the target",
    ]);
  });

  test("an unknown type is reported as unpriced; configuration is free; components are not resources", () => {
    expect(price(resource("aws:opensearch/domain:Domain", "search", {})).unpriced).toEqual([
      "type aws:opensearch/domain:Domain is not in the price table",
    ]);
    expect(price(resource("aws:ec2/subnet:Subnet", "s", {})).free).toBe(true);
    expect(price(resource("kubernetes:apps/v1:Deployment", "api", {})).unpriced[0]).toMatch(/cluster's nodes/);
    const component = { ...resource("opsbook:data:Postgres", "pg", {}), custom: false };
    expect(priceResource(component, { table: PRICES, region: REGION, resources: [] })).toBeUndefined();
  });

  test("a resource's own region input wins over the stack's", () => {
    const lb = resource("aws:lb/loadBalancer:LoadBalancer", "lb", { region: "eu-central-1" });
    expect(price(lb).items[0]!.rate).toMatchObject({ usd: 0.0225, standIn: true });
  });
});

describe("the estimate of a plan", () => {
  test("groups by the outermost component and totals every priced resource", () => {
    expect(partOf("urn:pulumi:s::opsbook::opsbook:data:Postgres$aws:rds/instance:Instance::db")).toBe("data/postgres");
    expect(partOf("urn:pulumi:s::opsbook::opsbook:network:Network$aws:ec2/natGateway:NatGateway::n")).toBe("network");
    expect(partOf("urn:pulumi:s::opsbook::aws:ecr/repository:Repository::api")).toBe("stack");
    const db = {
      ...resource(RDS, "db", postgres),
      urn: "urn:pulumi:production::opsbook::opsbook:data:Postgres$aws:rds/instance:Instance::db",
    };
    const nat = resource("aws:ec2/natGateway:NatGateway", "nat", {});
    const unknown = resource("aws:opensearch/domain:Domain", "search", {});
    const estimate = estimatePlan(plan(db, nat, unknown), REGION);
    expect(estimate.parts.map((p) => p.part)).toEqual(["data/postgres", "stack"]);
    expect(estimate.monthly).toBeCloseTo(
      usd("rds.postgres.db.r6g.large") * HOURS * 2 + usd("rds.storage.gp3") * 200 + usd("ec2.natGateway") * HOURS,
      6,
    );
    expect(estimate.unpriced.map((c) => c.name)).toEqual(["search"]);
    expect(estimate.rates.unverified).toEqual(["rds.postgres.db.r6g.large@eu-west-1"]);
  });
});
