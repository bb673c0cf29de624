import * as net from "../../rules/network";
import { idOf, resource, stackViolations, violations } from "../helpers";

const appToDb = {
  securityGroupId: "sg-db",
  ipProtocol: "tcp",
  fromPort: 5432,
  toPort: 5432,
  referencedSecurityGroupId: "sg-app",
  description: "PostgreSQL from the api service",
};
const albGroup = {
  name: "prod-alb",
  description: "Load balancer: HTTPS and HTTP from the internet",
  vpcId: "vpc-1",
  ingress: [
    {
      protocol: "tcp",
      fromPort: 443,
      toPort: 443,
      cidrBlocks: ["0.0.0.0/0"],
      ipv6CidrBlocks: ["::/0"],
      description: "HTTPS",
    },
    { protocol: "tcp", fromPort: 80, toPort: 80, cidrBlocks: ["0.0.0.0/0"], description: "HTTP, redirected to HTTPS" },
  ],
  egress: [
    { protocol: "tcp", fromPort: 8080, toPort: 8080, securityGroups: ["sg-app"], description: "To the api tasks" },
  ],
};
const legacyRule = {
  type: "ingress",
  securityGroupId: "sg-cache",
  protocol: "tcp",
  fromPort: 6379,
  toPort: 6379,
  sourceSecurityGroupId: "sg-app",
  description: "Redis from the api service",
};

describe("the compliant shapes", () => {
  test.each(
    [net.securityGroupNoWorldIngress, net.securityGroupDataPortSources, net.securityGroupDescriptions].map(
      (p) => [p.name, p] as const,
    ),
  )("%s passes each of the three ingress shapes", async (_name, policy) => {
    expect(await violations(policy, net.INGRESS_RULE, appToDb)).toEqual([]);
    expect(await violations(policy, net.SECURITY_GROUP, albGroup)).toEqual([]);
    expect(await violations(policy, net.SECURITY_GROUP_RULE, legacyRule)).toEqual([]);
  });
});

describe("ingressOf", () => {
  test("reads all three shapes, with -1 as every port", () => {
    expect(
      net.ingressOf(net.SECURITY_GROUP_RULE, {
        type: "ingress",
        protocol: "-1",
        fromPort: 0,
        toPort: 0,
        cidrBlocks: ["10.0.0.0/8"],
      }),
    ).toEqual([{ where: "ingress", protocol: "all", from: 0, to: 65535, cidrs: ["10.0.0.0/8"], prefixLists: [] }]);
    expect(
      net.ingressOf(net.SECURITY_GROUP_RULE, {
        type: "egress",
        protocol: "-1",
        fromPort: 0,
        toPort: 0,
        cidrBlocks: ["0.0.0.0/0"],
      }),
    ).toEqual([]);
    expect(
      net.ingressOf(net.INGRESS_RULE, { ipProtocol: "6", fromPort: 5432, toPort: 5433, prefixListId: "pl-1" }),
    ).toEqual([{ where: "ingress", protocol: "tcp", from: 5432, to: 5433, cidrs: [], prefixLists: ["pl-1"] }]);
  });
});

describe("security-group-no-world-ingress", () => {
  test("reports the world on a data port", async () => {
    expect(
      await violations(
        net.securityGroupNoWorldIngress,
        net.INGRESS_RULE,
        { ...appToDb, referencedSecurityGroupId: undefined, cidrIpv4: "0.0.0.0/0" },
        { name: "db-open" },
      ),
    ).toEqual([
      'Security group ingress rule "db-open": ingress (port 5432) is open to 0.0.0.0/0, including data port 5432; required: no world source except on ports 80, 443. Fix: replace the CIDR with referencedSecurityGroupId (sourceSecurityGroupId on aws.ec2.SecurityGroupRule) of the security group that needs access.',
    ]);
  });

  test("reports every port open to the world through inline ingress, naming the data ports", async () => {
    const open = {
      ...albGroup,
      ingress: [{ protocol: "-1", fromPort: 0, toPort: 0, ipv6CidrBlocks: ["::/0"], description: "everything" }],
    };
    expect(await violations(net.securityGroupNoWorldIngress, net.SECURITY_GROUP, open, { name: "alb" })).toEqual([
      expect.stringContaining(
        'Security group "alb": ingress[0] (all traffic) is open to ::/0, including data ports 5432, 6379',
      ),
    ]);
  });

  test("reports a range wider than the load balancer's ports and a legacy rule", async () => {
    expect(
      await violations(
        net.securityGroupNoWorldIngress,
        net.SECURITY_GROUP_RULE,
        { ...legacyRule, sourceSecurityGroupId: undefined, fromPort: 80, toPort: 443, cidrBlocks: ["0.0.0.0/0"] },
        { name: "wide" },
      ),
    ).toEqual([
      expect.stringContaining('Security group rule "wide": ingress (ports 80-443) is open to 0.0.0.0/0; required'),
    ]);
  });

  test("names UDP ports and protocols without ports", async () => {
    const world = { ...appToDb, referencedSecurityGroupId: undefined, cidrIpv4: "0.0.0.0/0" };
    expect(
      await violations(net.securityGroupNoWorldIngress, net.INGRESS_RULE, {
        ...world,
        ipProtocol: "udp",
        fromPort: 443,
        toPort: 443,
      }),
    ).toEqual([expect.stringContaining("ingress (udp port 443) is open to 0.0.0.0/0; required")]);
    expect(
      await violations(net.securityGroupNoWorldIngress, net.INGRESS_RULE, {
        ...world,
        ipProtocol: "icmp",
        fromPort: -1,
        toPort: -1,
      }),
    ).toEqual([expect.stringContaining("ingress (protocol icmp) is open to 0.0.0.0/0; required")]);
  });

  test("reads the world-reachable and data ports from config", async () => {
    const ssh = { ...appToDb, fromPort: 22, toPort: 22, referencedSecurityGroupId: undefined, cidrIpv4: "0.0.0.0/0" };
    expect(await violations(net.securityGroupNoWorldIngress, net.INGRESS_RULE, ssh)).toEqual([
      expect.stringContaining(
        "ingress (port 22) is open to 0.0.0.0/0; required: no world source except on ports 80, 443",
      ),
    ]);
    expect(
      await violations(net.securityGroupNoWorldIngress, net.INGRESS_RULE, ssh, {
        config: { worldPorts: [22, 80, 443] },
      }),
    ).toEqual([]);
  });
});

describe("security-group-data-port-sources", () => {
  test("reports an address range on a data port", async () => {
    expect(
      await violations(
        net.securityGroupDataPortSources,
        net.INGRESS_RULE,
        { ...appToDb, referencedSecurityGroupId: undefined, cidrIpv4: "10.0.0.0/16" },
        { name: "db-from-vpc" },
      ),
    ).toEqual([
      'Security group ingress rule "db-from-vpc": ingress (port 5432) is open to 10.0.0.0/16 on data port 5432; required: only security groups as sources. Fix: replace the range with referencedSecurityGroupId of the application\'s security group.',
    ]);
  });

  test("reports prefix lists, leaves world ranges to security-group-no-world-ingress and ignores other ports", async () => {
    expect(
      await violations(net.securityGroupDataPortSources, net.SECURITY_GROUP_RULE, {
        ...legacyRule,
        sourceSecurityGroupId: undefined,
        prefixListIds: ["pl-corp"],
      }),
    ).toEqual([expect.stringContaining("ingress (port 6379) is open to pl-corp on data port 6379")]);
    expect(
      await violations(net.securityGroupDataPortSources, net.INGRESS_RULE, {
        ...appToDb,
        referencedSecurityGroupId: undefined,
        cidrIpv4: "0.0.0.0/0",
      }),
    ).toEqual([]);
    expect(
      await violations(net.securityGroupDataPortSources, net.INGRESS_RULE, {
        ...appToDb,
        fromPort: 8080,
        toPort: 8080,
        cidrIpv4: "10.0.0.0/16",
      }),
    ).toEqual([]);
  });
});

describe("security-group-descriptions", () => {
  test("reports the provider's default description and an undescribed inline rule", async () => {
    const vague = {
      ...albGroup,
      description: "Managed by Pulumi",
      egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }],
    };
    expect(await violations(net.securityGroupDescriptions, net.SECURITY_GROUP, vague, { name: "alb" })).toEqual([
      'Security group "alb": description is "Managed by Pulumi" (the provider default); required: a description of what the traffic is for. Fix: set description to a sentence naming the traffic (e.g. "PostgreSQL from the api service").',
      'Security group "alb": egress[0].description is not set; required: a description of what the traffic is for. Fix: set egress[0].description to a sentence naming the traffic (e.g. "PostgreSQL from the api service").',
    ]);
  });

  test("reports an undescribed rule resource", async () => {
    expect(
      await violations(
        net.securityGroupDescriptions,
        net.EGRESS_RULE,
        { securityGroupId: "sg-app", ipProtocol: "-1", cidrIpv4: "0.0.0.0/0" },
        { name: "app-out" },
      ),
    ).toEqual([expect.stringContaining('Security group egress rule "app-out": description is not set')]);
  });
});

describe("network stack rules", () => {
  const vpc = resource(net.VPC, "prod-vpc", { cidrBlock: "10.10.0.0/16" });
  // The offline plan's placeholder id for the VPC above.
  const vpcId = idOf(vpc);
  const flowLog = (inputs: Record<string, unknown>) =>
    resource(net.FLOW_LOG, "prod-flow-log", {
      vpcId,
      trafficType: "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: "arn:aws:logs:eu-west-1:123456789012:log-group:flow",
      ...inputs,
    });
  const lockedDefault = resource(net.DEFAULT_SECURITY_GROUP, "prod-default-sg", { vpcId });

  test("pass a VPC with a flow log of all traffic and an empty default group", async () => {
    expect(await stackViolations(net.vpcFlowLogs, [vpc, flowLog({}), lockedDefault])).toEqual([]);
    expect(await stackViolations(net.vpcDefaultSecurityGroupLocked, [vpc, flowLog({}), lockedDefault])).toEqual([]);
  });

  test("vpc-flow-logs reports a VPC without a flow log", async () => {
    expect(await stackViolations(net.vpcFlowLogs, [vpc, lockedDefault])).toEqual([
      'prod-vpc: VPC "prod-vpc": flow log is missing (no aws:ec2/flowLog:FlowLog has this vpcId); required: a flow log with trafficType "ALL" and a logDestination. Fix: declare aws.ec2.FlowLog { vpcId: <vpc>.id, trafficType: "ALL", logDestinationType: "cloud-watch-logs", logDestination: <log group ARN>, iamRoleArn }.',
    ]);
  });

  test("vpc-flow-logs reports a flow log of rejected traffic only, unless config asks for that", async () => {
    expect(await stackViolations(net.vpcFlowLogs, [vpc, flowLog({ trafficType: "REJECT" })])).toEqual([
      expect.stringContaining(
        'flow log is present with trafficType "REJECT", logDestination "arn:aws:logs:eu-west-1:123456789012:log-group:flow"; required: a flow log with trafficType "ALL"',
      ),
    ]);
    expect(
      await stackViolations(net.vpcFlowLogs, [vpc, flowLog({ trafficType: "REJECT" })], { trafficType: "REJECT" }),
    ).toEqual([]);
  });

  test("vpc-default-security-group-locked reports rules on the default group and a VPC that never adopted it", async () => {
    const open = resource(net.DEFAULT_SECURITY_GROUP, "prod-default-sg", {
      vpcId,
      egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }],
    });
    expect(await stackViolations(net.vpcDefaultSecurityGroupLocked, [vpc, open])).toEqual([
      'prod-default-sg: Default security group "prod-default-sg": egress is 1 rule; required: no rules. Fix: remove egress from the DefaultSecurityGroup; give each workload a security group of its own.',
    ]);
    expect(await stackViolations(net.vpcDefaultSecurityGroupLocked, [vpc])).toEqual([
      'prod-vpc: VPC "prod-vpc": default security group is not adopted (no aws:ec2/defaultSecurityGroup:DefaultSecurityGroup has this vpcId), so it keeps AWS\'s allow-within-group rules; required: an adopted default security group with no rules. Fix: declare aws.ec2.DefaultSecurityGroup { vpcId: <vpc>.id } with no ingress and no egress.',
    ]);
  });
});
