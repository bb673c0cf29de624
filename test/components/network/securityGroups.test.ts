import { TierSecurityGroups } from "../../../components/network/securityGroups";
import { idOfOne, ofType, one, recordResources, settle } from "../../helpers/mocks";

describe("TierSecurityGroups", () => {
  test("opens only 80 and 443 to the world, on the load balancer; the app tier gets no ingress here", async () => {
    const resources = await recordResources();
    new TierSecurityGroups("t", { vpcId: "vpc-1" });
    await settle();

    expect(one(resources, "aws:ec2/securityGroup:SecurityGroup", "t-alb").inputs).toMatchObject({
      vpcId: "vpc-1",
      description: expect.stringContaining("HTTPS") as jest.AsymmetricMatcher,
    });
    expect(one(resources, "aws:ec2/securityGroup:SecurityGroup", "t-app").inputs).toMatchObject({ vpcId: "vpc-1" });
    const ingress = ofType(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map((r) => r.inputs);
    expect(ingress).toEqual([
      {
        securityGroupId: idOfOne(resources, "aws:ec2/securityGroup:SecurityGroup", "t-alb"),
        description: "HTTPS from the internet",
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrIpv4: "0.0.0.0/0",
      },
      {
        securityGroupId: idOfOne(resources, "aws:ec2/securityGroup:SecurityGroup", "t-alb"),
        description: "HTTP from the internet, redirected to HTTPS",
        ipProtocol: "tcp",
        fromPort: 80,
        toPort: 80,
        cidrIpv4: "0.0.0.0/0",
      },
    ]);
    expect(ofType(resources, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule").map((r) => r.inputs)).toEqual([
      {
        securityGroupId: idOfOne(resources, "aws:ec2/securityGroup:SecurityGroup", "t-app"),
        description: "HTTPS to AWS APIs and the internet, through NAT",
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrIpv4: "0.0.0.0/0",
      },
    ]);
  });
});
