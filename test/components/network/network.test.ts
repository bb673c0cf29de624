import { Network } from "../../../components/network/network";
import {
  type RecordedResource,
  idOfOne,
  ofType,
  one,
  policyOf,
  recordResources,
  resolve,
  settle,
} from "../../helpers/mocks";

const zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];

async function build(natGateways: "single" | "perAz"): Promise<{ resources: RecordedResource[]; network: Network }> {
  const resources = await recordResources();
  const network = new Network("net", {
    cidr: "10.10.0.0/16",
    availabilityZones: zones,
    natGateways,
    flowLogRetentionDays: 90,
    logKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/logs",
    accountId: "123456789012",
    region: "eu-west-1",
    partition: "aws",
  });
  await settle();
  return { resources, network };
}

describe("Network, one NAT gateway per zone", () => {
  let resources: RecordedResource[];
  let network: Network;
  beforeAll(async () => ({ resources, network } = await build("perAz")));

  test("declares a DNS-enabled VPC over the configured block", () => {
    expect(one(resources, "aws:ec2/vpc:Vpc", "net-vpc").inputs).toMatchObject({
      cidrBlock: "10.10.0.0/16",
      enableDnsHostnames: true,
      enableDnsSupport: true,
    });
  });

  test("puts three tiers of subnets in every zone, from the subnet plan, none with public IPs", () => {
    const subnets = ofType(resources, "aws:ec2/subnet:Subnet");
    expect(subnets).toHaveLength(9);
    expect(one(resources, "aws:ec2/subnet:Subnet", "net-private-eu-west-1b").inputs).toMatchObject({
      availabilityZone: "eu-west-1b",
      cidrBlock: "10.10.32.0/19",
      vpcId: idOfOne(resources, "aws:ec2/vpc:Vpc", "net-vpc"),
    });
    expect(one(resources, "aws:ec2/subnet:Subnet", "net-public-eu-west-1c").inputs.cidrBlock).toBe("10.10.200.0/22");
    expect(one(resources, "aws:ec2/subnet:Subnet", "net-isolated-eu-west-1a").inputs.cidrBlock).toBe("10.10.224.0/22");
    for (const s of subnets) expect(s.inputs.mapPublicIpOnLaunch).toBe(false);
  });

  test("routes each private subnet through the NAT gateway of its own zone", () => {
    const nats = ofType(resources, "aws:ec2/natGateway:NatGateway");
    expect(nats.map((n) => n.inputs.subnetId)).toEqual(
      zones.map((z) => idOfOne(resources, "aws:ec2/subnet:Subnet", `net-public-${z}`)),
    );
    for (const zone of zones) {
      expect(one(resources, "aws:ec2/routeTable:RouteTable", `net-private-${zone}`).inputs.routes).toEqual([
        {
          cidrBlock: "0.0.0.0/0",
          natGatewayId: idOfOne(resources, "aws:ec2/natGateway:NatGateway", `net-nat-${zone}`),
        },
      ]);
      expect(
        one(resources, "aws:ec2/routeTableAssociation:RouteTableAssociation", `net-private-${zone}`).inputs,
      ).toEqual({
        subnetId: idOfOne(resources, "aws:ec2/subnet:Subnet", `net-private-${zone}`),
        routeTableId: idOfOne(resources, "aws:ec2/routeTable:RouteTable", `net-private-${zone}`),
      });
    }
  });

  test("gives the isolated tier no route out of the VPC", () => {
    expect(one(resources, "aws:ec2/routeTable:RouteTable", "net-isolated").inputs.routes).toBeUndefined();
    for (const zone of zones) {
      expect(
        one(resources, "aws:ec2/routeTableAssociation:RouteTableAssociation", `net-isolated-${zone}`).inputs
          .routeTableId,
      ).toBe(idOfOne(resources, "aws:ec2/routeTable:RouteTable", "net-isolated"));
    }
  });

  test("sends only the public tier to the internet gateway", () => {
    expect(one(resources, "aws:ec2/routeTable:RouteTable", "net-public").inputs.routes).toEqual([
      { cidrBlock: "0.0.0.0/0", gatewayId: idOfOne(resources, "aws:ec2/internetGateway:InternetGateway", "net-igw") },
    ]);
    const publicAssociations = ofType(resources, "aws:ec2/routeTableAssociation:RouteTableAssociation").filter(
      (a) => a.inputs.routeTableId === idOfOne(resources, "aws:ec2/routeTable:RouteTable", "net-public"),
    );
    expect(publicAssociations.map((a) => a.inputs.subnetId)).toEqual(
      zones.map((z) => idOfOne(resources, "aws:ec2/subnet:Subnet", `net-public-${z}`)),
    );
  });

  test("empties the default security group", () => {
    const sg = one(resources, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "net-default-sg");
    expect(sg.inputs.vpcId).toBe(idOfOne(resources, "aws:ec2/vpc:Vpc", "net-vpc"));
    expect(sg.inputs.ingress).toBeUndefined();
    expect(sg.inputs.egress).toBeUndefined();
  });

  test("records all traffic to an encrypted log group through a role only this account's flow logs can assume", () => {
    expect(one(resources, "aws:cloudwatch/logGroup:LogGroup", "net-flow-logs").inputs).toMatchObject({
      retentionInDays: 90,
      kmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/logs",
    });
    const logGroupArn = "arn:aws:logs:eu-west-1:123456789012:log-group:net-flow-logs";
    expect(one(resources, "aws:ec2/flowLog:FlowLog", "net-flow-log").inputs).toMatchObject({
      vpcId: idOfOne(resources, "aws:ec2/vpc:Vpc", "net-vpc"),
      trafficType: "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: logGroupArn,
      iamRoleArn: "arn:aws:iam::123456789012:role/net-flow-logs",
    });
    const trust = policyOf(one(resources, "aws:iam/role:Role", "net-flow-logs"), "assumeRolePolicy");
    expect(trust.Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { Service: "vpc-flow-logs.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: {
          StringEquals: { "aws:SourceAccount": "123456789012" },
          ArnLike: { "aws:SourceArn": "arn:aws:ec2:eu-west-1:123456789012:vpc-flow-log/*" },
        },
      },
    ]);
    const permissions = policyOf(one(resources, "aws:iam/rolePolicy:RolePolicy", "net-flow-logs"));
    expect(permissions.Statement).toEqual([
      {
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        Resource: [logGroupArn, `${logGroupArn}:*`],
      },
    ]);
  });

  test("exposes subnet ids by tier in zone order", async () => {
    expect(await resolve(network.privateSubnetIds)).toEqual(
      zones.map((z) => idOfOne(resources, "aws:ec2/subnet:Subnet", `net-private-${z}`)),
    );
    expect(await resolve(network.isolatedSubnetIds)).toEqual(
      zones.map((z) => idOfOne(resources, "aws:ec2/subnet:Subnet", `net-isolated-${z}`)),
    );
    expect(await resolve(network.publicSubnetIds)).toEqual(
      zones.map((z) => idOfOne(resources, "aws:ec2/subnet:Subnet", `net-public-${z}`)),
    );
  });

  test("parents every resource to the component", () => {
    const component = one(resources, "opsbook:network:Network", "net");
    for (const r of resources.filter((r) => r !== component)) expect(r.parent).toBe(component.urn);
  });
});

describe("Network, a single NAT gateway", () => {
  test("routes every zone through the one gateway in the first zone", async () => {
    const { resources } = await build("single");
    expect(ofType(resources, "aws:ec2/natGateway:NatGateway").map((n) => n.name)).toEqual(["net-nat-eu-west-1a"]);
    expect(ofType(resources, "aws:ec2/eip:Eip")).toHaveLength(1);
    for (const zone of zones) {
      expect(one(resources, "aws:ec2/routeTable:RouteTable", `net-private-${zone}`).inputs.routes).toEqual([
        {
          cidrBlock: "0.0.0.0/0",
          natGatewayId: idOfOne(resources, "aws:ec2/natGateway:NatGateway", "net-nat-eu-west-1a"),
        },
      ]);
    }
  });
});
