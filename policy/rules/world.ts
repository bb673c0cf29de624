/**
 * The internet, seen across resources: a security group opened to it beyond the load balancer's
 * ports by several rules whose ranges add up to the whole space, and world egress from the data
 * tier (R-security-data-private).
 * `security-group-no-world-ingress` checks each rule on its own; these relate rules to their group.
 */
import type * as aws from "@pulumi/aws";
import type { PolicyResource } from "@pulumi/policy";
import type { Unwrap } from "@pulumi/pulumi";
import { type OpsbookPolicy, message, ofTypes, show, stackRule } from "./common";
import { RDS_INSTANCE } from "./rds";
import { REPLICATION_GROUP } from "./elasticache";
import {
  EGRESS_RULE,
  INGRESS_RULE,
  SECURITY_GROUP,
  SECURITY_GROUP_RULE,
  type Ingress,
  ingressOf,
  portRange,
  portText,
  worldCidrs,
} from "./network";

const RDS_CLUSTER = "aws:rds/cluster:Cluster";
const CACHE_CLUSTER = "aws:elasticache/cluster:Cluster";

/** One permission with the group it belongs to and the resource that declared it. */
interface Permission extends Ingress {
  groupId: string;
  declaredBy: PolicyResource;
}

/** The group id a standalone rule names, or the group's own id for inline rules. */
function groupOf(r: PolicyResource): string | undefined {
  const props = r.props as { id?: unknown; securityGroupId?: unknown };
  const id = r.type === SECURITY_GROUP ? props.id : props.securityGroupId;
  return typeof id === "string" ? id : undefined;
}

function ingressPermissions(resources: PolicyResource[]): Permission[] {
  return ofTypes(resources, [SECURITY_GROUP, INGRESS_RULE, SECURITY_GROUP_RULE]).flatMap((r) => {
    const groupId = groupOf(r);
    return groupId ? ingressOf(r.type, r.props).map((i) => ({ ...i, groupId, declaredBy: r })) : [];
  });
}

/** Egress permissions, in the three shapes the provider has. */
function egressPermissions(resources: PolicyResource[]): Permission[] {
  return ofTypes(resources, [SECURITY_GROUP, EGRESS_RULE, SECURITY_GROUP_RULE]).flatMap((r): Permission[] => {
    const groupId = groupOf(r);
    if (!groupId) return [];
    if (r.type === SECURITY_GROUP)
      return ((r.props as Unwrap<aws.ec2.SecurityGroupArgs>).egress ?? []).map((e, i) => ({
        where: `egress[${i}]`,
        ...portRange(e.protocol, e.fromPort, e.toPort),
        cidrs: [...(e.cidrBlocks ?? []), ...(e.ipv6CidrBlocks ?? [])],
        prefixLists: e.prefixListIds ?? [],
        groupId,
        declaredBy: r,
      }));
    if (r.type === EGRESS_RULE) {
      const e = r.props as Unwrap<aws.vpc.SecurityGroupEgressRuleArgs>;
      return [
        {
          where: "egress",
          ...portRange(e.ipProtocol, e.fromPort, e.toPort),
          cidrs: [e.cidrIpv4, e.cidrIpv6].filter((c): c is string => !!c),
          prefixLists: e.prefixListId ? [e.prefixListId] : [],
          groupId,
          declaredBy: r,
        },
      ];
    }
    const e = r.props as Unwrap<aws.ec2.SecurityGroupRuleArgs>;
    if (e.type !== "egress") return [];
    return [
      {
        where: "egress",
        ...portRange(e.protocol, e.fromPort, e.toPort),
        cidrs: [...(e.cidrBlocks ?? []), ...(e.ipv6CidrBlocks ?? [])],
        prefixLists: e.prefixListIds ?? [],
        groupId,
        declaredBy: r,
      },
    ];
  });
}

/** Does `outer` admit every port (and the protocol) of `inner`? */
function contains(outer: Ingress, inner: Ingress): boolean {
  if (outer.protocol === "all") return true;
  return outer.protocol === inner.protocol && outer.from <= inner.from && inner.to <= outer.to;
}

/** For each distinct port range of a group, the permissions admitting it whose ranges add up to the internet. */
function worldOpenings(
  permissions: Permission[],
): Array<{ range: Permission; sources: Permission[]; cidrs: string[] }> {
  const out: Array<{ range: Permission; sources: Permission[]; cidrs: string[] }> = [];
  const byGroup = new Map<string, Permission[]>();
  for (const p of permissions) byGroup.set(p.groupId, [...(byGroup.get(p.groupId) ?? []), p]);
  for (const perms of byGroup.values()) {
    const seen = new Set<string>();
    for (const range of perms) {
      const key = `${range.protocol} ${range.from}-${range.to}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const sources = perms.filter((p) => contains(p, range));
      const cidrs = worldCidrs(sources.flatMap((p) => p.cidrs));
      if (cidrs.length > 0)
        out.push({ range, sources: sources.filter((p) => p.cidrs.some((c) => cidrs.includes(c))), cidrs });
    }
  }
  return out;
}

/** The security group resource with this id, or the resource that declared the permission. */
function subjectOf(resources: PolicyResource[], p: Permission): PolicyResource {
  return ofTypes(resources, [SECURITY_GROUP]).find((g) => g.props.id === p.groupId) ?? p.declaredBy;
}

/** `"db-egress" egress, "db" egress[0]`: the resources and places that declared the permissions. */
function declaredBy(sources: Permission[]): string {
  return [...new Set(sources.map((s) => `"${s.declaredBy.name}" ${s.where}`))].join(", ");
}

function label(r: PolicyResource): string {
  return `${r.type === SECURITY_GROUP ? "Security group" : "Security group rule"} "${r.name}"`;
}

export const securityGroupWorldIngressCombined = stackRule<{ worldPorts: number[] }>({
  name: "security-group-world-ingress-combined",
  description:
    "No security group is open to the internet beyond the load balancer's ports (80, 443) through its rules together: ranges in several rules that add up to 0.0.0.0/0 or ::/0 count as the internet.",
  enforcementLevel: "mandatory",
  severity: "critical",
  sources: ["CKV_AWS_260", "EC2.18", "EC2.19", "runbook 003"], // R-security-data-private
  preview:
    "security group ids of groups created in the same update are unknown; the engine then reports this rule as advisory until the update.",
  remediationSteps:
    "Admit the security groups that need access (referencedSecurityGroupId); open only the load balancer's listener ports to the internet.",
  config: {
    worldPorts: {
      type: "array",
      items: { type: "integer" },
      default: [80, 443],
      description: "The only ports the internet may reach (the load balancer's listeners).",
    },
  },
  check: (resources, config, report) => {
    for (const { range, sources, cidrs } of worldOpenings(ingressPermissions(resources))) {
      const onListenerPorts =
        range.protocol === "tcp" &&
        range.to - range.from < config.worldPorts.length &&
        Array.from({ length: range.to - range.from + 1 }, (_, k) => range.from + k).every((p) =>
          config.worldPorts.includes(p),
        );
      // One rule open to the internet by itself is security-group-no-world-ingress's to report.
      if (onListenerPorts || sources.some((p) => worldCidrs(p.cidrs).length > 0)) continue;
      const subject = subjectOf(resources, range);
      report(
        subject,
        message(
          label(subject),
          `ingress (${portText(range)})`,
          `open to the internet through ${show(cidrs)} (declared by ${declaredBy(sources)})`,
          `internet sources only on ports ${config.worldPorts.join(", ")}`,
          "replace the ranges with referencedSecurityGroupId of the group that needs access",
        ),
      );
    }
  },
});

export const dataTierNoWorldEgress = stackRule({
  name: "data-tier-no-world-egress",
  description:
    "No security group of a database or cache lets it send traffic to the internet (0.0.0.0/0, ::/0 or ranges that add up to either).",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["runbook 003"], // R-security-data-private
  preview:
    "security group ids of groups created in the same update are unknown; the engine then reports this rule as advisory until the update.",
  remediationSteps:
    "Remove the world egress from the data store's security group; a database or cache answers its clients and needs no egress rule of its own.",
  check: (resources, _config, report) => {
    const dataGroups = new Map<string, string>();
    for (const r of ofTypes(resources, [RDS_INSTANCE, RDS_CLUSTER]))
      for (const id of (r.props as { vpcSecurityGroupIds?: string[] }).vpcSecurityGroupIds ?? [])
        dataGroups.set(id, r.name);
    for (const r of ofTypes(resources, [REPLICATION_GROUP, CACHE_CLUSTER]))
      for (const id of (r.props as { securityGroupIds?: string[] }).securityGroupIds ?? []) dataGroups.set(id, r.name);
    const egress = egressPermissions(resources).filter((p) => dataGroups.has(p.groupId));
    for (const { range, sources, cidrs } of worldOpenings(egress)) {
      const subject = subjectOf(resources, range);
      report(
        subject,
        message(
          label(subject),
          `egress (${portText(range)}) of the data store "${dataGroups.get(range.groupId)}"`,
          `open to the internet through ${show(cidrs)} (declared by ${declaredBy(sources)})`,
          "no egress to the internet from the data tier",
          "remove the egress rule (or narrow it to the VPC's own CIDR)",
        ),
      );
    }
  },
});

export const worldPolicies: OpsbookPolicy[] = [securityGroupWorldIngressCombined, dataTierNoWorldEgress];
