import { StatefulSet, type IStatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { ConfigMap, type IConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Secret, type ISecret } from "kubernetes-models/v1/Secret";
import { Service, type IService } from "kubernetes-models/v1/Service";
import { InClusterRedis, redisConfig } from "../../../components/kubernetes/redis";
import { one, recordResources, settle, type RecordedResource } from "../../helpers/mocks";
import {
  k8sImagePinned,
  k8sNoEscalation,
  k8sNonRoot,
  k8sProbes,
  k8sReadOnlyRoot,
  k8sResources,
} from "../../../policy/rules/kubernetes";
import { violations } from "../../../policy/tests/helpers";

const common = { "app.kubernetes.io/part-of": "opsbook", "app.kubernetes.io/instance": "opsbook-local" };
const labels = { ...common, "app.kubernetes.io/name": "redis" };

let resources: RecordedResource[];
beforeAll(async () => {
  resources = await recordResources();
  new InClusterRedis("local", {
    namespace: "opsbook",
    commonLabels: common,
    storageGb: 1,
    cpu: 256,
    memory: 256,
    requestPercentOfLimits: 50,
    issuer: { name: "opsbook-ca", kind: "Issuer" },
    protect: false,
  });
  await settle();
});

const inputs = <T>(type: string, name: string) => one(resources, type, name).inputs as unknown as T;

describe("redisConfig", () => {
  test("TLS only, no client certificate, append-only file and snapshots, a ceiling under the limit", () => {
    expect(redisConfig(256).trim().split("\n")).toEqual([
      "port 0",
      "tls-port 6379",
      "tls-cert-file /etc/redis/tls/tls.crt",
      "tls-key-file /etc/redis/tls/tls.key",
      "tls-auth-clients no",
      "tls-protocols TLSv1.2 TLSv1.3",
      "dir /data",
      "appendonly yes",
      "appendfsync everysec",
      "save 3600 1 300 100 60 10000",
      "maxmemory 192mb",
      "maxmemory-policy volatile-lru",
      "protected-mode yes",
    ]);
  });
});

describe("InClusterRedis", () => {
  test("every object is valid by the kubernetes-models schemas", () => {
    expect(() =>
      new StatefulSet(inputs<IStatefulSet>("kubernetes:apps/v1:StatefulSet", "local-redis")).validate(),
    ).not.toThrow();
    expect(() => new Service(inputs<IService>("kubernetes:core/v1:Service", "local-redis")).validate()).not.toThrow();
    expect(() =>
      new ConfigMap(inputs<IConfigMap>("kubernetes:core/v1:ConfigMap", "local-redis-config")).validate(),
    ).not.toThrow();
    const { stringData: _masked, ...secret } = inputs<ISecret>("kubernetes:core/v1:Secret", "local-redis-auth");
    expect(() => new Secret(secret).validate()).not.toThrow();
  });

  test("a generated 64-character token in a Secret, masked in the plan; the certificate from cert-manager", () => {
    expect(inputs<ISecret>("kubernetes:core/v1:Secret", "local-redis-auth")).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      type: "Opaque",
      metadata: { name: "redis-auth", namespace: "opsbook", labels },
      stringData: "[secret]",
    });
    expect(one(resources, "random:index/randomPassword:RandomPassword", "local-redis").inputs).toMatchObject({
      length: 64,
      special: false,
    });
    const cert = one(resources, "kubernetes:cert-manager.io/v1:Certificate", "local-redis-tls").inputs;
    expect(cert.spec).toMatchObject({
      secretName: "redis-tls",
      issuerRef: { name: "opsbook-ca", kind: "Issuer", group: "cert-manager.io" },
      dnsNames: ["redis", "redis.opsbook", "redis.opsbook.svc", "redis.opsbook.svc.cluster.local"],
    });
  });

  test("one replica on a retained volume; the password from the Secret, never on the spec in clear", () => {
    const set = inputs<IStatefulSet>("kubernetes:apps/v1:StatefulSet", "local-redis");
    const spec = set.spec!;
    expect(spec.replicas).toBe(1);
    expect(spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: "Retain", whenScaled: "Retain" });
    expect(spec.volumeClaimTemplates![0]!.spec).toEqual({
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: "1Gi" } },
    });
    const [server, exporter] = spec.template.spec!.containers;
    expect(server!.image).toBe("docker.io/library/redis:7.4.1");
    expect(server!.args).toEqual(["redis-server", "/etc/redis/conf/redis.conf", "--requirepass", "$(REDIS_PASSWORD)"]);
    const password = { name: "REDIS_PASSWORD", valueFrom: { secretKeyRef: { name: "redis-auth", key: "password" } } };
    expect(server!.env).toEqual([password]);
    expect(server!.volumeMounts!.map((m) => m.mountPath)).toEqual([
      "/data",
      "/tmp",
      "/etc/redis/tls",
      "/etc/redis/conf",
    ]);
    expect(exporter!.image).toBe("docker.io/oliver006/redis_exporter:v1.62.0");
    expect(exporter!.env).toEqual([
      { name: "REDIS_ADDR", value: "rediss://127.0.0.1:6379" },
      { name: "REDIS_EXPORTER_SKIP_TLS_VERIFICATION", value: "true" },
      password,
    ]);
    expect(exporter!.ports).toEqual([{ name: "metrics", containerPort: 9121, protocol: "TCP" }]);
    expect(spec.template.spec!.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 999, fsGroup: 999 });
  });

  test("passes the policy pack's container rules, as the Deployments do", async () => {
    // The rules read a Deployment's pod template; a StatefulSet's has the same shape.
    const set = one(resources, "kubernetes:apps/v1:StatefulSet", "local-redis");
    for (const rule of [k8sNonRoot, k8sReadOnlyRoot, k8sNoEscalation, k8sResources, k8sProbes, k8sImagePinned])
      expect({
        rule: rule.name,
        found: await violations(rule, "kubernetes:apps/v1:Deployment", set.inputs),
      }).toEqual({ rule: rule.name, found: [] });
  });
});
