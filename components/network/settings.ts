/** `opsbook:network`: the VPC's address range, zones and NAT layout. */
import { z } from "zod";
import { isCidr, MAX_ZONES, parseCidr } from "../../lib/cidr";
import { type Report, matching, oneOf, ON_VALID } from "../../lib/schema";

const cidrAllowed = "an IPv4 CIDR block from /16 to /20, e.g. 10.0.0.0/16";
const zonesAllowed = `a list of 2 to ${MAX_ZONES} availability zones`;

export const networkSettings = z
  .strictObject({
    cidr: z
      .string({ error: cidrAllowed })
      .refine((v) => isCidr(v) && parseCidr(v).prefix >= 16 && parseCidr(v).prefix <= 20, { error: cidrAllowed })
      .default("10.0.0.0/16")
      .describe("VPC address range, /16 to /20; split per zone and tier"),
    availabilityZones: z
      .array(matching(/^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/, "an availability zone name, e.g. eu-west-1a"), {
        error: zonesAllowed,
      })
      .min(2, { error: zonesAllowed })
      .max(MAX_ZONES, { error: zonesAllowed })
      .optional()
      .describe("zones of the stack's region (default: the region's `a` and `b`); each gets three subnets"),
    natGateways: oneOf(["single", "perAz"])
      .default("perAz")
      .describe("`perAz`: a NAT gateway per zone (survives a zone outage); `single`: one (cheaper)"),
  })
  .superRefine((network, ctx) => {
    const zones = network.availabilityZones;
    if (zones && new Set(zones).size !== zones.length) {
      ctx.addIssue({
        code: "custom",
        path: ["availabilityZones"],
        message: "distinct availability zones",
        params: { value: zones },
      });
    }
  }, ON_VALID)
  .prefault({})
  .describe("the VPC");

export type NetworkSettings = z.output<typeof networkSettings>;

/** Zones must belong to the stack's region. Paths are relative to `opsbook:network`. */
export function networkStackRules(network: NetworkSettings, stack: { region: string }, add: Report): void {
  network.availabilityZones?.forEach((zone, i) => {
    if (stack.region && !zone.startsWith(stack.region)) {
      add(
        ["availabilityZones", i],
        zone,
        `a zone of the stack's region ${stack.region}, e.g. ${stack.region}a`,
        `${stack.region}${"abcdef"[i]}`,
      );
    }
  });
}

/** The zones a stack uses: configured, or the region's first two. */
export function availabilityZones(network: NetworkSettings, region: string): string[] {
  return network.availabilityZones ?? [`${region}a`, `${region}b`];
}
