/**
 * The network: nothing open to the world but the load balancer's 80/443, data stores reachable only
 * from security groups, every rule described, every VPC's traffic in flow logs and its default
 * security group emptied.
 */
import type * as aws from "@pulumi/aws";
import type { Unwrap } from "@pulumi/pulumi";
import { addressRange, worldFamilies } from "../../lib/cidr";
import { type OpsbookPolicy, type Subject, idSet, message, ofTypes, resourceRule, show, stackRule } from "./common";

export const SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup";
export const INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
export const EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";
export const SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule";
export const DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup";
export const VPC = "aws:ec2/vpc:Vpc";
export const FLOW_LOG = "aws:ec2/flowLog:FlowLog";

const INGRESS_TYPES = [SECURITY_GROUP, INGRESS_RULE, SECURITY_GROUP_RULE] as const;
const MAX_PORT = 65535;

/**
 * The CIDRs that, alone or together, open a permission to the internet, in any spelling:
 * "0.0.0.0/0", "::0/0", or "0.0.0.0/1" with "128.0.0.0/1" (lib/cidr.ts `worldFamilies`).
 */
export function worldCidrs(cidrs: readonly string[]): string[] {
  const families = worldFamilies(cidrs);
  return cidrs.filter((c) => {
    const family = addressRange(c)?.family;
    return family !== undefined && families.includes(family);
  });
}

type SecurityGroup = Unwrap<aws.ec2.SecurityGroupArgs>;
type IngressRule = Unwrap<aws.vpc.SecurityGroupIngressRuleArgs>;
type SecurityGroupRule = Unwrap<aws.ec2.SecurityGroupRuleArgs>;

/** One ingress permission, whichever of the three resource shapes declared it. */
export interface Ingress {
  /** Where it was declared, for messages: "ingress[0]" or "ingress". */
  where: string;
  /** "all", "tcp", "udp", or the protocol as given (icmp, a number). */
  protocol: string;
  /** Ports it opens, inclusive. */
  from: number;
  to: number;
  cidrs: string[];
  prefixLists: string[];
}

export function portRange(
  protocol: string | undefined,
  from: unknown,
  to: unknown,
): { protocol: string; from: number; to: number } {
  const p = String(protocol ?? "").toLowerCase();
  if (p === "-1" || p === "all") return { protocol: "all", from: 0, to: MAX_PORT };
  return {
    protocol: p === "6" ? "tcp" : p === "17" ? "udp" : p,
    from: typeof from === "number" ? from : 0,
    to: typeof to === "number" ? to : MAX_PORT,
  };
}

/** The ingress permissions a resource of one of the three shapes declares. */
export function ingressOf(type: string, props: Record<string, unknown>): Ingress[] {
  if (type === SECURITY_GROUP) {
    return ((props as SecurityGroup).ingress ?? []).map((rule, i) => ({
      where: `ingress[${i}]`,
      ...portRange(rule.protocol, rule.fromPort, rule.toPort),
      cidrs: [...(rule.cidrBlocks ?? []), ...(rule.ipv6CidrBlocks ?? [])],
      prefixLists: rule.prefixListIds ?? [],
    }));
  }
  if (type === INGRESS_RULE) {
    const rule = props as IngressRule;
    return [
      {
        where: "ingress",
        ...portRange(rule.ipProtocol, rule.fromPort, rule.toPort),
        cidrs: [rule.cidrIpv4, rule.cidrIpv6].filter((c): c is string => !!c),
        prefixLists: rule.prefixListId ? [rule.prefixListId] : [],
      },
    ];
  }
  if (type === SECURITY_GROUP_RULE && (props as SecurityGroupRule).type === "ingress") {
    const rule = props as SecurityGroupRule;
    return [
      {
        where: "ingress",
        ...portRange(rule.protocol, rule.fromPort, rule.toPort),
        cidrs: [...(rule.cidrBlocks ?? []), ...(rule.ipv6CidrBlocks ?? [])],
        prefixLists: rule.prefixListIds ?? [],
      },
    ];
  }
  return [];
}

export function portText(i: Ingress): string {
  if (i.protocol === "all") return "all traffic";
  // ICMP and other protocols have no ports (their fromPort / toPort are ICMP types and codes).
  if (i.protocol !== "tcp" && i.protocol !== "udp") return `protocol ${i.protocol}`;
  const ports =
    i.from === 0 && i.to === MAX_PORT ? "all ports" : i.from === i.to ? `port ${i.from}` : `ports ${i.from}-${i.to}`;
  return i.protocol === "tcp" ? ports : `udp ${ports}`;
}

/** Which of `ports` (TCP) the permission opens. */
function coveredPorts(i: Ingress, ports: number[]): number[] {
  return i.protocol === "all" || i.protocol === "tcp" ? ports.filter((p) => p >= i.from && p <= i.to) : [];
}

const KINDS: Record<string, string> = {
  [SECURITY_GROUP]: "Security group",
  [INGRESS_RULE]: "Security group ingress rule",
  [SECURITY_GROUP_RULE]: "Security group rule",
  [EGRESS_RULE]: "Security group egress rule",
};

const kindOf = (type: string): string => KINDS[type] ?? "Security group";

function ingressRule<C>(
  meta: Omit<Parameters<typeof resourceRule<Record<string, unknown>, C>>[0], "types" | "kind" | "check"> & {
    check: (subject: Subject<Record<string, unknown>>, ingress: Ingress, config: C) => void;
  },
): OpsbookPolicy {
  const { check, ...rest } = meta;
  return resourceRule<Record<string, unknown>, C>({
    ...rest,
    types: INGRESS_TYPES,
    kind: kindOf,
    check: (subject, config) => {
      for (const ingress of ingressOf(subject.type, subject.props)) check(subject, ingress, config);
    },
  });
}

const PORTS_CONFIG = {
  dataPorts: {
    type: "array" as const,
    items: { type: "integer" as const },
    default: [5432, 6379],
    description: "Ports of the data stores (PostgreSQL, Redis).",
  },
};

export const securityGroupNoWorldIngress = ingressRule<{ worldPorts: number[]; dataPorts: number[] }>({
  name: "security-group-no-world-ingress",
  description:
    "No security group admits 0.0.0.0/0 or ::/0 (in any spelling, or as ranges that add up to it) except on the load balancer's ports (80, 443); never on a data port.",
  enforcementLevel: "mandatory",
  severity: "critical",
  sources: ["CKV_AWS_24", "CKV_AWS_25", "CKV_AWS_260", "EC2.18", "EC2.19"],
  remediationSteps:
    "Replace the world CIDR with the security group that needs access (referencedSecurityGroupId / sourceSecurityGroupId).",
  config: {
    worldPorts: {
      type: "array",
      items: { type: "integer" },
      default: [80, 443],
      description: "The only ports the world may reach (the load balancer's listeners).",
    },
    ...PORTS_CONFIG,
  },
  check: ({ report }, ingress, config) => {
    const world = worldCidrs(ingress.cidrs);
    if (world.length === 0) return;
    const onlyWorldPorts =
      ingress.protocol === "tcp" &&
      ingress.to - ingress.from < config.worldPorts.length &&
      Array.from({ length: ingress.to - ingress.from + 1 }, (_, k) => ingress.from + k).every((p) =>
        config.worldPorts.includes(p),
      );
    if (onlyWorldPorts) return;
    const data = coveredPorts(ingress, config.dataPorts);
    report(
      `${ingress.where} (${portText(ingress)})`,
      `open to ${world.join(", ")}${data.length > 0 ? `, including data port${data.length > 1 ? "s" : ""} ${data.join(", ")}` : ""}`,
      `no world source except on ports ${config.worldPorts.join(", ")}`,
      "replace the CIDR with referencedSecurityGroupId (sourceSecurityGroupId on aws.ec2.SecurityGroupRule) of the security group that needs access",
    );
  },
});

export const securityGroupDataPortSources = ingressRule<{ dataPorts: number[] }>({
  name: "security-group-data-port-sources",
  description:
    "Data ports (PostgreSQL, Redis) admit only security groups, never address ranges or prefix lists (world ranges are reported by security-group-no-world-ingress).",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["CKV_AWS_260", "runbook 003"], // R-security-data-private
  remediationSteps:
    "Admit the application's security group with referencedSecurityGroupId (or sourceSecurityGroupId) instead of a CIDR or prefix list.",
  config: { ...PORTS_CONFIG },
  check: ({ report }, ingress, config) => {
    const data = coveredPorts(ingress, config.dataPorts);
    const world = worldCidrs(ingress.cidrs);
    const ranges = [...ingress.cidrs.filter((c) => !world.includes(c)), ...ingress.prefixLists];
    if (data.length === 0 || ranges.length === 0) return;
    report(
      `${ingress.where} (${portText(ingress)})`,
      `open to ${ranges.join(", ")} on data port${data.length > 1 ? "s" : ""} ${data.join(", ")}`,
      "only security groups as sources",
      "replace the range with referencedSecurityGroupId of the application's security group",
    );
  },
});

export const securityGroupDescriptions = resourceRule<Record<string, unknown>>({
  name: "security-group-descriptions",
  description: "Every security group and every rule in it says what it is for.",
  enforcementLevel: "mandatory",
  severity: "low",
  sources: ["CKV_AWS_23"],
  types: [SECURITY_GROUP, INGRESS_RULE, EGRESS_RULE, SECURITY_GROUP_RULE],
  kind: kindOf,
  remediationSteps: "Set description on the security group (changing it replaces the group) and on each rule.",
  check: ({ type, props, report }) => {
    const missing = (property: string, found: string) =>
      report(
        property,
        found,
        "a description of what the traffic is for",
        `set ${property} to a sentence naming the traffic (e.g. "PostgreSQL from the api service")`,
      );
    if (type === SECURITY_GROUP) {
      const group = props as SecurityGroup;
      if (!group.description || group.description === "Managed by Pulumi")
        missing("description", group.description ? `${show(group.description)} (the provider default)` : "not set");
      for (const key of ["ingress", "egress"] as const) {
        (group[key] ?? []).forEach((rule, i) => {
          if (!rule.description) missing(`${key}[${i}].description`, "not set");
        });
      }
    } else if (!props.description) {
      missing("description", "not set");
    }
  },
});

/** VPC ids as the stack's other resources refer to them. */
function vpcIds(vpc: { props: Record<string, unknown> }): Set<string> {
  return idSet(vpc.props.id, vpc.props.arn);
}

export const vpcFlowLogs = stackRule<{ trafficType: string }>({
  name: "vpc-flow-logs",
  description: "Every VPC records its traffic in a flow log of the configured traffic type (ALL by default).",
  enforcementLevel: "mandatory",
  severity: "medium",
  sources: ["CKV2_AWS_11", "EC2.6"],
  preview:
    "the id of a VPC created in the same update is unknown; the engine then reports this rule as advisory until the update.",
  remediationSteps: 'Declare aws.ec2.FlowLog { vpcId: <vpc>.id, trafficType: "ALL", logDestination: <log group ARN> }.',
  config: {
    trafficType: {
      type: "string",
      enum: ["ALL", "ACCEPT", "REJECT"],
      default: "ALL",
      description: "Traffic the flow log must record.",
    },
  },
  check: (resources, config, report) => {
    const flowLogs = ofTypes(resources, [FLOW_LOG]).map((f) => f.props as Unwrap<aws.ec2.FlowLogArgs>);
    for (const vpc of ofTypes(resources, [VPC])) {
      const ids = vpcIds(vpc);
      const mine = flowLogs.filter((f) => ids.has(f.vpcId ?? ""));
      if (mine.some((f) => f.trafficType === config.trafficType && !!f.logDestination)) continue;
      const found =
        mine.length === 0
          ? `missing (no ${FLOW_LOG} has this vpcId)`
          : `present with ${mine.map((f) => `trafficType ${show(f.trafficType)}, logDestination ${show(f.logDestination)}`).join("; ")}`;
      report(
        vpc,
        message(
          `VPC "${vpc.name}"`,
          "flow log",
          found,
          `a flow log with trafficType "${config.trafficType}" and a logDestination`,
          `declare aws.ec2.FlowLog { vpcId: <vpc>.id, trafficType: "${config.trafficType}", logDestinationType: "cloud-watch-logs", logDestination: <log group ARN>, iamRoleArn }`,
        ),
      );
    }
  },
});

export const vpcDefaultSecurityGroupLocked = stackRule({
  name: "vpc-default-security-group-locked",
  description:
    "Every VPC adopts its default security group as an aws.ec2.DefaultSecurityGroup with no rules, so nothing that falls back to it gets any traffic.",
  enforcementLevel: "mandatory",
  severity: "medium",
  sources: ["CKV2_AWS_12", "EC2.2"],
  preview:
    "the id of a VPC created in the same update is unknown; the engine then reports this rule as advisory until the update.",
  remediationSteps: "Declare aws.ec2.DefaultSecurityGroup { vpcId: <vpc>.id } with no ingress and no egress.",
  check: (resources, _config, report) => {
    const defaults = ofTypes(resources, [DEFAULT_SECURITY_GROUP]);
    for (const group of defaults) {
      const props = group.props as Unwrap<aws.ec2.DefaultSecurityGroupArgs>;
      for (const key of ["ingress", "egress"] as const) {
        const rules = props[key] ?? [];
        if (rules.length > 0)
          report(
            group,
            message(
              `Default security group "${group.name}"`,
              key,
              `${rules.length} rule${rules.length > 1 ? "s" : ""}`,
              "no rules",
              `remove ${key} from the DefaultSecurityGroup; give each workload a security group of its own`,
            ),
          );
      }
    }
    for (const vpc of ofTypes(resources, [VPC])) {
      const ids = vpcIds(vpc);
      if (!defaults.some((g) => ids.has((g.props as { vpcId?: string }).vpcId ?? ""))) {
        report(
          vpc,
          message(
            `VPC "${vpc.name}"`,
            "default security group",
            `not adopted (no ${DEFAULT_SECURITY_GROUP} has this vpcId), so it keeps AWS's allow-within-group rules`,
            "an adopted default security group with no rules",
            "declare aws.ec2.DefaultSecurityGroup { vpcId: <vpc>.id } with no ingress and no egress",
          ),
        );
      }
    }
  },
});

export const networkPolicies: OpsbookPolicy[] = [
  securityGroupNoWorldIngress,
  securityGroupDataPortSources,
  securityGroupDescriptions,
  vpcFlowLogs,
  vpcDefaultSecurityGroupLocked,
];
