import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** The ECS cluster the services run in, with Container Insights metrics on every task. */
export class Cluster extends pulumi.ComponentResource {
  readonly cluster: aws.ecs.Cluster;
  readonly arn: pulumi.Output<string>;
  readonly name: pulumi.Output<string>;

  constructor(name: string, args: { clusterName: string }, opts?: pulumi.ComponentResourceOptions) {
    super("opsbook:service:Cluster", name, {}, opts);
    this.cluster = new aws.ecs.Cluster(
      `${name}`,
      { name: args.clusterName, settings: [{ name: "containerInsights", value: "enabled" }] },
      { parent: this },
    );
    new aws.ecs.ClusterCapacityProviders(
      `${name}`,
      {
        clusterName: this.cluster.name,
        capacityProviders: ["FARGATE"],
        defaultCapacityProviderStrategies: [{ capacityProvider: "FARGATE", weight: 1 }],
      },
      { parent: this },
    );
    this.arn = this.cluster.arn;
    this.name = this.cluster.name;
    this.registerOutputs({ arn: this.arn, name: this.name });
  }
}
