/**
 * Rules about reaching things from the internet: an ingress open to the world, a database made
 * publicly accessible, a bucket's public access block relaxed, public IPs handed out, a load
 * balancer turned internet-facing.
 */
import { asText, at, isUnknown, list, show } from "../values";
import { isModified, type Rule, sides, turnedOff, turnedOn } from "./rule";

const WORLD = new Set(["0.0.0.0/0", "::/0"]);

function ports(rule: Record<string, unknown>, protocolKey: string): string {
  const protocol = asText(rule[protocolKey], "?");
  if (protocol === "-1" || protocol === "all") return "all traffic";
  const from = rule.fromPort;
  const to = rule.toPort;
  return `${protocol} ${from === to ? String(from) : `${String(from)}-${String(to)}`}`;
}

/** "tcp 5432 from 0.0.0.0/0" for every world-open CIDR of one ingress rule. */
function worldOpenings(rule: Record<string, unknown>, cidrKeys: string[], protocolKey: string): string[] {
  return cidrKeys.flatMap((key) => {
    const value = rule[key];
    const cidrs = Array.isArray(value) ? value : [value];
    return cidrs
      .filter((c): c is string => typeof c === "string" && WORLD.has(c))
      .map((cidr) => `${ports(rule, protocolKey)} from ${cidr}`);
  });
}

/** The world-open ingress of a resource's inputs, for the security group types that carry one. */
function openings(type: string, inputs: Record<string, unknown>): string[] {
  switch (type) {
    case "aws:ec2/securityGroup:SecurityGroup":
      return list(inputs.ingress).flatMap((r) =>
        worldOpenings(r as Record<string, unknown>, ["cidrBlocks", "ipv6CidrBlocks"], "protocol"),
      );
    case "aws:ec2/securityGroupRule:SecurityGroupRule":
      return inputs.type === "ingress" ? worldOpenings(inputs, ["cidrBlocks", "ipv6CidrBlocks"], "protocol") : [];
    case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
      return worldOpenings(inputs, ["cidrIpv4", "cidrIpv6"], "ipProtocol");
    default:
      return [];
  }
}

const worldIngress: Rule = (change) => {
  if (change.op === "delete") return [];
  const { b, a } = sides(change);
  const before = new Set(openings(change.type, b));
  return openings(change.type, a)
    .filter((opening) => !before.has(opening))
    .map((opening) => ({ kind: "public-access", detail: `ingress ${opening} added` }));
};

/** Flags that expose something when they turn on, by input path. */
const EXPOSING_FLAGS = [
  "publiclyAccessible",
  "mapPublicIpOnLaunch",
  "networkConfiguration.assignPublicIp",
  "mapCustomerOwnedIpOnLaunch",
];

const exposingFlags: Rule = (change) => {
  if (change.op === "delete") return [];
  const { b, a } = sides(change);
  return EXPOSING_FLAGS.filter((path) => turnedOn(at(b, path), at(a, path))).map((path) => ({
    kind: "public-access",
    detail: `${path} ${show(at(b, path))} → true`,
  }));
};

const PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";
const BLOCK_FLAGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"];

const publicAccessBlock: Rule = (change) => {
  if (change.type !== PUBLIC_ACCESS_BLOCK) return [];
  if (change.op === "delete") return [{ kind: "public-access", detail: "bucket public access block deleted" }];
  if (!isModified(change)) return [];
  const { b, a } = sides(change);
  return BLOCK_FLAGS.filter((key) => turnedOff(b[key], a[key], true)).map((key) => ({
    kind: "public-access",
    detail: `${key} ${show(b[key])} → ${show(a[key])}`,
  }));
};

const internetFacing: Rule = (change) => {
  if (!isModified(change) || !change.type.endsWith("/loadBalancer:LoadBalancer")) return [];
  const { b, a } = sides(change);
  if (b.internal !== true || a.internal === true || isUnknown(a.internal)) return [];
  return [
    { kind: "public-access", detail: `internal true → ${show(a.internal)}: the load balancer becomes internet-facing` },
  ];
};

export const EXPOSURE_RULES: readonly Rule[] = [worldIngress, exposingFlags, publicAccessBlock, internetFacing];
