import { StatefulSet, type IStatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { ConfigMap, type IConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Secret, type ISecret } from "kubernetes-models/v1/Secret";
import { Service, type IService } from "kubernetes-models/v1/Service";
import { InClusterPostgres, PG_HBA, postgresParameters } from "../../../components/kubernetes/postgres";
import { one, recordResources, settle, type RecordedResource } from "../../helpers/mocks";
import {
  k8sNoEscalation,
  k8sNonRoot,
  k8sProbes,
  k8sReadOnlyRoot,
  k8sResources,
  k8sImagePinned,
} from "../../../policy/rules/kubernetes";
import { violations } from "../../../policy/tests/helpers";

const common = { "app.kubernetes.io/part-of": "opsbook", "app.kubernetes.io/instance": "opsbook-local" };
const labels = { ...common, "app.kubernetes.io/name": "postgres" };

let resources: RecordedResource[];
beforeAll(async () => {
  resources = await recordResources();
  new InClusterPostgres("local", {
    namespace: "opsbook",
    commonLabels: common,
    engineVersion: "16.4",
    databaseName: "app",
    username: "app",
    slowQueryMs: 1000,
    maxConnections: 50,
    storageGb: 5,
    cpu: 512,
    memory: 512,
    requestPercentOfLimits: 50,
    issuer: { name: "opsbook-ca", kind: "Issuer" },
    protect: false,
  });
  await settle();
});

const inputs = <T>(type: string, name: string) => one(resources, type, name).inputs as unknown as T;

describe("postgresParameters", () => {
  test("TLS on with cert-manager's files, pg_hba from the ConfigMap, the RDS parameter group's values", () => {
    expect(postgresParameters({ slowQueryMs: 500, maxConnections: 80 })).toEqual([
      ...["-c", "ssl=on", "-c", "ssl_cert_file=/etc/postgresql/tls/tls.crt"],
      ...["-c", "ssl_key_file=/etc/postgresql/tls/tls.key", "-c", "ssl_min_protocol_version=TLSv1.2"],
      ...["-c", "hba_file=/etc/postgresql/conf/pg_hba.conf", "-c", "password_encryption=scram-sha-256"],
      ...["-c", "log_min_duration_statement=500", "-c", "shared_preload_libraries=pg_stat_statements"],
      ...["-c", "max_connections=80"],
    ]);
    expect(postgresParameters({ slowQueryMs: 500 })).not.toContain("max_connections=80");
  });

  test("pg_hba admits only the local socket and TLS connections, with passwords", () => {
    expect(PG_HBA.trim().split("\n")).toEqual(["local all all scram-sha-256", "hostssl all all all scram-sha-256"]);
  });
});

describe("InClusterPostgres", () => {
  test("every object is valid by the kubernetes-models schemas", () => {
    const set = inputs<IStatefulSet>("kubernetes:apps/v1:StatefulSet", "local-postgres");
    expect(() => new StatefulSet(set).validate()).not.toThrow();
    expect(() =>
      new Service(inputs<IService>("kubernetes:core/v1:Service", "local-postgres")).validate(),
    ).not.toThrow();
    const config = inputs<IConfigMap>("kubernetes:core/v1:ConfigMap", "local-postgres-config");
    expect(() => new ConfigMap(config).validate()).not.toThrow();
    const { stringData: _masked, ...secret } = inputs<ISecret>(
      "kubernetes:core/v1:Secret",
      "local-postgres-credentials",
    );
    expect(() => new Secret(secret).validate()).not.toThrow();
  });

  test("the password is generated, kept in a Secret and never in the plan in clear", () => {
    const secret = inputs<ISecret>("kubernetes:core/v1:Secret", "local-postgres-credentials");
    expect(secret).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      type: "kubernetes.io/basic-auth",
      metadata: { name: "postgres-credentials", namespace: "opsbook", labels },
      stringData: "[secret]",
    });
    expect(one(resources, "random:index/randomPassword:RandomPassword", "local-postgres").inputs).toMatchObject({
      length: 32,
      special: false,
    });
  });

  test("the server certificate comes from cert-manager for the Service's names", () => {
    expect(one(resources, "kubernetes:cert-manager.io/v1:Certificate", "local-postgres-tls").inputs).toEqual({
      apiVersion: "cert-manager.io/v1",
      kind: "Certificate",
      metadata: { name: "postgres-tls", namespace: "opsbook", labels },
      spec: {
        secretName: "postgres-tls",
        issuerRef: { name: "opsbook-ca", kind: "Issuer", group: "cert-manager.io" },
        dnsNames: ["postgres", "postgres.opsbook", "postgres.opsbook.svc", "postgres.opsbook.svc.cluster.local"],
        duration: "2160h",
        renewBefore: "360h",
        privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
        usages: ["server auth"],
      },
    });
    expect(inputs<IConfigMap>("kubernetes:core/v1:ConfigMap", "local-postgres-config").data).toEqual({
      "pg_hba.conf": PG_HBA,
    });
  });

  test("one replica on a retained volume; the server and the exporter locked down, sized and probed", () => {
    const set = inputs<IStatefulSet>("kubernetes:apps/v1:StatefulSet", "local-postgres");
    expect(set.metadata).toEqual({ name: "postgres", namespace: "opsbook", labels });
    const spec = set.spec!;
    expect(spec.replicas).toBe(1);
    expect(spec.serviceName).toBe("postgres");
    expect(spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: "Retain", whenScaled: "Retain" });
    expect(spec.volumeClaimTemplates).toEqual([
      {
        metadata: { name: "data", labels },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "5Gi" } } },
      },
    ]);
    const pod = spec.template.spec!;
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 999,
      runAsGroup: 999,
      fsGroup: 999,
      seccompProfile: { type: "RuntimeDefault" },
    });
    const [server, exporter] = pod.containers;
    expect(server!.image).toBe("docker.io/library/postgres:16.4");
    expect(server!.args).toEqual(["postgres", ...postgresParameters({ slowQueryMs: 1000, maxConnections: 50 })]);
    expect(server!.resources).toEqual({
      limits: { cpu: "500m", memory: "512Mi" },
      requests: { cpu: "250m", memory: "256Mi" },
    });
    const secretRef = (key: string) => ({ secretKeyRef: { name: "postgres-credentials", key } });
    expect(server!.env).toEqual([
      { name: "POSTGRES_DB", value: "app" },
      { name: "POSTGRES_USER", valueFrom: secretRef("username") },
      { name: "POSTGRES_PASSWORD", valueFrom: secretRef("password") },
      { name: "PGDATA", value: "/var/lib/postgresql/data/pgdata" },
    ]);
    expect(server!.volumeMounts!.map((m) => m.mountPath)).toEqual([
      "/var/lib/postgresql/data",
      "/var/run/postgresql",
      "/tmp",
      "/etc/postgresql/tls",
      "/etc/postgresql/conf",
    ]);
    expect(pod.volumes!.find((v) => v.name === "tls")).toEqual({
      name: "tls",
      secret: { secretName: "postgres-tls", defaultMode: 0o640 },
    });
    expect(exporter!.image).toBe("quay.io/prometheuscommunity/postgres-exporter:v0.15.0");
    expect(exporter!.ports).toEqual([{ name: "metrics", containerPort: 9187, protocol: "TCP" }]);
    // The slow-query alert's series (R-alert-slow-queries): the collector is off by default.
    expect(exporter!.args).toEqual(["--collector.stat_statements"]);
    expect(exporter!.env).toEqual([
      { name: "DATA_SOURCE_URI", value: "127.0.0.1:5432/app?sslmode=require" },
      { name: "DATA_SOURCE_USER", valueFrom: secretRef("username") },
      { name: "DATA_SOURCE_PASS", valueFrom: secretRef("password") },
    ]);
  });

  test("passes the policy pack's container rules, as the Deployments do", async () => {
    // The rules read a Deployment's pod template; a StatefulSet's has the same shape.
    const set = one(resources, "kubernetes:apps/v1:StatefulSet", "local-postgres");
    const asDeployment = { ...set, type: "kubernetes:apps/v1:Deployment" };
    for (const rule of [k8sNonRoot, k8sReadOnlyRoot, k8sNoEscalation, k8sResources, k8sProbes, k8sImagePinned])
      expect({ rule: rule.name, found: await violations(rule, asDeployment.type, asDeployment.inputs) }).toEqual({
        rule: rule.name,
        found: [],
      });
  });
});
