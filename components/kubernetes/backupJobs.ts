/**
 * The backup job and the restore drill as Kubernetes CronJobs (R-backup-job-k8s): the same image,
 * variables and schedule as the ECS scheduled tasks, on the cluster the services run on.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as In from "@pulumi/kubernetes/types/input";
import * as pulumi from "@pulumi/pulumi";
import { JOB_RETRY } from "../../lib/backupContract";
import type { ServiceConnection } from "../../lib/connection";
import { parseHhmm } from "../../lib/time";
import type { Weekday } from "../backup/settings";
import { allowEgressSpec, type EgressDestination, jobPodSpec, type MountedSecretFile } from "./manifests";
import type { KubernetesSettings } from "./settings";
import { connectionSecret } from "./secrets";

/** The jobs, each the image's command of the same name (jobs/backup/src/cli.ts). */
export const BACKUP_JOBS = ["backup", "restore-drill"] as const;
export type BackupJob = (typeof BACKUP_JOBS)[number];

/** Name of the jobs' service account, which the IAM role's trust policy names. */
export const BACKUP_SERVICE_ACCOUNT = "opsbook-backup";

/** The annotation EKS reads to hand a service account's pods the role's credentials (IRSA). */
export const IRSA_ROLE_ANNOTATION = "eks.amazonaws.com/role-arn";

const DAYS: Record<Weekday, number> = { SUN: 0, MON: 1, TUE: 2, WED: 3, THU: 4, FRI: 5, SAT: 6 };

/** "02:30" (daily) or "06:00" on "SUN" -> a CronJob schedule, "30 2 * * *" or "0 6 * * 0". */
export function cronSchedule(at: string, day?: Weekday): string {
  const minutes = parseHhmm(at);
  return `${minutes % 60} ${Math.floor(minutes / 60)} * * ${day === undefined ? "*" : DAYS[day]}`;
}

/** What one job's CronJob is built from. */
export interface BackupCronJobArgs {
  /** The image command the CronJob runs, and its container's name. */
  job: string;
  /** Cron expression in `timeZone` ({@link cronSchedule}). */
  schedule: string;
  /** IANA zone of the schedule: the stack's `timeZone` (CronJob `timeZone`, Kubernetes 1.27+). */
  timeZone: string;
  /** `repository:tag` of the backup job's image. */
  image: pulumi.Input<string>;
  /** Labels of the CronJob, its Jobs and their pods. */
  labels: Record<string, string>;
  serviceAccountName: pulumi.Input<string>;
  /** Plain variables: the database's libpq settings, the bucket, the metrics' namespace. */
  environment: Record<string, pulumi.Input<string>>;
  /** The Secrets with the credentials, each variable one key of the same name. */
  secrets: Array<{ name: pulumi.Input<string>; keys: string[] }>;
  /** Files from Secrets, e.g. the in-cluster stores' CA certificate. */
  files?: MountedSecretFile[];
  /** `backup.maxRunMinutes`: a run still going after this is stopped and counts as failed. */
  maxRunMinutes: number;
  resources: In.core.v1.ResourceRequirements;
}

/**
 * One job's CronJob: never two runs at once (a second dump would compete with the first for the
 * database), two retries as the ECS schedule's retry policy, a run missed by more than an hour
 * skipped (as EventBridge Scheduler drops an event older than an hour), the last three good and
 * failed Jobs kept for `kubectl logs`, and the Deployments' pod security.
 */
export function backupCronJobSpec(a: BackupCronJobArgs): In.batch.v1.CronJobSpec {
  return {
    schedule: a.schedule,
    timeZone: a.timeZone,
    concurrencyPolicy: "Forbid",
    startingDeadlineSeconds: JOB_RETRY.maxAgeSeconds,
    successfulJobsHistoryLimit: 3,
    failedJobsHistoryLimit: 3,
    jobTemplate: {
      metadata: { labels: a.labels },
      spec: {
        backoffLimit: JOB_RETRY.attempts,
        activeDeadlineSeconds: a.maxRunMinutes * 60,
        template: {
          metadata: { labels: a.labels },
          spec: jobPodSpec({
            command: a.job,
            image: a.image,
            environment: a.environment,
            secrets: a.secrets,
            resources: a.resources,
            serviceAccountName: a.serviceAccountName,
            files: a.files,
          }),
        },
      },
    },
  };
}

/** The jobs on the cluster: where, as whom, with what, and when. */
export interface BackupCronJobsArgs {
  /** The namespace the services live in (its name, once created). */
  namespace: pulumi.Input<string>;
  /** Labels every object of the stack carries. */
  commonLabels: Record<string, string>;
  image: pulumi.Input<string>;
  /** IAM role the service account's pods assume (its trust names {@link BACKUP_SERVICE_ACCOUNT}). */
  roleArn: pulumi.Input<string>;
  /** The database's connection: its settings as plain variables, its credentials into the Secret. */
  connection: ServiceConnection;
  /** The job's own plain variables (bucket, prefix, region, metrics namespace). */
  environment: Record<string, pulumi.Input<string>>;
  timeZone: string;
  schedules: Record<BackupJob, string>;
  maxRunMinutes: number;
  resources: In.core.v1.ResourceRequirements;
  /** The cluster's DNS pods, and the database on its port: the jobs' only destinations besides HTTPS. */
  egress: { dns: KubernetesSettings["dns"]; destinations: EgressDestination[] };
}

/**
 * The nightly backup and the weekly restore drill as CronJobs (R-backup-job-k8s, R-backup-window,
 * R-backup-restore-test): a service account annotated with the job's IAM role, a Secret with the
 * database credentials, a NetworkPolicy that lets the jobs reach DNS, the database and HTTPS (S3,
 * CloudWatch, STS) only, and one CronJob per job.
 */
export class BackupCronJobs extends pulumi.ComponentResource {
  readonly serviceAccount: k8s.core.v1.ServiceAccount;
  readonly secret: k8s.core.v1.Secret;
  readonly cronJobs: Record<BackupJob, k8s.batch.v1.CronJob>;
  readonly egressPolicy: k8s.networking.v1.NetworkPolicy;

  constructor(name: string, args: BackupCronJobsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("opsbook:kubernetes:BackupCronJobs", name, {}, opts);
    const child = { parent: this };
    const labels = { ...args.commonLabels, "app.kubernetes.io/name": "opsbook-backup" };
    const metadata = (objectName: string) => ({ name: objectName, namespace: args.namespace, labels });

    this.serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-backup`,
      {
        metadata: { ...metadata(BACKUP_SERVICE_ACCOUNT), annotations: { [IRSA_ROLE_ANNOTATION]: args.roleArn } },
        automountServiceAccountToken: false,
      },
      child,
    );
    const { secret, keys } = connectionSecret(
      `${name}-backup-env`,
      metadata(`${BACKUP_SERVICE_ACCOUNT}-env`),
      [args.connection],
      child,
    );
    this.secret = secret;
    const environment = { ...args.connection.environment, ...args.environment };
    const cronJob = (job: BackupJob) =>
      new k8s.batch.v1.CronJob(
        `${name}-${job}`,
        {
          metadata: metadata(`opsbook-${job}`),
          spec: backupCronJobSpec({
            job,
            schedule: args.schedules[job],
            timeZone: args.timeZone,
            image: args.image,
            labels: { ...labels, "app.kubernetes.io/component": job },
            serviceAccountName: this.serviceAccount.metadata.name,
            environment,
            secrets: [{ name: secret.metadata.name, keys }],
            maxRunMinutes: args.maxRunMinutes,
            resources: args.resources,
          }),
        },
        child,
      );
    this.cronJobs = { backup: cronJob("backup"), "restore-drill": cronJob("restore-drill") };
    this.egressPolicy = new k8s.networking.v1.NetworkPolicy(
      `${name}-backup-allow-egress`,
      {
        metadata: metadata(`${BACKUP_SERVICE_ACCOUNT}-allow-egress`),
        spec: allowEgressSpec(
          { "app.kubernetes.io/name": "opsbook-backup" },
          args.egress.dns,
          args.egress.destinations,
        ),
      },
      child,
    );
    this.registerOutputs({});
  }
}
