/**
 * The deploy roles' permissions against what the opsbook program declares: every AWS service of
 * the shipped stacks' plans has its actions, and every role the program makes is for a service the
 * deploy role may pass roles to. A resource type added to the program without its permissions fails
 * here instead of in the first real deploy.
 */
import { DEPLOY_PASSED_SERVICES, DEPLOY_SERVICES } from "../../bootstrap/policies";
import { type Plan, planStack } from "../helpers/stack";

/** IAM action prefixes of the Pulumi AWS modules the program uses. */
const ACTION_PREFIXES: Record<string, string[]> = {
  appautoscaling: ["application-autoscaling"],
  acm: ["acm"],
  // The cloudwatch module holds EventBridge's rules and targets too (events:*).
  cloudwatch: ["cloudwatch", "logs", "events"],
  ec2: ["ec2"],
  ecr: ["ecr"],
  ecs: ["ecs"],
  elasticache: ["elasticache"],
  lb: ["elasticloadbalancing"],
  rds: ["rds"],
  route53: ["route53"],
  scheduler: ["scheduler"],
  secretsmanager: ["secretsmanager"],
  sns: ["sns"],
  vpc: ["ec2"],
  wafv2: ["wafv2"],
};
/** Modules the deploy policy grants by their own statements. */
const OWN_STATEMENTS = new Set(["iam", "kms", "s3"]);

let plans: Plan[];
beforeAll(async () => {
  plans = await Promise.all(["staging", "production", "staging-k8s"].map(planStack));
});

test("every AWS module of the shipped plans has its actions in the deploy policy", () => {
  const modules = new Set(
    plans.flatMap((p) => p.resources.filter((r) => r.type.startsWith("aws:")).map((r) => r.type.split(/[:/]/)[1]!)),
  );
  expect(modules.size).toBeGreaterThan(10);
  const missing = [...modules].filter(
    (m) =>
      !OWN_STATEMENTS.has(m) &&
      !(ACTION_PREFIXES[m] ?? [`<no prefix known for ${m}>`]).every((a) =>
        (DEPLOY_SERVICES as readonly string[]).includes(a),
      ),
  );
  expect(missing).toEqual([]);
});

test("every role the program declares is for a service the deploy role may pass roles to", () => {
  const services = new Set(
    plans.flatMap((p) =>
      p.resources
        .filter((r) => r.type === "aws:iam/role:Role")
        .flatMap((r) =>
          (
            JSON.parse(r.inputs.assumeRolePolicy as string) as {
              Statement: Array<{ Principal: { Service?: string; Federated?: string } }>;
            }
          ).Statement.filter(
            // A role assumed with a web identity (the backup job's pods on EKS) is never passed.
            (s) => s.Principal.Federated === undefined,
          ).map((s) => s.Principal.Service ?? "<not a service>"),
        ),
    ),
  );
  expect(services.size).toBeGreaterThan(2);
  expect([...services].filter((s) => !(DEPLOY_PASSED_SERVICES as readonly string[]).includes(s))).toEqual([]);
});
