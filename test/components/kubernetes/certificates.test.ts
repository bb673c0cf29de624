import * as pulumi from "@pulumi/pulumi";
import {
  serverCertificate,
  serviceDnsNames,
  stackCertificateAuthority,
} from "../../../components/kubernetes/certificates";
import { one, recordResources, resolve, settle, type RecordedResource } from "../../helpers/mocks";

const labels = { "app.kubernetes.io/part-of": "opsbook" };

let resources: RecordedResource[];
let issuerName: unknown;
beforeAll(async () => {
  resources = await recordResources();
  const parent = new pulumi.ComponentResource("test:index:Parent", "p");
  const ca = stackCertificateAuthority("local", { namespace: "opsbook", labels }, { parent });
  serverCertificate(
    "local-db-tls",
    { secretName: "db-tls", service: "db", namespace: "opsbook", labels, issuer: ca.issuer },
    { parent },
  );
  issuerName = await resolve(ca.issuer.name);
  await settle();
});

const CM = "kubernetes:cert-manager.io/v1";

describe("the stack's certificate authority", () => {
  test("a self-signed issuer signs the CA, whose issuer signs the server certificates", () => {
    expect(one(resources, `${CM}:Issuer`, "local-selfsigned").inputs.spec).toEqual({ selfSigned: {} });
    const ca = one(resources, `${CM}:Certificate`, "local-ca");
    expect(ca.inputs.spec).toEqual({
      isCA: true,
      commonName: "opsbook data stores CA",
      secretName: "opsbook-ca",
      duration: "87600h",
      privateKey: { algorithm: "ECDSA", size: 256 },
      issuerRef: { name: "opsbook-selfsigned", kind: "Issuer", group: "cert-manager.io" },
    });
    expect(ca.dependencies).toContain(one(resources, `${CM}:Issuer`, "local-selfsigned").urn);
    const issuer = one(resources, `${CM}:Issuer`, "local-ca-issuer");
    expect(issuer.inputs.spec).toEqual({ ca: { secretName: "opsbook-ca" } });
    expect(issuerName).toBe("opsbook-ca");
    expect(one(resources, `${CM}:Certificate`, "local-db-tls").inputs.spec).toMatchObject({
      secretName: "db-tls",
      issuerRef: { name: "opsbook-ca", kind: "Issuer", group: "cert-manager.io" },
      dnsNames: serviceDnsNames("db", "opsbook"),
    });
  });

  test("a server certificate names the Service as clients reach it", () => {
    expect(serviceDnsNames("db", "apps")).toEqual(["db", "db.apps", "db.apps.svc", "db.apps.svc.cluster.local"]);
  });
});
