import { ofType, one } from "../helpers/mocks";
import { type Plan, planStack } from "../helpers/stack";
import { stackInvariants } from "./stackInvariants";

let plan: Plan;
beforeAll(async () => {
  plan = await planStack("production");
});

describe("production stack, built from Pulumi.production.yaml", () => {
  stackInvariants(() => plan, true);

  test("spans three zones with a NAT gateway in each", () => {
    expect(ofType(plan.resources, "aws:ec2/subnet:Subnet")).toHaveLength(9);
    expect(ofType(plan.resources, "aws:ec2/natGateway:NatGateway").map((n) => n.inputs.subnetId)).toEqual([
      "production-public-eu-west-1a-id",
      "production-public-eu-west-1b-id",
      "production-public-eu-west-1c-id",
    ]);
    expect(one(plan.resources, "aws:ec2/vpc:Vpc", "production-vpc").inputs.cidrBlock).toBe("10.10.0.0/16");
  });

  test("keeps flow logs for a year", () => {
    expect(one(plan.resources, "aws:cloudwatch/logGroup:LogGroup", "production-flow-logs").inputs.retentionInDays).toBe(365);
  });

  test("exports the network by tier", () => {
    expect(plan.outputs).toEqual({
      vpcId: "production-vpc-id",
      publicSubnetIds: ["production-public-eu-west-1a-id", "production-public-eu-west-1b-id", "production-public-eu-west-1c-id"],
      privateSubnetIds: ["production-private-eu-west-1a-id", "production-private-eu-west-1b-id", "production-private-eu-west-1c-id"],
      isolatedSubnetIds: ["production-isolated-eu-west-1a-id", "production-isolated-eu-west-1b-id", "production-isolated-eu-west-1c-id"],
      logsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/logs-key",
      loadBalancerSecurityGroupId: "production-alb-id",
      appSecurityGroupId: "production-app-id",
    });
  });
});
