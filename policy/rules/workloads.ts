/**
 * Containers that cannot take over their host: not root, no added Linux capabilities, none of the
 * host's namespaces, on ECS and on Kubernetes (R-security-least-privilege). `ecs-task-not-privileged`
 * and `k8s-no-privilege-escalation` cover privileged mode; `k8s-non-root` covers Kubernetes users.
 */
import { type OpsbookPolicy, resourceRule, show } from "./common";
import { DEFINITIONS_PREVIEW, TASK_DEFINITION, eachContainer, taskRule } from "./ecs";
import { DEPLOYMENT } from "./kubernetes";

/** "0", "root", "0:0", "root:wheel": the user part names uid 0. */
export function isRootUser(user: string): boolean {
  const name = user.split(":")[0]!.trim();
  return name === "0" || name === "root";
}

/** Images whose default USER is root (Docker official images and AWS base images), by repository. */
const ROOT_IMAGES = [
  "nginx",
  "httpd",
  "node",
  "python",
  "ruby",
  "golang",
  "openjdk",
  "eclipse-temurin",
  "php",
  "postgres",
  "redis",
  "mysql",
  "ubuntu",
  "debian",
  "alpine",
  "busybox",
  "amazonlinux",
];

/** The repository's last path part, without the registry, tag or digest: "public.ecr.aws/docker/library/nginx:1" -> "nginx". */
export function repositoryName(image: string): string {
  const withoutDigest = image.split("@")[0]!;
  const last = withoutDigest.split("/").pop()!;
  return last.split(":")[0]!;
}

export const ecsTaskNonRoot = taskRule<{ rootImages: string[] }>({
  name: "ecs-task-non-root",
  description:
    'No container runs as root: `user` is never "0" or "root", and is set for images whose default user is root.',
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["ECS.1", "runbook 003"], // R-security-least-privilege
  preview: DEFINITIONS_PREVIEW,
  remediationSteps:
    'Set user to a non-root uid ("1000" or "1000:1000") on each container, and build the image with a USER that is not root.',
  config: {
    rootImages: {
      type: "array",
      items: { type: "string" },
      default: ROOT_IMAGES,
      description: "Repository names (last path part) of images that run as root unless `user` says otherwise.",
    },
  },
  check: (subject, config) =>
    eachContainer(subject, (c, label) => {
      if (typeof c.user === "string" && isRootUser(c.user)) {
        subject.report(
          `${label} user`,
          show(c.user),
          "a non-root uid",
          'set user: "1000:1000" (or the image\'s own unprivileged user)',
        );
      } else if (c.user === undefined && c.image && config.rootImages.includes(repositoryName(c.image))) {
        subject.report(
          `${label} user`,
          `not set, and image ${show(c.image)} runs as root by default`,
          "a non-root uid",
          `set user: "1000:1000" on the container, or use an image built with a non-root USER`,
        );
      }
    }),
});

export const ecsTaskNoAddedCapabilities = taskRule({
  name: "ecs-task-no-added-capabilities",
  description: "No container adds Linux capabilities (linuxParameters.capabilities.add).",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["CKV_K8S_25", "runbook 003"],
  preview: DEFINITIONS_PREVIEW,
  remediationSteps:
    "Remove linuxParameters.capabilities.add; do what needed the capability (a low port, ptrace) another way.",
  check: (subject) =>
    eachContainer(subject, (c, label) => {
      const added = c.linuxParameters?.capabilities?.add ?? [];
      if (added.length > 0)
        subject.report(
          `${label} linuxParameters.capabilities.add`,
          show(added),
          "none",
          "remove the added capabilities (listen on a port above 1024 instead of NET_BIND_SERVICE)",
        );
    }),
});

type TaskNamespaces = { networkMode?: string; pidMode?: string; ipcMode?: string };

export const ecsTaskNoHostNamespaces = resourceRule<TaskNamespaces>({
  name: "ecs-task-no-host-namespaces",
  description: 'No task shares the host\'s network, process or IPC namespace (networkMode, pidMode, ipcMode "host").',
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["ECS.1", "ECS.3"],
  types: [TASK_DEFINITION],
  kind: "ECS task definition",
  remediationSteps:
    'Use networkMode "awsvpc" (the only mode on Fargate) and leave pidMode and ipcMode unset, or "task" to share within the task.',
  check: ({ props, report }) => {
    for (const key of ["networkMode", "pidMode", "ipcMode"] as const) {
      if (props[key] === "host")
        report(
          key,
          '"host"',
          key === "networkMode" ? '"awsvpc"' : 'unset or "task"',
          key === "networkMode" ? 'set networkMode: "awsvpc"' : `remove ${key}: "host" (or set it to "task")`,
        );
    }
  },
});

interface PodSpec {
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
}

export const k8sNoHostNamespaces = resourceRule<{ spec?: { template?: { spec?: PodSpec } } }>({
  name: "k8s-no-host-namespaces",
  description: "No pod shares the node's network, process or IPC namespace (hostNetwork, hostPID, hostIPC).",
  enforcementLevel: "mandatory",
  severity: "high",
  sources: ["CKV_K8S_17", "CKV_K8S_18", "CKV_K8S_19", "Pod Security baseline"],
  types: [DEPLOYMENT],
  kind: "Deployment",
  remediationSteps: "Remove hostNetwork, hostPID and hostIPC from the pod spec (or set them to false).",
  check: ({ props, report }) => {
    const pod = props.spec?.template?.spec ?? {};
    for (const key of ["hostNetwork", "hostPID", "hostIPC"] as const) {
      if (pod[key] === true) report(`pod ${key}`, "true", "false or unset", `remove ${key}: true from the pod spec`);
    }
  },
});

export const workloadPolicies: OpsbookPolicy[] = [
  ecsTaskNonRoot,
  ecsTaskNoAddedCapabilities,
  ecsTaskNoHostNamespaces,
  k8sNoHostNamespaces,
];
