import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { USES } from "../../lib/appVariables";
import type { ServiceConnection } from "../../lib/connection";
import type { Thresholds } from "../monitoring/alarmCatalogue";
import type { RollbackSettings, ServiceSettings } from "../service/settings";
import { alertGroups, type AlertGroup } from "./alertRules";
import {
  defaultDenyEgressSpec,
  defaultDenySpec,
  type EgressDestination,
  ingressAnnotations,
  ingressSpec,
} from "./manifests";
import { KubernetesService } from "./service";
import type { KubernetesSettings } from "./settings";

/**
 * The parsed `opsbook:kubernetes` settings, with the keys the stack rules require on this
 * platform (`host`, `runbookUrl`), plus the services and the stack's wiring.
 */
export interface KubernetesAppsArgs extends Omit<KubernetesSettings, "host" | "runbookUrl" | "clientSecurityGroupId"> {
  host: string;
  runbookUrl: string;
  /** The stack's `environment`: names the provider, the rule groups and the TLS Secret cert-manager writes. */
  environment: string;
  /** The services, each with a port (the stack rules require one on Kubernetes) and its image without the tag. */
  services: Array<Omit<ServiceSettings, "image"> & { port: number; image: pulumi.Input<string> }>;
  /** `healthCheck.path`: the probes' path unless a probe or the service names another. */
  healthCheckPath: string;
  /**
   * Per service, what its `uses` names under its `envNames`: the same ECS services get (R-db-roles).
   * A function is called once the provider and the namespace exist, for a data tier that lives in
   * that namespace itself (R-local-postgres).
   */
  connections: Record<string, ServiceConnection[]> | ((cluster: ClusterScope) => Record<string, ServiceConnection[]>);
  /**
   * The database roles' bootstrap Job, declared once the provider and the namespace exist (after
   * `connections`): the Deployments of the services that use the database wait for it, so a new
   * or rotated login is in PostgreSQL before their pods start with it (R-db-role-rotation).
   */
  databaseRoles?: (cluster: ClusterScope) => pulumi.Resource;
  /** A namespaced cert-manager Issuer that signs the Ingress's certificate when `tls` names none. */
  tlsIssuer?: string;
  thresholds: Thresholds;
  rollback: RollbackSettings;
  /** Where the services' pods may connect besides DNS and HTTPS: the data tier on its ports. */
  egress: EgressDestination[];
}

/** What objects in the stack's namespace need: the provider, the namespace's name and the common labels. */
export interface ClusterScope {
  provider: k8s.Provider;
  namespace: pulumi.Output<string>;
  commonLabels: Record<string, string>;
}

/**
 * The services on an existing cluster (R-k8s-deployment): a provider for the cluster, the
 * namespace, default-deny ingress and egress NetworkPolicies, each service's objects, one Ingress for every service's
 * routes with TLS and HTTP redirected to HTTPS, and a PrometheusRule with the runbook alerts at
 * the stack's thresholds. Nothing here is an AWS resource: the data tier stays in the VPC.
 */
export class KubernetesApps extends pulumi.ComponentResource {
  readonly provider: k8s.Provider;
  readonly namespace: k8s.core.v1.Namespace;
  readonly services: Record<string, KubernetesService>;
  readonly ingress: k8s.networking.v1.Ingress;
  readonly prometheusRule: k8s.apiextensions.CustomResource;
  /** The rule groups the PrometheusRule holds. */
  readonly alertGroups: AlertGroup[];
  readonly url: string;
  /** Labels every object of the stack on the cluster carries (part-of, instance). */
  readonly commonLabels: Record<string, string>;
  /** Where the cluster's Prometheus runs, and the `environment` label of the stack's alerts (R-k8s-verify). */
  readonly prometheusNamespace: string;
  readonly environment: string;

  constructor(name: string, args: KubernetesAppsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("opsbook:kubernetes:Apps", name, {}, opts);
    this.prometheusNamespace = args.prometheus.namespace;
    this.environment = args.environment;
    this.provider = new k8s.Provider(
      name,
      {
        // Unset: the ambient kubeconfig (KUBECONFIG, ~/.kube/config) of whoever runs pulumi.
        kubeconfig: args.kubeconfig === undefined ? undefined : pulumi.secret(args.kubeconfig),
        context: args.context,
        // Objects without a namespace would land in "default": every object here names its own.
        namespace: args.namespace,
      },
      { parent: this },
    );
    const child = { parent: this, provider: this.provider };
    const commonLabels = { "app.kubernetes.io/part-of": "opsbook", "app.kubernetes.io/instance": `opsbook-${name}` };
    this.commonLabels = commonLabels;

    this.namespace = new k8s.core.v1.Namespace(
      name,
      {
        metadata: {
          name: args.namespace,
          labels: {
            ...commonLabels,
            // Pod Security admission refuses pods that are not restricted (non-root, no escalation, ...).
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "latest",
          },
        },
      },
      child,
    );
    const namespace = this.namespace.metadata.name;

    new k8s.networking.v1.NetworkPolicy(
      `${name}-default-deny`,
      { metadata: { name: "default-deny-ingress", namespace, labels: commonLabels }, spec: defaultDenySpec() },
      child,
    );
    new k8s.networking.v1.NetworkPolicy(
      `${name}-default-deny-egress`,
      { metadata: { name: "default-deny-egress", namespace, labels: commonLabels }, spec: defaultDenyEgressSpec() },
      child,
    );

    const scope: ClusterScope = { provider: this.provider, namespace, commonLabels };
    const connections = typeof args.connections === "function" ? args.connections(scope) : args.connections;
    const rolesReady = args.databaseRoles?.(scope);
    this.services = {};
    for (const s of args.services) {
      this.services[s.name] = new KubernetesService(
        s.name,
        {
          service: s,
          kubernetes: args,
          healthCheckPath: args.healthCheckPath,
          commonLabels,
          ownEnvironment: s.environment,
          connections: connections[s.name] ?? [],
          namespace,
          unhealthyForMinutes: args.rollback.unhealthyForMinutes,
          egress: args.egress,
          ...(rolesReady && s.uses.includes(USES.database) ? { waitFor: [rolesReady] } : {}),
        },
        child,
      );
    }

    // cert-manager writes the certificate into the Secret the Ingress names.
    const tlsSecretName = args.tls.secretName ?? `opsbook-${args.environment}-tls`;
    this.ingress = new k8s.networking.v1.Ingress(
      name,
      {
        metadata: {
          name: "opsbook",
          namespace,
          labels: commonLabels,
          annotations: ingressAnnotations(args.tls.clusterIssuer, args.tls.secretName ? undefined : args.tlsIssuer),
        },
        spec: ingressSpec({
          services: args.services.map((s) => ({
            name: s.name,
            hosts: s.hosts,
            paths: s.paths,
            serviceName: this.services[s.name]!.service.metadata.name,
          })),
          host: args.host,
          ingressClassName: args.ingressClassName,
          tlsSecretName,
        }),
      },
      child,
    );
    this.url = `https://${args.host}`;

    this.alertGroups = alertGroups(
      args.services.map((s) => ({
        service: s.name,
        namespace: args.namespace,
        metrics: args.metrics,
        thresholds: args.thresholds,
        rollback: args.rollback,
      })),
      args.environment,
      args.runbookUrl,
    );
    this.prometheusRule = new k8s.apiextensions.CustomResource(
      `${name}-alerts`,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: {
          name: "opsbook-alerts",
          namespace,
          labels: { ...commonLabels, ...args.prometheus.selectorLabels },
        },
        spec: { groups: this.alertGroups },
      },
      child,
    );
    this.registerOutputs({ namespace, url: this.url });
  }
}
