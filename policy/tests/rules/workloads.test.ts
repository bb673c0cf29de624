import * as w from "../../rules/workloads";
import { TASK_DEFINITION } from "../../rules/ecs";
import { DEPLOYMENT } from "../../rules/kubernetes";
import { violations } from "../helpers";

const container = {
  name: "api",
  image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/opsbook/api:1.0.0",
  readonlyRootFilesystem: true,
  linuxParameters: { initProcessEnabled: true },
};

function task(change: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return {
    family: "prod-api",
    networkMode: "awsvpc",
    requiresCompatibilities: ["FARGATE"],
    containerDefinitions: JSON.stringify([{ ...container, ...change }]),
    ...extra,
  };
}

describe("ecs-task-non-root", () => {
  test("passes the app's own image without a user, and a non-root user on a root image", async () => {
    expect(await violations(w.ecsTaskNonRoot, TASK_DEFINITION, task())).toEqual([]);
    expect(await violations(w.ecsTaskNonRoot, TASK_DEFINITION, task({ image: "nginx:1.27", user: "101:101" }))).toEqual(
      [],
    );
  });

  test.each(["0", "root", "0:0", "root:wheel"])("reports user %s", async (user) => {
    expect(await violations(w.ecsTaskNonRoot, TASK_DEFINITION, task({ user }), { name: "prod-api" })).toEqual([
      `ECS task definition "prod-api": container "api" user is ${JSON.stringify(user)}; required: a non-root uid. Fix: set user: "1000:1000" (or the image's own unprivileged user).`,
    ]);
  });

  test("reports an unset user on an image known to run as root, by repository, whatever the registry", async () => {
    expect(
      await violations(
        w.ecsTaskNonRoot,
        TASK_DEFINITION,
        task({ image: "public.ecr.aws/docker/library/nginx:1.27@sha256:" + "a".repeat(64) }),
        { name: "edge" },
      ),
    ).toEqual([
      `ECS task definition "edge": container "api" user is not set, and image "public.ecr.aws/docker/library/nginx:1.27@sha256:${"a".repeat(64)}" runs as root by default; required: a non-root uid. Fix: set user: "1000:1000" on the container, or use an image built with a non-root USER.`,
    ]);
    expect(
      await violations(w.ecsTaskNonRoot, TASK_DEFINITION, task({ image: "nginx:1.27" }), {
        config: { rootImages: [] },
      }),
    ).toEqual([]);
  });
});

describe("ecs-task-no-added-capabilities", () => {
  test("passes no added capabilities, and dropped ones", async () => {
    expect(await violations(w.ecsTaskNoAddedCapabilities, TASK_DEFINITION, task())).toEqual([]);
    expect(
      await violations(
        w.ecsTaskNoAddedCapabilities,
        TASK_DEFINITION,
        task({ linuxParameters: { capabilities: { drop: ["ALL"], add: [] } } }),
      ),
    ).toEqual([]);
  });

  test("reports added capabilities", async () => {
    expect(
      await violations(
        w.ecsTaskNoAddedCapabilities,
        TASK_DEFINITION,
        task({ linuxParameters: { capabilities: { add: ["SYS_PTRACE", "NET_ADMIN"] } } }),
        { name: "prod-api" },
      ),
    ).toEqual([
      'ECS task definition "prod-api": container "api" linuxParameters.capabilities.add is ["SYS_PTRACE","NET_ADMIN"]; required: none. Fix: remove the added capabilities (listen on a port above 1024 instead of NET_BIND_SERVICE).',
    ]);
  });
});

describe("ecs-task-no-host-namespaces", () => {
  test("passes awsvpc with no pid or ipc mode, and task-scoped modes", async () => {
    expect(await violations(w.ecsTaskNoHostNamespaces, TASK_DEFINITION, task())).toEqual([]);
    expect(
      await violations(w.ecsTaskNoHostNamespaces, TASK_DEFINITION, task({}, { pidMode: "task", ipcMode: "task" })),
    ).toEqual([]);
  });

  test("reports each host namespace", async () => {
    expect(
      await violations(
        w.ecsTaskNoHostNamespaces,
        TASK_DEFINITION,
        task({}, { networkMode: "host", pidMode: "host", ipcMode: "host" }),
        { name: "prod-api" },
      ),
    ).toEqual([
      'ECS task definition "prod-api": networkMode is "host"; required: "awsvpc". Fix: set networkMode: "awsvpc".',
      'ECS task definition "prod-api": pidMode is "host"; required: unset or "task". Fix: remove pidMode: "host" (or set it to "task").',
      'ECS task definition "prod-api": ipcMode is "host"; required: unset or "task". Fix: remove ipcMode: "host" (or set it to "task").',
    ]);
  });
});

describe("k8s-no-host-namespaces", () => {
  const deployment = (pod: Record<string, unknown>) => ({
    metadata: { name: "api", namespace: "opsbook" },
    spec: { template: { spec: { containers: [{ name: "api", image: "api:1.0.0" }], ...pod } } },
  });

  test("passes a pod without host namespaces, or with them false", async () => {
    expect(await violations(w.k8sNoHostNamespaces, DEPLOYMENT, deployment({}))).toEqual([]);
    expect(await violations(w.k8sNoHostNamespaces, DEPLOYMENT, deployment({ hostNetwork: false }))).toEqual([]);
  });

  test("reports hostNetwork, hostPID and hostIPC", async () => {
    expect(
      await violations(
        w.k8sNoHostNamespaces,
        DEPLOYMENT,
        deployment({ hostNetwork: true, hostPID: true, hostIPC: true }),
        { name: "api" },
      ),
    ).toEqual([
      'Deployment "api": pod hostNetwork is true; required: false or unset. Fix: remove hostNetwork: true from the pod spec.',
      'Deployment "api": pod hostPID is true; required: false or unset. Fix: remove hostPID: true from the pod spec.',
      'Deployment "api": pod hostIPC is true; required: false or unset. Fix: remove hostIPC: true from the pod spec.',
    ]);
  });
});
