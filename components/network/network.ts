import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { serviceTrustPolicy } from "../../lib/iam";
import { planSubnets } from "../../lib/cidr";
import type { NetworkSettings } from "./settings";

/** The parsed `opsbook:network` settings (./settings.ts) with the zones resolved, plus the stack's wiring. */
export interface NetworkArgs extends Omit<NetworkSettings, "availabilityZones"> {
  /** Availability zones, 2 to 6; each gets a public, a private and an isolated subnet. */
  availabilityZones: string[];
  /** Days VPC flow logs are kept. */
  flowLogRetentionDays: number;
  /** KMS key that encrypts the flow log group. */
  logKeyArn: pulumi.Input<string>;
  /** Account and region the flow log role may be assumed from (confused-deputy guard). */
  accountId: pulumi.Input<string>;
  region: string;
  /** The stack's partition (`aws`, `aws-us-gov`, `aws-cn`), for the flow-log source ARN. */
  partition: pulumi.Input<string>;
}

/** Subnet ids of one tier, in zone order. */
export type SubnetIds = pulumi.Output<string>[];

/**
 * A VPC with three tiers of subnets in every zone: public (load balancer, NAT), private (app tasks,
 * egress through NAT) and isolated (data stores, no route out of the VPC). All traffic is recorded
 * in flow logs; the default security group is emptied so nothing uses it by accident.
 */
export class Network extends pulumi.ComponentResource {
  readonly vpc: aws.ec2.Vpc;
  readonly vpcId: pulumi.Output<string>;
  readonly cidr: string;
  readonly publicSubnetIds: SubnetIds;
  readonly privateSubnetIds: SubnetIds;
  readonly isolatedSubnetIds: SubnetIds;
  readonly natGatewayIds: pulumi.Output<string>[];
  readonly flowLogGroup: aws.cloudwatch.LogGroup;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("opsbook:network:Network", name, {}, opts);
    const zones = args.availabilityZones;
    const plan = planSubnets(args.cidr, zones.length);
    this.cidr = args.cidr;

    this.vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      { cidrBlock: args.cidr, enableDnsHostnames: true, enableDnsSupport: true, tags: { Name: `${name}-vpc` } },
      { parent: this },
    );
    this.vpcId = this.vpc.id;

    // With no rules the default security group denies everything; resources must use their own.
    new aws.ec2.DefaultSecurityGroup(
      `${name}-default-sg`,
      { vpcId: this.vpc.id, tags: { Name: `${name}-default-locked` } },
      { parent: this },
    );

    const igw = new aws.ec2.InternetGateway(
      `${name}-igw`,
      { vpcId: this.vpc.id, tags: { Name: `${name}-igw` } },
      { parent: this },
    );
    const publicRoutes = new aws.ec2.RouteTable(
      `${name}-public`,
      { vpcId: this.vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }], tags: { Name: `${name}-public` } },
      { parent: this },
    );

    const subnet = (tier: "public" | "private" | "isolated", zone: string, i: number) =>
      new aws.ec2.Subnet(
        `${name}-${tier}-${zone}`,
        {
          vpcId: this.vpc.id,
          availabilityZone: zone,
          cidrBlock: plan[i]![tier],
          // Nothing launched in any subnet gets a public address; the load balancer has its own.
          mapPublicIpOnLaunch: false,
          tags: { Name: `${name}-${tier}-${zone}`, tier },
        },
        { parent: this },
      );

    const publicSubnets = zones.map((zone, i) => subnet("public", zone, i));
    publicSubnets.forEach(
      (s, i) =>
        new aws.ec2.RouteTableAssociation(
          `${name}-public-${zones[i]}`,
          { subnetId: s.id, routeTableId: publicRoutes.id },
          { parent: this },
        ),
    );

    const natZones = args.natGateways === "perAz" ? zones : zones.slice(0, 1);
    const nats = natZones.map((zone, i) => {
      const eip = new aws.ec2.Eip(
        `${name}-nat-${zone}`,
        { domain: "vpc", tags: { Name: `${name}-nat-${zone}` } },
        { parent: this },
      );
      return new aws.ec2.NatGateway(
        `${name}-nat-${zone}`,
        { allocationId: eip.id, subnetId: publicSubnets[i]!.id, tags: { Name: `${name}-nat-${zone}` } },
        { parent: this, dependsOn: [igw] },
      );
    });
    this.natGatewayIds = nats.map((n) => n.id);

    const privateSubnets = zones.map((zone, i) => {
      const s = subnet("private", zone, i);
      // Each zone leaves through its own NAT gateway when there is one per zone.
      const nat = nats[args.natGateways === "perAz" ? i : 0]!;
      const table = new aws.ec2.RouteTable(
        `${name}-private-${zone}`,
        {
          vpcId: this.vpc.id,
          routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }],
          tags: { Name: `${name}-private-${zone}` },
        },
        { parent: this },
      );
      new aws.ec2.RouteTableAssociation(
        `${name}-private-${zone}`,
        { subnetId: s.id, routeTableId: table.id },
        { parent: this },
      );
      return s;
    });

    // The isolated tier's table has only the VPC's local route: data stores cannot reach out.
    const isolatedRoutes = new aws.ec2.RouteTable(
      `${name}-isolated`,
      { vpcId: this.vpc.id, tags: { Name: `${name}-isolated` } },
      { parent: this },
    );
    const isolatedSubnets = zones.map((zone, i) => {
      const s = subnet("isolated", zone, i);
      new aws.ec2.RouteTableAssociation(
        `${name}-isolated-${zone}`,
        { subnetId: s.id, routeTableId: isolatedRoutes.id },
        { parent: this },
      );
      return s;
    });

    this.publicSubnetIds = publicSubnets.map((s) => s.id);
    this.privateSubnetIds = privateSubnets.map((s) => s.id);
    this.isolatedSubnetIds = isolatedSubnets.map((s) => s.id);

    this.flowLogGroup = new aws.cloudwatch.LogGroup(
      `${name}-flow-logs`,
      {
        namePrefix: `/opsbook/${name}/vpc-flow-logs-`,
        retentionInDays: args.flowLogRetentionDays,
        kmsKeyId: args.logKeyArn,
      },
      { parent: this },
    );
    const flowLogRole = new aws.iam.Role(
      `${name}-flow-logs`,
      {
        description: "Lets VPC Flow Logs write to its log group",
        assumeRolePolicy: serviceTrustPolicy(
          "vpc-flow-logs.amazonaws.com",
          args.accountId,
          pulumi.interpolate`arn:${args.partition}:ec2:${args.region}:${args.accountId}:vpc-flow-log/*`,
        ),
      },
      { parent: this },
    );
    new aws.iam.RolePolicy(
      `${name}-flow-logs`,
      {
        role: flowLogRole.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
              Resource: [this.flowLogGroup.arn, pulumi.interpolate`${this.flowLogGroup.arn}:*`],
            },
          ],
        }),
      },
      { parent: this },
    );
    new aws.ec2.FlowLog(
      `${name}-flow-log`,
      {
        vpcId: this.vpc.id,
        trafficType: "ALL",
        logDestinationType: "cloud-watch-logs",
        logDestination: this.flowLogGroup.arn,
        iamRoleArn: flowLogRole.arn,
        maxAggregationInterval: 60,
        tags: { Name: `${name}-flow-log` },
      },
      { parent: this },
    );

    this.registerOutputs({
      vpcId: this.vpcId,
      publicSubnetIds: this.publicSubnetIds,
      privateSubnetIds: this.privateSubnetIds,
      isolatedSubnetIds: this.isolatedSubnetIds,
    });
  }
}
