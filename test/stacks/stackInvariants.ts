/**
 * What must hold for every stack, whatever its size: asserted by each stack's test file.
 */
import { ofType } from "../helpers/mocks";
import { type Plan, stateful } from "../helpers/stack";

export function stackInvariants(getPlan: () => Plan, expectProtected: boolean): void {
  test("parents every resource to a component of the program", () => {
    const plan = getPlan();
    const components = new Set(plan.resources.filter((r) => !r.custom).map((r) => r.urn));
    for (const r of plan.resources.filter((r) => r.custom)) expect({ name: r.name, parentIsComponent: components.has(r.parent ?? "") }).toEqual({ name: r.name, parentIsComponent: true });
  });

  test(`${expectProtected ? "protects" : "does not protect"} the stateful resources, as the stack file says`, () => {
    const plan = getPlan();
    expect(stateful(plan).length).toBeGreaterThan(0);
    for (const r of stateful(plan)) expect({ name: r.name, protect: r.protect }).toEqual({ name: r.name, protect: expectProtected });
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
    for (const a of alarms) expect({ name: a.name, actions: (a.inputs.alarmActions as string[] | undefined)?.length ?? 0 }).toEqual({ name: a.name, actions: 1 });
  });

  test("opens no port to the world except 80 and 443 on the load balancer", () => {
    const plan = getPlan();
    const open = ofType(plan.resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter((r) => r.inputs.cidrIpv4 === "0.0.0.0/0" || r.inputs.cidrIpv6 === "::/0");
    expect(open.map((r) => [r.inputs.securityGroupId, r.inputs.fromPort, r.inputs.toPort])).toEqual([
      [`${plan.stack}-alb-id`, 443, 443],
      [`${plan.stack}-alb-id`, 80, 80],
    ]);
  });

  test("deploys every service with the circuit breaker, full capacity kept and no public IP", () => {
    const services = ofType(getPlan().resources, "aws:ecs/service:Service");
    expect(services.length).toBeGreaterThan(0);
    for (const s of services) {
      expect(s.inputs).toMatchObject({ deploymentCircuitBreaker: { enable: true, rollback: true }, deploymentMinimumHealthyPercent: 100, waitForSteadyState: true, networkConfiguration: { assignPublicIp: false } });
    }
  });

  test("runs every container read-only, unprivileged, logging to CloudWatch", () => {
    for (const td of ofType(getPlan().resources, "aws:ecs/taskDefinition:TaskDefinition")) {
      for (const c of JSON.parse(td.inputs.containerDefinitions as string) as Array<Record<string, any>>) {
        expect({ task: td.name, readonly: c.readonlyRootFilesystem, privileged: c.privileged, log: c.logConfiguration?.logDriver }).toEqual({ task: td.name, readonly: true, privileged: undefined, log: "awslogs" });
      }
      expect(td.inputs.executionRoleArn).not.toBe(td.inputs.taskRoleArn);
    }
  });

  test("rotates every KMS key", () => {
    for (const k of ofType(getPlan().resources, "aws:kms/key:Key")) expect(k.inputs.enableKeyRotation).toBe(true);
  });

  test("gives no subnet public IPs and keeps the default security group empty", () => {
    const plan = getPlan();
    for (const s of ofType(plan.resources, "aws:ec2/subnet:Subnet")) expect(s.inputs.mapPublicIpOnLaunch).toBe(false);
    const [sg] = ofType(plan.resources, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup");
    expect(sg?.inputs.ingress).toBeUndefined();
    expect(sg?.inputs.egress).toBeUndefined();
  });
}
