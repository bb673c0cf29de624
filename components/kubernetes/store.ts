/**
 * What the in-cluster stores (PostgreSQL, Redis, MinIO; R-local-postgres, R-local-redis,
 * R-local-object-store) declare alike: their labels, generated credentials in a Secret, the server
 * certificate from cert-manager, and the headless Service that names the StatefulSet's one pod.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { type IssuerRef, serverCertificate } from "./certificates";

/** Where a store runs, and the issuer of its certificate. */
export interface StoreScope {
  namespace: pulumi.Input<string>;
  commonLabels: Record<string, string>;
  issuer: IssuerRef;
}

/** A store's labels (`app.kubernetes.io/name: <store>`) and the metadata of its objects. */
export function storeLabels(store: string, scope: StoreScope) {
  const labels = { ...scope.commonLabels, "app.kubernetes.io/name": store };
  const metadata = (objectName: string) => ({ name: objectName, namespace: scope.namespace, labels });
  return { labels, metadata };
}

/** A store's server certificate, in Secret `<store>-tls` (the name {@link storeTlsSecret} gives). */
export function storeCertificate(
  name: string,
  store: string,
  scope: StoreScope,
  labels: Record<string, string>,
  child: pulumi.CustomResourceOptions,
): k8s.apiextensions.CustomResource {
  return serverCertificate(
    `${name}-${store}-tls`,
    { secretName: storeTlsSecret(store), service: store, namespace: scope.namespace, labels, issuer: scope.issuer },
    child,
  );
}

/** The Secret cert-manager writes a store's certificate, key and CA into. */
export function storeTlsSecret(store: string): string {
  return `${store}-tls`;
}

/**
 * A generated password (letters and digits: it also travels in URLs) and the Secret holding it,
 * as `password` (with `username` when given, as `kubernetes.io/basic-auth`).
 */
export function generatedCredentials(
  resourceName: string,
  secret: {
    resourceName: string;
    metadata: { name: string; namespace: pulumi.Input<string>; labels: Record<string, string> };
  },
  a: { length: number; username?: string },
  child: pulumi.CustomResourceOptions,
): { password: random.RandomPassword; secret: k8s.core.v1.Secret } {
  const password = new random.RandomPassword(resourceName, { length: a.length, special: false }, child);
  const stringData: Record<string, pulumi.Input<string>> = a.username === undefined
    ? { password: password.result }
    : { username: a.username, password: password.result };
  const object = new k8s.core.v1.Secret(
    secret.resourceName,
    {
      metadata: secret.metadata,
      type: a.username === undefined ? "Opaque" : "kubernetes.io/basic-auth",
      stringData,
    },
    { ...child, additionalSecretOutputs: ["data", "stringData"] },
  );
  return { password, secret: object };
}

/** The headless Service of a store's StatefulSet: its name resolves to the one pod. */
export function headlessService(
  resourceName: string,
  metadata: { name: string; namespace: pulumi.Input<string>; labels: Record<string, string> },
  store: string,
  ports: Array<{ name: string; port: number }>,
  child: pulumi.CustomResourceOptions,
): k8s.core.v1.Service {
  return new k8s.core.v1.Service(
    resourceName,
    {
      metadata,
      spec: {
        clusterIP: "None",
        selector: { "app.kubernetes.io/name": store },
        ports: ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.name, protocol: "TCP" })),
      },
    },
    child,
  );
}
