/**
 * Wires the components of one stack from its validated config. The stack's differences are values
 * in `Pulumi.<stack>.yaml`; nothing here asks which stack it is.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "./config";
import { Network } from "../components/network/network";
import { TierSecurityGroups } from "../components/network/securityGroups";
import { EncryptionKey } from "../components/security/encryptionKey";

export interface Platform {
  network: Network;
  securityGroups: TierSecurityGroups;
  logsKey: EncryptionKey;
}

/** Declares every resource of the platform for one stack. */
export function buildPlatform(config: PlatformConfig): Platform {
  const identity = aws.getCallerIdentityOutput();
  const partition = aws.getPartitionOutput();

  const logsKey = new EncryptionKey("logs", {
    description: `opsbook ${config.environment}: CloudWatch log groups`,
    accountId: identity.accountId,
    partition: partition.partition,
    services: [
      {
        principal: `logs.${config.region}.amazonaws.com`,
        condition: {
          ArnLike: { "kms:EncryptionContext:aws:logs:arn": pulumi.interpolate`arn:${partition.partition}:logs:${config.region}:${identity.accountId}:*` },
        },
      },
    ],
    protect: config.protect,
  });

  const network = new Network(config.environment, {
    cidr: config.network.cidr,
    availabilityZones: config.network.availabilityZones,
    natGateways: config.network.natGateways,
    flowLogRetentionDays: config.logRetentionDays,
    logKeyArn: logsKey.arn,
    accountId: identity.accountId,
    region: config.region,
  });

  const securityGroups = new TierSecurityGroups(config.environment, { vpcId: network.vpcId });

  return { network, securityGroups, logsKey };
}

/** The stack outputs: what operators and the next layers need to find. */
export function stackOutputs(platform: Platform) {
  return {
    vpcId: platform.network.vpcId,
    publicSubnetIds: platform.network.publicSubnetIds,
    privateSubnetIds: platform.network.privateSubnetIds,
    isolatedSubnetIds: platform.network.isolatedSubnetIds,
    logsKeyArn: platform.logsKey.arn,
    loadBalancerSecurityGroupId: platform.securityGroups.loadBalancer.id,
    appSecurityGroupId: platform.securityGroups.app.id,
  };
}
