import { MaintenanceMode } from "../../../components/service/maintenance";
import { maintenanceSettings, maintenanceStackRules, servicesSettings } from "../../../components/service/settings";
import { maintenancePage } from "../../../lib/maintenance";
import { ConfigError, parseConfig } from "../../../stacks/config";
import { ofType, one, recordResources, settle } from "../../helpers/mocks";
import { settingsProblems } from "../../helpers/settings";

const LISTENER = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/prod/abc/def";
const services = [
  { name: "api", hosts: [], paths: ["/api/*"], targetGroupArn: "tg-api" },
  { name: "web", hosts: [], paths: [], targetGroupArn: "tg-web" },
];

describe("maintenance settings (R-ops-maintenance-mode)", () => {
  test("off by default, nobody allowed, a 10-minute retry", () => {
    expect(maintenanceSettings.parse(undefined)).toEqual({
      enabled: false,
      allow: [],
      message: "We are carrying out planned maintenance and will be back shortly.",
      retryAfterSeconds: 600,
    });
  });

  test.each<[string, Record<string, unknown>, string[]]>([
    [
      "a host address without a prefix",
      { allow: ["203.0.113.7"] },
      ["allow[0]: an IPv4 CIDR block with its network address, e.g. 203.0.113.0/24 or 198.51.100.7/32"],
    ],
    [
      "host bits in a block",
      { allow: ["203.0.113.7/24"] },
      ["allow[0]: an IPv4 CIDR block with its network address, e.g. 203.0.113.0/24 or 198.51.100.7/32"],
    ],
    [
      "an IPv6 block (the load balancer is IPv4)",
      { allow: ["2001:db8::/32"] },
      ["allow[0]: an IPv4 CIDR block with its network address, e.g. 203.0.113.0/24 or 198.51.100.7/32"],
    ],
    [
      "a repeated block",
      { allow: ["203.0.113.0/24", "203.0.113.0/24"] },
      ["allow[1]: a CIDR block the list does not already have"],
    ],
    ["a retry under 30 s", { retryAfterSeconds: 5 }, ["retryAfterSeconds: a whole number from 30 to 86400 s"]],
    ["an empty message", { message: "" }, ["message: a non-empty sentence for the maintenance page"]],
  ])("rejects %s", (_, input, problems) => {
    expect(settingsProblems(maintenanceSettings, input)).toEqual(problems);
  });

  test("a message too long for a fixed response (1024 characters) names the page's length", () => {
    const message = "x".repeat(800);
    const length = maintenancePage(message, 600).length;
    expect(settingsProblems(maintenanceSettings, { message })).toEqual([
      `message: a shorter message: the page would be ${length} characters, a load balancer fixed response takes at most 1024`,
    ]);
  });

  const problems = (maintenance: Record<string, unknown>, platform = "ecs") => {
    const found: string[] = [];
    maintenanceStackRules(
      maintenanceSettings.parse(maintenance),
      {
        platform,
        services: servicesSettings.parse([
          { name: "api", image: "r.example.com/api", tag: "1", port: 8080, paths: ["/api/*"] },
          { name: "web", image: "r.example.com/web", tag: "1", port: 3000 },
        ]),
      },
      (path, value, allowed) => found.push(`${path.join(".")}: ${JSON.stringify(value)}: ${allowed}`),
    );
    return found;
  };

  test("on Kubernetes there is no load balancer to put the page on", () => {
    expect(problems({ enabled: true }, "kubernetes")).toEqual([
      "enabled: true: false on the kubernetes platform: maintenance mode is a rule on the ECS platform's load balancer (the cluster's ingress controller serves here)",
    ]);
    expect(problems({ enabled: false, allow: ["203.0.113.0/24"] }, "kubernetes")).toEqual([]);
  });

  test("the allow rules must fit in the load balancer's 100 rules with the page and the service rules: 97 here", () => {
    const blocks = (n: number) => Array.from({ length: n }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`);
    // 4 CIDRs per api rule, 5 per web rule: 215 blocks need 54 + 43 = 97 rules, 216 need 98.
    expect(problems({ enabled: true, allow: blocks(215) })).toEqual([]);
    const [tooMany] = problems({ enabled: true, allow: blocks(216) });
    expect(tooMany).toMatch(
      /^allow: \["10\.0\.0\.0\/24",.*: fewer CIDR blocks: these need 98 listener rules \(a rule takes 5 condition values, hosts and paths included\), at most 97 fit below the maintenance rule's priority 99 with 2 service rules; merge blocks into wider ones$/,
    );
  });

  test("a stack file's problem names the key, the value and the pulumi config fix", () => {
    const raw = {
      "aws:region": "eu-west-1",
      "opsbook:environment": "staging",
      "opsbook:services": JSON.stringify([
        { name: "api", image: "registry.example.com/api", tag: "1.2.3", port: 8080, paths: ["/api/*"] },
        { name: "web", image: "registry.example.com/web", tag: "1.2.3", port: 3000 },
      ]),
      "opsbook:domain": JSON.stringify({ certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/abc-123" }),
      "opsbook:backup": JSON.stringify({ image: "registry.example.com/backup-job", tag: "1.0.0" }),
      "opsbook:maintenance": JSON.stringify({ enabled: true, allow: ["203.0.113.7"] }),
    };
    let error: unknown;
    try {
      parseConfig("staging", raw);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      expect.objectContaining({
        key: "opsbook:maintenance.allow[0]",
        allowed: "an IPv4 CIDR block with its network address, e.g. 203.0.113.0/24 or 198.51.100.7/32",
      }),
    ]);
    expect((error as ConfigError).message).toContain('opsbook:maintenance.allow[0]: got "203.0.113.7"');
    expect((error as ConfigError).message).toContain("pulumi config set --path 'opsbook:maintenance.allow[0]'");
  });
});

describe("MaintenanceMode", () => {
  test("answers 503 with the page at priority 99, ahead of every service rule, to everyone not allowed", async () => {
    const resources = await recordResources();
    new MaintenanceMode("prod", {
      allow: [],
      message: "Back soon.",
      retryAfterSeconds: 600,
      listenerArn: LISTENER,
      services,
    });
    await settle();
    expect(ofType(resources, "aws:lb/listenerRule:ListenerRule").map((r) => r.name)).toEqual(["prod-maintenance"]);
    expect(one(resources, "aws:lb/listenerRule:ListenerRule", "prod-maintenance").inputs).toEqual({
      listenerArn: LISTENER,
      priority: 99,
      actions: [
        {
          type: "fixed-response",
          fixedResponse: {
            statusCode: "503",
            contentType: "text/html",
            messageBody: maintenancePage("Back soon.", 600),
          },
        },
      ],
      conditions: [{ pathPattern: { values: ["/*"] } }],
    });
  });

  test("forwards the allowed CIDRs to each service by its own route, before the page", async () => {
    const resources = await recordResources();
    new MaintenanceMode("prod", {
      allow: ["203.0.113.0/24", "198.51.100.7/32"],
      message: "Back soon.",
      retryAfterSeconds: 600,
      listenerArn: LISTENER,
      services,
    });
    await settle();
    const rules = ofType(resources, "aws:lb/listenerRule:ListenerRule");
    expect(rules.map((r) => [r.name, r.inputs.priority])).toEqual([
      ["prod-maintenance", 99],
      ["prod-maintenance-allow-1", 1],
      ["prod-maintenance-allow-2", 2],
    ]);
    expect(one(resources, "aws:lb/listenerRule:ListenerRule", "prod-maintenance-allow-1").inputs).toEqual({
      listenerArn: LISTENER,
      priority: 1,
      actions: [{ type: "forward", targetGroupArn: "tg-api" }],
      conditions: [
        { sourceIp: { values: ["203.0.113.0/24", "198.51.100.7/32"] } },
        { pathPattern: { values: ["/api/*"] } },
      ],
    });
    expect(one(resources, "aws:lb/listenerRule:ListenerRule", "prod-maintenance-allow-2").inputs).toMatchObject({
      actions: [{ type: "forward", targetGroupArn: "tg-web" }],
      conditions: [{ sourceIp: { values: ["203.0.113.0/24", "198.51.100.7/32"] } }],
    });
    // The page waits for the allow rules, so an allowed client never sees it mid-update.
    expect(one(resources, "aws:lb/listenerRule:ListenerRule", "prod-maintenance").dependencies).toEqual(
      expect.arrayContaining(rules.filter((r) => r.name !== "prod-maintenance").map((r) => r.urn)),
    );
  });
});
