import { StatefulSet, type IStatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { Job, type IJob } from "kubernetes-models/batch/v1/Job";
import { Secret, type ISecret } from "kubernetes-models/v1/Secret";
import { Service, type IService } from "kubernetes-models/v1/Service";
import { InClusterObjectStore } from "../../../components/kubernetes/minio";
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

let resources: RecordedResource[];
beforeAll(async () => {
  resources = await recordResources();
  new InClusterObjectStore("local", {
    namespace: "opsbook",
    commonLabels: common,
    bucket: "opsbook-backups",
    storageGb: 5,
    cpu: 256,
    memory: 512,
    requestPercentOfLimits: 50,
    issuer: { name: "opsbook-ca", kind: "Issuer" },
    protect: false,
  });
  await settle();
});

const inputs = <T>(type: string, name: string) => one(resources, type, name).inputs as unknown as T;

describe("InClusterObjectStore", () => {
  test("every object is valid by the kubernetes-models schemas", () => {
    expect(() =>
      new StatefulSet(inputs<IStatefulSet>("kubernetes:apps/v1:StatefulSet", "local-minio")).validate(),
    ).not.toThrow();
    expect(() => new Job(inputs<IJob>("kubernetes:batch/v1:Job", "local-minio-bucket")).validate()).not.toThrow();
    expect(() => new Service(inputs<IService>("kubernetes:core/v1:Service", "local-minio")).validate()).not.toThrow();
    const { stringData: _masked, ...secret } = inputs<ISecret>("kubernetes:core/v1:Secret", "local-minio-root");
    expect(() => new Secret(secret).validate()).not.toThrow();
    expect(secret.type).toBe("kubernetes.io/basic-auth");
    expect(inputs<ISecret>("kubernetes:core/v1:Secret", "local-minio-root").stringData).toBe("[secret]");
  });

  test("MinIO serves S3 over TLS from cert-manager's certificate, on a retained volume", () => {
    const spec = inputs<IStatefulSet>("kubernetes:apps/v1:StatefulSet", "local-minio").spec!;
    expect(spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: "Retain", whenScaled: "Retain" });
    const [server] = spec.template.spec!.containers;
    expect(server!.args).toEqual(["server", "/data", "--address", ":9000", "--certs-dir", "/etc/minio/certs"]);
    expect(server!.readinessProbe).toEqual({
      httpGet: { path: "/minio/health/ready", port: "s3", scheme: "HTTPS" },
      periodSeconds: 10,
    });
    expect(spec.template.spec!.volumes!.find((v) => v.name === "certs")!.secret).toEqual({
      secretName: "minio-tls",
      defaultMode: 0o440,
      items: [
        { key: "tls.crt", path: "public.crt" },
        { key: "tls.key", path: "private.key" },
        { key: "ca.crt", path: "CAs/ca.crt" },
      ],
    });
    expect(one(resources, "kubernetes:cert-manager.io/v1:Certificate", "local-minio-tls").inputs.spec).toMatchObject({
      secretName: "minio-tls",
      dnsNames: ["minio", "minio.opsbook", "minio.opsbook.svc", "minio.opsbook.svc.cluster.local"],
    });
  });

  test("the Job creates the bucket versioned, trusting only the server's CA, and is no endpoint of the Service", () => {
    const job = inputs<IJob>("kubernetes:batch/v1:Job", "local-minio-bucket");
    const pod = job.spec!.template.spec!;
    const script = pod.containers[0]!.command![2]!;
    expect(script.split("\n")).toEqual([
      "set -eu",
      "mkdir -p /tmp/.mc/certs/CAs",
      "cp /etc/minio/certs/CAs/ca.crt /tmp/.mc/certs/CAs/",
      'mc alias set store "$ENDPOINT" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD"',
      "mc mb --ignore-existing store/opsbook-backups",
      "mc version enable store/opsbook-backups",
      'mc version info store/opsbook-backups | grep -q "versioning is enabled"',
    ]);
    expect(script).not.toContain("--insecure");
    expect(pod.containers[0]!.env![0]).toEqual({
      name: "ENDPOINT",
      value: "https://minio.opsbook.svc.cluster.local:9000",
    });
    const selector = inputs<IService>("kubernetes:core/v1:Service", "local-minio").spec!.selector!;
    const jobLabels = job.spec!.template.metadata!.labels!;
    expect(Object.entries(selector).every(([k, v]) => jobLabels[k] === v)).toBe(false);
    expect(one(resources, "kubernetes:batch/v1:Job", "local-minio-bucket").dependencies).toContain(
      one(resources, "kubernetes:apps/v1:StatefulSet", "local-minio").urn,
    );
  });

  test("the server passes the policy pack's container rules; the Job's container all but the probes", async () => {
    const set = one(resources, "kubernetes:apps/v1:StatefulSet", "local-minio").inputs;
    const job = inputs<IJob>("kubernetes:batch/v1:Job", "local-minio-bucket");
    const jobAsDeployment = { metadata: job.metadata, spec: { template: job.spec!.template } };
    for (const rule of [k8sNonRoot, k8sReadOnlyRoot, k8sNoEscalation, k8sResources, k8sProbes, k8sImagePinned]) {
      expect({ rule: rule.name, found: await violations(rule, "kubernetes:apps/v1:Deployment", set) }).toEqual({
        rule: rule.name,
        found: [],
      });
      if (rule !== k8sProbes)
        expect({
          rule: rule.name,
          found: await violations(rule, "kubernetes:apps/v1:Deployment", jobAsDeployment),
        }).toEqual({ rule: rule.name, found: [] });
    }
  });
});
