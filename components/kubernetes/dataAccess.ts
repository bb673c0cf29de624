import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** The cluster's security group, and the data stores it must reach with their groups and ports. */
export interface ClusterDataAccessArgs {
  /** `kubernetes.clientSecurityGroupId`: the security group of the cluster's nodes or pods. */
  clientSecurityGroupId: pulumi.Input<string>;
  stores: Array<{ name: string; engine: string; securityGroupId: pulumi.Input<string>; port: number }>;
}

/**
 * Lets the cluster's pods reach the data tier (R-k8s-data-tier): one ingress rule per store from
 * the cluster's security group, on the store's port only. The cluster's group is not this stack's,
 * so no egress rule is added to it (EKS node groups allow all egress); the stores keep admitting
 * the app security group, which the backup job's tasks use.
 */
export class ClusterDataAccess extends pulumi.ComponentResource {
  constructor(name: string, args: ClusterDataAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("opsbook:kubernetes:ClusterDataAccess", name, {}, opts);
    for (const store of args.stores) {
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-${store.name}-from-cluster`,
        {
          securityGroupId: store.securityGroupId,
          description: `${store.engine} from the Kubernetes cluster`,
          ipProtocol: "tcp",
          fromPort: store.port,
          toPort: store.port,
          referencedSecurityGroupId: args.clientSecurityGroupId,
        },
        { parent: this },
      );
    }
    this.registerOutputs({});
  }
}
