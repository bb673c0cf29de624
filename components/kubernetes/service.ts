import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ServiceConnection } from "../../lib/connection";
import {
  allowEgressSpec,
  allowIngressSpec,
  deploymentSpec,
  hpaSpec,
  pdbSpec,
  selectorLabels,
  serviceMonitorSpec,
  serviceSpec,
  type EgressDestination,
  type ServiceManifestArgs,
} from "./manifests";
import { connectionSecret } from "./secrets";
import type { KubernetesSettings } from "./settings";

/** One service on the cluster: its settings, the connections it gets and the stack's wiring. */
export interface KubernetesServiceArgs extends Omit<ServiceManifestArgs, "environment" | "secret" | "kubernetes"> {
  kubernetes: ServiceManifestArgs["kubernetes"] & Pick<KubernetesSettings, "ingressController" | "dns">;
  /** Where the pods may connect besides DNS and HTTPS: the data tier on its ports. */
  egress: EgressDestination[];
  /** The service's own plain variables (`services[].environment`). */
  ownEnvironment: Record<string, string>;
  /** Backing stores and app secrets: the same variables the ECS services get. */
  connections: ServiceConnection[];
  /** The namespace object (its name), so everything is created inside it. */
  namespace: pulumi.Input<string>;
  /**
   * What must have finished before the Deployment is created or changed: for a service that uses
   * the database, the roles' bootstrap Job, so that a new or rotated login exists in PostgreSQL
   * before pods start with it (R-db-role-rotation).
   */
  waitFor?: pulumi.Resource[];
}

/**
 * A service on Kubernetes (R-k8s-deployment): its Secret (the connections' credentials and the
 * app secrets, read from Secrets Manager: the pods get them only through `secretKeyRef`), the
 * Deployment, a ClusterIP Service, an HPA, a PDB, the NetworkPolicy that admits the ingress
 * controller and Prometheus, the one that lets it reach DNS, the data tier and HTTPS only, and a
 * ServiceMonitor for `/metrics`.
 */
export class KubernetesService extends pulumi.ComponentResource {
  readonly secret: k8s.core.v1.Secret;
  readonly deployment: k8s.apps.v1.Deployment;
  readonly service: k8s.core.v1.Service;
  readonly hpa: k8s.autoscaling.v2.HorizontalPodAutoscaler;
  readonly pdb: k8s.policy.v1.PodDisruptionBudget;
  readonly networkPolicy: k8s.networking.v1.NetworkPolicy;
  readonly egressPolicy: k8s.networking.v1.NetworkPolicy;
  readonly serviceMonitor: k8s.apiextensions.CustomResource;
  /** The service's name, as the alert rules and the Ingress name it. */
  readonly appName: string;

  constructor(name: string, args: KubernetesServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("opsbook:kubernetes:Service", name, {}, opts);
    const s = args.service;
    this.appName = s.name;
    const labels = { ...args.commonLabels, ...selectorLabels(s.name) };
    const metadata = (suffix = "") => ({ name: `${s.name}${suffix}`, namespace: args.namespace, labels });
    const child = { parent: this };

    const { secret, keys } = connectionSecret(`${name}-env`, metadata("-env"), args.connections, child);
    this.secret = secret;

    const environment: Record<string, pulumi.Input<string>> = {};
    for (const c of args.connections) Object.assign(environment, c.environment);
    Object.assign(environment, args.ownEnvironment);

    this.deployment = new k8s.apps.v1.Deployment(
      name,
      {
        metadata: metadata(),
        spec: deploymentSpec({
          ...args,
          environment,
          secret: { name: this.secret.metadata.name, keys },
        }),
      },
      // The HPA owns the replica count after the first rollout (as ECS autoscaling owns desiredCount).
      { ...child, ignoreChanges: ["spec.replicas"], ...(args.waitFor?.length ? { dependsOn: args.waitFor } : {}) },
    );
    this.service = new k8s.core.v1.Service(name, { metadata: metadata(), spec: serviceSpec(s.name) }, child);
    this.hpa = new k8s.autoscaling.v2.HorizontalPodAutoscaler(
      name,
      { metadata: metadata(), spec: hpaSpec(this.deployment.metadata.name, s) },
      child,
    );
    this.pdb = new k8s.policy.v1.PodDisruptionBudget(name, { metadata: metadata(), spec: pdbSpec(s.name) }, child);
    this.networkPolicy = new k8s.networking.v1.NetworkPolicy(
      `${name}-allow-ingress`,
      { metadata: metadata("-allow-ingress"), spec: allowIngressSpec(s.name, args.kubernetes) },
      child,
    );
    this.egressPolicy = new k8s.networking.v1.NetworkPolicy(
      `${name}-allow-egress`,
      {
        metadata: metadata("-allow-egress"),
        spec: allowEgressSpec(selectorLabels(s.name), args.kubernetes.dns, args.egress),
      },
      child,
    );
    this.serviceMonitor = new k8s.apiextensions.CustomResource(
      name,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "ServiceMonitor",
        metadata: { ...metadata(), labels: { ...labels, ...args.kubernetes.prometheus.selectorLabels } },
        spec: serviceMonitorSpec(s.name, args.kubernetes.namespace, args.kubernetes.metrics.path),
      },
      child,
    );
    this.registerOutputs({ deploymentName: this.deployment.metadata.name });
  }
}
