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
