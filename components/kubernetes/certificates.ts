/** Server certificates from cert-manager for the data stores on the cluster (R-local-postgres, R-local-redis). */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** The cert-manager issuer that signs the data stores' server certificates. */
export interface IssuerRef {
  name: pulumi.Input<string>;
  kind: "Issuer" | "ClusterIssuer";
}

/** A Service's names inside the cluster: short, with the namespace, and fully qualified. */
export function serviceDnsNames(service: string, namespace: string): string[] {
  return [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
  ];
}

/**
 * A server certificate for `service`'s names, written by cert-manager into the Secret `secretName`
 * (`tls.crt`, `tls.key`, `ca.crt`): 90 days, renewed 15 days before, a new ECDSA key each time.
 */
export function serverCertificate(
  name: string,
  a: {
    secretName: string;
    service: string;
    namespace: pulumi.Input<string>;
    labels: Record<string, string>;
    issuer: IssuerRef;
  },
  opts: pulumi.CustomResourceOptions,
): k8s.apiextensions.CustomResource {
  return new k8s.apiextensions.CustomResource(
    name,
    {
      apiVersion: "cert-manager.io/v1",
      kind: "Certificate",
      metadata: { name: a.secretName, namespace: a.namespace, labels: a.labels },
      spec: {
        secretName: a.secretName,
        issuerRef: { name: a.issuer.name, kind: a.issuer.kind, group: "cert-manager.io" },
        dnsNames: pulumi.output(a.namespace).apply((ns) => serviceDnsNames(a.service, ns)),
        duration: "2160h",
        renewBefore: "360h",
        privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
        usages: ["server auth"],
      },
    },
    opts,
  );
}

/** Name of the stack CA's Issuer and of the Secret holding its certificate and key. */
export const STACK_CA_ISSUER = "opsbook-ca";

/**
 * A certificate authority of the stack's own, for clusters without a public issuer: a self-signed
 * cert-manager `Issuer` signs one CA certificate (ECDSA P-256, 10 years), and an `Issuer` of that CA
 * signs the data stores' server certificates, so their clients can verify them with `ca.crt`.
 * Returns the CA issuer's reference.
 */
export function stackCertificateAuthority(
  name: string,
  a: { namespace: pulumi.Input<string>; labels: Record<string, string> },
  opts: pulumi.CustomResourceOptions,
): { issuer: IssuerRef; resources: k8s.apiextensions.CustomResource[] } {
  const metadata = (objectName: string) => ({ name: objectName, namespace: a.namespace, labels: a.labels });
  const selfSigned = new k8s.apiextensions.CustomResource(
    `${name}-selfsigned`,
    {
      apiVersion: "cert-manager.io/v1",
      kind: "Issuer",
      metadata: metadata("opsbook-selfsigned"),
      spec: { selfSigned: {} },
    },
    opts,
  );
  const ca = new k8s.apiextensions.CustomResource(
    `${name}-ca`,
    {
      apiVersion: "cert-manager.io/v1",
      kind: "Certificate",
      metadata: metadata(STACK_CA_ISSUER),
      spec: {
        isCA: true,
        commonName: "opsbook data stores CA",
        secretName: STACK_CA_ISSUER,
        duration: "87600h",
        privateKey: { algorithm: "ECDSA", size: 256 },
        issuerRef: { name: "opsbook-selfsigned", kind: "Issuer", group: "cert-manager.io" },
      },
    },
    { ...opts, dependsOn: [selfSigned] },
  );
  const issuer = new k8s.apiextensions.CustomResource(
    `${name}-ca-issuer`,
    {
      apiVersion: "cert-manager.io/v1",
      kind: "Issuer",
      metadata: metadata(STACK_CA_ISSUER),
      spec: { ca: { secretName: STACK_CA_ISSUER } },
    },
    { ...opts, dependsOn: [ca] },
  );
  return { issuer: { name: issuer.metadata.name, kind: "Issuer" }, resources: [selfSigned, ca, issuer] };
}
