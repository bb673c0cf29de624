import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface TierSecurityGroupsArgs {
  vpcId: pulumi.Input<string>;
}

/**
 * The security groups of the two tiers that talk to each other: the public load balancer and the
 * app tasks. Only the load balancer admits the world, and only on 80 (redirected) and 443. Rules
 * between tiers are added by the components that know the ports: the service component lets the
 * load balancer reach each container port; the data components let the app tier reach 5432/6379.
 */
export class TierSecurityGroups extends pulumi.ComponentResource {
  readonly loadBalancer: aws.ec2.SecurityGroup;
  readonly app: aws.ec2.SecurityGroup;

  constructor(name: string, args: TierSecurityGroupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("opsbook:network:TierSecurityGroups", name, {}, opts);

    this.loadBalancer = new aws.ec2.SecurityGroup(
      `${name}-alb`,
      {
        vpcId: args.vpcId,
        description: "Public load balancer: HTTPS, and HTTP that redirects to HTTPS",
        tags: { Name: `${name}-alb` },
      },
      { parent: this },
    );
    for (const [port, family, cidr] of [
      [443, "ipv4", "0.0.0.0/0"],
      [80, "ipv4", "0.0.0.0/0"],
    ] as const) {
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-alb-${port}-${family}`,
        {
          securityGroupId: this.loadBalancer.id,
          description: port === 443 ? "HTTPS from the internet" : "HTTP from the internet, redirected to HTTPS",
          ipProtocol: "tcp",
          fromPort: port,
          toPort: port,
          cidrIpv4: cidr,
        },
        { parent: this },
      );
    }

    this.app = new aws.ec2.SecurityGroup(
      `${name}-app`,
      {
        vpcId: args.vpcId,
        description: "App tasks: traffic from the load balancer only",
        tags: { Name: `${name}-app` },
      },
      { parent: this },
    );
    // Tasks call AWS APIs (ECR, Secrets Manager, CloudWatch) and external HTTPS services through NAT.
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-app-https-out`,
      {
        securityGroupId: this.app.id,
        description: "HTTPS to AWS APIs and the internet, through NAT",
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrIpv4: "0.0.0.0/0",
      },
      { parent: this },
    );

    this.registerOutputs({ loadBalancerSecurityGroupId: this.loadBalancer.id, appSecurityGroupId: this.app.id });
  }
}

/** A store's security group that admits one client group on one port, and the client's matching egress. */
export interface ClientOnlyGroupArgs {
  vpcId: pulumi.Input<string>;
  /** The client tier's security group (the app tasks). */
  clientSecurityGroupId: pulumi.Input<string>;
  port: number;
  /** The store's kind, e.g. "PostgreSQL"; and what the client reaches, e.g. "the database". */
  engine: string;
  target: string;
  /** Logical names: the group, its ingress rule and the client's egress rule. */
  names: { group: string; ingress: string; egress: string };
}

/**
 * Declares the group of a data store: ingress only from the client group on `port`, and the client
 * group's egress to it on the same port (the app tier has no other egress to the data tier).
 */
export function clientOnlySecurityGroup(args: ClientOnlyGroupArgs, parent: pulumi.Resource): aws.ec2.SecurityGroup {
  const group = new aws.ec2.SecurityGroup(
    args.names.group,
    {
      vpcId: args.vpcId,
      description: `${args.engine}: ${args.port} from the app tier only`,
      tags: { Name: args.names.group },
    },
    { parent },
  );
  const rule = { ipProtocol: "tcp", fromPort: args.port, toPort: args.port };
  new aws.vpc.SecurityGroupIngressRule(
    args.names.ingress,
    {
      securityGroupId: group.id,
      description: `${args.engine} from the app tasks`,
      ...rule,
      referencedSecurityGroupId: args.clientSecurityGroupId,
    },
    { parent },
  );
  new aws.vpc.SecurityGroupEgressRule(
    args.names.egress,
    {
      securityGroupId: args.clientSecurityGroupId,
      description: `${args.engine} to ${args.target}`,
      ...rule,
      referencedSecurityGroupId: group.id,
    },
    { parent },
  );
  return group;
}
