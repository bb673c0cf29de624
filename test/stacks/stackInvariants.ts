/**
 * What must hold for every stack, whatever its size: asserted by each stack's test file.
 */
import { backupContract } from "../helpers/backupContract";
import { type RecordedResource, idOf, idOfOne, ofType, containersOf, sharedIds } from "../helpers/mocks";
import { type Plan, stateful } from "../helpers/stack";

const DATA_PORTS = [5432, 6379];
const WORLD = ["0.0.0.0/0", "::/0"];

/** Every ingress rule of the plan, standalone or inline, as { group, protocol, ports, sources }. */
function ingressRules(plan: Plan): Array<{
  from: string;
  groupId: unknown;
  ipProtocol: unknown;
  fromPort: number;
  toPort: number;
  cidrs: unknown[];
  referencedSecurityGroupId: unknown;
  prefixListId: unknown;
}> {
  const standalone = ofType(plan.resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map((r) => ({
    from: r.name,
    groupId: r.inputs.securityGroupId,
    ipProtocol: r.inputs.ipProtocol,
    fromPort: Number(r.inputs.fromPort ?? 0),
    toPort: Number(r.inputs.toPort ?? 65535),
    cidrs: [r.inputs.cidrIpv4, r.inputs.cidrIpv6].filter((c) => c !== undefined),
    referencedSecurityGroupId: r.inputs.referencedSecurityGroupId,
    prefixListId: r.inputs.prefixListId,
  }));
  const legacy = ofType(plan.resources, "aws:ec2/securityGroupRule:SecurityGroupRule")
    .filter((r) => r.inputs.type === "ingress")
    .map((r) => ({
      from: r.name,
      groupId: r.inputs.securityGroupId,
      ipProtocol: r.inputs.protocol,
      fromPort: Number(r.inputs.fromPort),
      toPort: Number(r.inputs.toPort),
      cidrs: [...((r.inputs.cidrBlocks as unknown[]) ?? []), ...((r.inputs.ipv6CidrBlocks as unknown[]) ?? [])],
      referencedSecurityGroupId: r.inputs.sourceSecurityGroupId,
      prefixListId: r.inputs.prefixListIds,
    }));
  const inline = ofType(plan.resources, "aws:ec2/securityGroup:SecurityGroup").flatMap((g) =>
    ((g.inputs.ingress as Array<Record<string, unknown>> | undefined) ?? []).map((i) => ({
      from: `${g.name} (inline)`,
      groupId: idOf(g),
      ipProtocol: i.protocol,
      fromPort: Number(i.fromPort),
      toPort: Number(i.toPort),
      cidrs: [...((i.cidrBlocks as unknown[]) ?? []), ...((i.ipv6CidrBlocks as unknown[]) ?? [])],
      referencedSecurityGroupId: (i.securityGroups as unknown[] | undefined)?.[0],
      prefixListId: i.prefixListIds,
    })),
  );
  return [...standalone, ...legacy, ...inline];
}

/** Security groups declared by the data components (opsbook:data:*). */
function dataSecurityGroups(plan: Plan): RecordedResource[] {
  const dataComponents = new Set(plan.resources.filter((r) => r.type.startsWith("opsbook:data:")).map((r) => r.urn));
  return ofType(plan.resources, "aws:ec2/securityGroup:SecurityGroup").filter((g) =>
    dataComponents.has(g.parent ?? ""),
  );
}

export function stackInvariants(getPlan: () => Plan, expectProtected: boolean): void {
  describe("the backup contract", () => backupContract(() => getPlan().resources));

  test("gives every resource a URN of its own, qualified by its ancestors' types as the engine does", () => {
    const urns = getPlan().resources.map((r) => r.urn);
    expect(new Set(urns).size).toBe(urns.length);
    expect(urns).toContain(
      `urn:pulumi:${getPlan().stack}::opsbook::opsbook:service:LoadBalancer$opsbook:storage:SecureBucket$aws:s3/bucket:Bucket::${getPlan().stack}-lb-access-logs`,
    );
  });

  test("names the two access-log buckets apart, each renamed from the name they shared with an alias", () => {
    const { stack, resources } = getPlan();
    // The disaster-recovery copy's log bucket, where there is one, is new and in the DR region.
    const logBuckets = resources.filter(
      (r) =>
        r.type === "aws:s3/bucket:Bucket" && r.name.endsWith("access-logs") && !r.name.endsWith("replica-access-logs"),
    );
    const owner = (r: RecordedResource) => r.urn.split("::")[2]!.split("$")[0];
    expect(logBuckets.map((r) => [owner(r), r.name])).toEqual([
      ["opsbook:backup:Backups", `${stack}-backup-access-logs`],
      ["opsbook:service:LoadBalancer", `${stack}-lb-access-logs`],
    ]);
    for (const bucket of logBuckets)
      expect(bucket.aliases).toContain(bucket.urn.replace(/::[^:]+$/, `::${stack}-access-logs`));
  });

  test("puts the environment in every KMS alias name", () => {
    const { stack, resources } = getPlan();
    const prefixes = ofType(resources, "aws:kms/alias:Alias").map((a) => a.inputs.namePrefix as string);
    expect(prefixes.length).toBeGreaterThanOrEqual(5);
    for (const prefix of prefixes) expect(prefix).toMatch(new RegExp(`^alias/opsbook-${stack}-[a-z-]+-$`));
  });

  test("gives every resource a mock id of its own, so that no reference can name two resources", () => {
    expect(sharedIds(getPlan().resources)).toEqual([]);
  });

  test("parents every resource to a component of the program", () => {
    const plan = getPlan();
    const components = new Set(plan.resources.filter((r) => !r.custom).map((r) => r.urn));
    for (const r of plan.resources.filter((r) => r.custom))
      expect({ name: r.name, parentIsComponent: components.has(r.parent ?? "") }).toEqual({
        name: r.name,
        parentIsComponent: true,
      });
  });

  test(`${expectProtected ? "protects" : "does not protect"} the stateful resources, as the stack file says`, () => {
    const plan = getPlan();
    expect(stateful(plan).length).toBeGreaterThan(0);
    for (const r of stateful(plan))
      expect({ name: r.name, protect: r.protect }).toEqual({ name: r.name, protect: expectProtected });
  });

  test("keeps and encrypts every log group", () => {
    const groups = ofType(getPlan().resources, "aws:cloudwatch/logGroup:LogGroup");
    expect(groups.length).toBeGreaterThan(0);
    for (const g of groups) {
      expect(g.inputs.retentionInDays).toEqual(expect.any(Number));
      expect(g.inputs.kmsKeyId).toMatch(/^arn:aws:kms:/);
    }
  });

  test("gives every alarm an action", () => {
    const alarms = ofType(getPlan().resources, "aws:cloudwatch/metricAlarm:MetricAlarm");
    expect(alarms.length).toBeGreaterThan(0);
    for (const a of alarms)
      expect({ name: a.name, actions: (a.inputs.alarmActions as string[] | undefined)?.length ?? 0 }).toEqual({
        name: a.name,
        actions: 1,
      });
  });

  test("opens no port to the world except 80 and 443 on the load balancer", () => {
    const plan = getPlan();
    const open = ofType(plan.resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter(
      (r) => r.inputs.cidrIpv4 === "0.0.0.0/0" || r.inputs.cidrIpv6 === "::/0",
    );
    expect(open.map((r) => [r.inputs.securityGroupId, r.inputs.fromPort, r.inputs.toPort])).toEqual([
      [idOfOne(plan.resources, "aws:ec2/securityGroup:SecurityGroup", `${plan.stack}-alb`), 443, 443],
      [idOfOne(plan.resources, "aws:ec2/securityGroup:SecurityGroup", `${plan.stack}-alb`), 80, 80],
    ]);
  });

  test("deploys every service with the circuit breaker, full capacity kept and no public IP", () => {
    const services = ofType(getPlan().resources, "aws:ecs/service:Service");
    expect(services.length).toBeGreaterThan(0);
    for (const s of services) {
      expect(s.inputs).toMatchObject({
        deploymentCircuitBreaker: { enable: true, rollback: true },
        deploymentMinimumHealthyPercent: 100,
        waitForSteadyState: true,
        networkConfiguration: { assignPublicIp: false },
      });
    }
  });

  test("runs every container read-only, unprivileged, logging to CloudWatch", () => {
    const tasks = ofType(getPlan().resources, "aws:ecs/taskDefinition:TaskDefinition");
    expect(tasks.length).toBeGreaterThan(0);
    for (const td of tasks) {
      for (const c of containersOf(td)) {
        expect({
          task: td.name,
          readonly: c.readonlyRootFilesystem,
          privileged: c.privileged,
          log: c.logConfiguration?.logDriver,
        }).toEqual({ task: td.name, readonly: true, privileged: undefined, log: "awslogs" });
      }
      expect(td.inputs.executionRoleArn).not.toBe(td.inputs.taskRoleArn);
    }
  });

  test("rotates every KMS key", () => {
    const keys = ofType(getPlan().resources, "aws:kms/key:Key");
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys)
      expect({ key: k.name, rotation: k.inputs.enableKeyRotation, retained: k.retainOnDelete }).toEqual({
        key: k.name,
        rotation: true,
        retained: true,
      });
  });

  test("admits the world on no rule that reaches 5432 or 6379", () => {
    const rules = ingressRules(getPlan());
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      const allPorts = rule.ipProtocol === "-1" || rule.ipProtocol === "all";
      const reachesData = DATA_PORTS.filter((p) => allPorts || (rule.fromPort <= p && p <= rule.toPort));
      const world = rule.cidrs.filter((c) => WORLD.includes(String(c)));
      expect({ rule: rule.from, worldOnDataPorts: world.length > 0 ? reachesData : [] }).toEqual({
        rule: rule.from,
        worldOnDataPorts: [],
      });
    }
  });

  test("lets data stores be reached only from referenced security groups", () => {
    const plan = getPlan();
    const groups = dataSecurityGroups(plan);
    expect(groups).toHaveLength(2); // PostgreSQL's and Redis's
    const rules = ingressRules(plan);
    for (const g of groups) {
      const into = rules.filter((r) => r.groupId === idOf(g));
      expect(into.length).toBeGreaterThan(0);
      for (const r of into)
        expect({
          rule: r.from,
          cidrs: r.cidrs,
          prefixListId: r.prefixListId,
          referenced: typeof r.referencedSecurityGroupId,
        }).toEqual({ rule: r.from, cidrs: [], prefixListId: undefined, referenced: "string" });
    }
  });

  test("keeps every generated credential out of the plan", () => {
    expect(JSON.stringify(getPlan())).not.toContain("[generated ");
  });

  test("gives no subnet public IPs and keeps the default security group empty", () => {
    const plan = getPlan();
    const subnets = ofType(plan.resources, "aws:ec2/subnet:Subnet");
    expect(subnets.length).toBeGreaterThan(0);
    for (const s of subnets) expect(s.inputs.mapPublicIpOnLaunch).toBe(false);
    const defaults = ofType(plan.resources, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup");
    expect(defaults.map((sg) => [sg.inputs.vpcId, sg.inputs.ingress, sg.inputs.egress])).toEqual([
      [idOfOne(plan.resources, "aws:ec2/vpc:Vpc", `${plan.stack}-vpc`), undefined, undefined],
    ]);
  });
}
