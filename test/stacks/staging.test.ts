import { ofType, one } from "../helpers/mocks";
import { type Plan, planStack } from "../helpers/stack";
import { stackInvariants } from "./stackInvariants";

let plan: Plan;
beforeAll(async () => {
  plan = await planStack("staging");
});

describe("staging stack, built from Pulumi.staging.yaml", () => {
  stackInvariants(() => plan, false);

  test("spans two zones and shares one NAT gateway", () => {
    expect(ofType(plan.resources, "aws:ec2/subnet:Subnet")).toHaveLength(6);
    expect(ofType(plan.resources, "aws:ec2/natGateway:NatGateway").map((n) => n.name)).toEqual(["staging-nat-eu-west-1a"]);
    expect(one(plan.resources, "aws:ec2/vpc:Vpc", "staging-vpc").inputs.cidrBlock).toBe("10.20.0.0/16");
  });

  test("runs one task per service and lets the load balancer be deleted", () => {
    expect(one(plan.resources, "aws:ecs/service:Service", "api").inputs.desiredCount).toBe(1);
    expect(one(plan.resources, "aws:appautoscaling/target:Target", "web").inputs).toMatchObject({ minCapacity: 1, maxCapacity: 2 });
    expect(one(plan.resources, "aws:lb/loadBalancer:LoadBalancer", "staging").inputs.enableDeletionProtection).toBe(false);
  });

  test("keeps flow logs for 30 days", () => {
    expect(one(plan.resources, "aws:cloudwatch/logGroup:LogGroup", "staging-flow-logs").inputs.retentionInDays).toBe(30);
  });
});
