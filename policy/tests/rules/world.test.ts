import * as net from "../../rules/network";
import * as world from "../../rules/world";
import { RDS_INSTANCE } from "../../rules/rds";
import { REPLICATION_GROUP } from "../../rules/elasticache";
import { idOf, resource, stackViolations, violations } from "../helpers";

const ingress = (name: string, inputs: Record<string, unknown>) =>
  resource(net.INGRESS_RULE, name, { ipProtocol: "tcp", description: name, ...inputs });

describe("security-group-no-world-ingress, in any spelling", () => {
  test.each([["0:0:0:0:0:0:0:0/0"], ["::0/0"], ["10.0.0.0/0"]])("reports %s on SSH", async (cidr) => {
    expect(
      await violations(
        net.securityGroupNoWorldIngress,
        net.SECURITY_GROUP_RULE,
        { type: "ingress", securityGroupId: "sg-app", protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: [cidr] },
        { name: "ssh" },
      ),
    ).toEqual([expect.stringContaining(`Security group rule "ssh": ingress (port 22) is open to ${cidr}`)]);
  });

  test("reports two halves of the internet in one rule, and passes one half", async () => {
    const rule = (cidrBlocks: string[]) => ({
      type: "ingress",
      securityGroupId: "sg-app",
      protocol: "tcp",
      fromPort: 5432,
      toPort: 5432,
      cidrBlocks,
    });
    expect(
      await violations(net.securityGroupNoWorldIngress, net.SECURITY_GROUP_RULE, rule(["0.0.0.0/1", "128.0.0.0/1"]), {
        name: "halves",
      }),
    ).toEqual([
      'Security group rule "halves": ingress (port 5432) is open to 0.0.0.0/1, 128.0.0.0/1, including data port 5432; required: no world source except on ports 80, 443. Fix: replace the CIDR with referencedSecurityGroupId (sourceSecurityGroupId on aws.ec2.SecurityGroupRule) of the security group that needs access.',
    ]);
    expect(await violations(net.securityGroupNoWorldIngress, net.SECURITY_GROUP_RULE, rule(["0.0.0.0/1"]))).toEqual([]);
  });
});

describe("security-group-world-ingress-combined", () => {
  const group = resource(net.SECURITY_GROUP, "prod-app", { description: "app", vpcId: "vpc-1" });
  const groupId = idOf(group);

  test("passes the load balancer's 80 and 443 from the world, and ranges that leave part of the internet out", async () => {
    expect(
      await stackViolations(world.securityGroupWorldIngressCombined, [
        group,
        ingress("https", { securityGroupId: groupId, fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" }),
        ingress("http", { securityGroupId: groupId, fromPort: 80, toPort: 80, cidrIpv6: "::/0" }),
        ingress("a", { securityGroupId: groupId, fromPort: 8080, toPort: 8080, cidrIpv4: "0.0.0.0/1" }),
        ingress("b", { securityGroupId: groupId, fromPort: 8080, toPort: 8080, cidrIpv4: "128.0.0.0/2" }),
      ]),
    ).toEqual([]);
  });

  test("reports rules on one group whose ranges add up to the internet, naming each", async () => {
    expect(
      await stackViolations(world.securityGroupWorldIngressCombined, [
        group,
        ingress("low-half", { securityGroupId: groupId, fromPort: 8080, toPort: 8080, cidrIpv4: "0.0.0.0/1" }),
        ingress("high-half", { securityGroupId: groupId, ipProtocol: "-1", cidrIpv4: "128.0.0.0/1" }),
      ]),
    ).toEqual([
      'prod-app: Security group "prod-app": ingress (port 8080) is open to the internet through ["0.0.0.0/1","128.0.0.0/1"] (declared by "low-half" ingress, "high-half" ingress); required: internet sources only on ports 80, 443. Fix: replace the ranges with referencedSecurityGroupId of the group that needs access.',
    ]);
  });
});

describe("data-tier-no-world-egress", () => {
  const dbGroup = resource(net.SECURITY_GROUP, "prod-db", { description: "PostgreSQL", vpcId: "vpc-1" });
  const cacheGroup = resource(net.SECURITY_GROUP, "prod-redis", {
    description: "Redis",
    vpcId: "vpc-1",
    egress: [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] }],
  });
  const appGroup = resource(net.SECURITY_GROUP, "prod-app", {
    description: "app",
    vpcId: "vpc-1",
    egress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] }],
  });
  const db = resource(RDS_INSTANCE, "prod-db", { vpcSecurityGroupIds: [idOf(dbGroup)] });
  const cache = resource(REPLICATION_GROUP, "prod-redis", { securityGroupIds: [idOf(cacheGroup)] });

  test("passes data groups without egress, and world egress from the app tier", async () => {
    expect(
      await stackViolations(world.dataTierNoWorldEgress, [
        dbGroup,
        appGroup,
        db,
        resource(net.EGRESS_RULE, "db-to-vpc", {
          securityGroupId: idOf(dbGroup),
          ipProtocol: "tcp",
          fromPort: 443,
          toPort: 443,
          cidrIpv4: "10.0.0.0/16",
        }),
      ]),
    ).toEqual([]);
  });

  test("reports world egress from a cache's inline rules and a database's rule resources", async () => {
    expect(
      await stackViolations(world.dataTierNoWorldEgress, [
        dbGroup,
        cacheGroup,
        db,
        cache,
        resource(net.EGRESS_RULE, "db-out", {
          securityGroupId: idOf(dbGroup),
          ipProtocol: "-1",
          cidrIpv6: "::/0",
        }),
      ]),
    ).toEqual([
      'prod-redis: Security group "prod-redis": egress (all traffic) of the data store "prod-redis" is open to the internet through ["0.0.0.0/0"] (declared by "prod-redis" egress[0]); required: no egress to the internet from the data tier. Fix: remove the egress rule (or narrow it to the VPC\'s own CIDR).',
      'prod-db: Security group "prod-db": egress (all traffic) of the data store "prod-db" is open to the internet through ["::/0"] (declared by "db-out" egress); required: no egress to the internet from the data tier. Fix: remove the egress rule (or narrow it to the VPC\'s own CIDR).',
    ]);
  });
});
