import {
  allowRules,
  describeSeconds,
  MAINTENANCE_PRIORITY,
  MAX_BODY_CHARACTERS,
  maintenancePage,
  RULE_CONDITION_VALUES,
} from "../../lib/maintenance";

const api = { name: "api", hosts: [], paths: ["/api/*"] };
const web = { name: "web", hosts: [], paths: [] };
const cidrs = (n: number) => Array.from({ length: n }, (_, i) => `198.51.100.${i}/32`);

describe("allowRules (R-ops-maintenance-mode)", () => {
  test("no allowed CIDRs, no rules: everyone gets the page", () => {
    expect(allowRules([api, web], [])).toEqual([]);
  });

  test("routed services come first, the default service last, numbered from 1 below the page's priority", () => {
    expect(allowRules([web, api], ["203.0.113.0/24"])).toEqual([
      { service: "api", priority: 1, hosts: [], paths: ["/api/*"], sourceIps: ["203.0.113.0/24"] },
      { service: "web", priority: 2, hosts: [], paths: [], sourceIps: ["203.0.113.0/24"] },
    ]);
    expect(MAINTENANCE_PRIORITY).toBe(99);
  });

  test("CIDRs are split so that no rule holds more than 5 condition values", () => {
    const rules = allowRules([api, web], cidrs(9));
    // api: 1 path + 4 CIDRs per rule; web: 5 CIDRs per rule.
    expect(rules.map((r) => [r.service, r.sourceIps.length])).toEqual([
      ["api", 4],
      ["api", 4],
      ["api", 1],
      ["web", 5],
      ["web", 4],
    ]);
    for (const r of rules)
      expect(r.hosts.length + r.paths.length + r.sourceIps.length).toBeLessThanOrEqual(RULE_CONDITION_VALUES);
    // Every CIDR reaches every service.
    for (const service of ["api", "web"])
      expect(rules.filter((r) => r.service === service).flatMap((r) => r.sourceIps)).toEqual(cidrs(9));
    expect(rules.map((r) => r.priority)).toEqual([1, 2, 3, 4, 5]);
  });

  test("a route with 5 values is split into one rule per host and path, each with room for CIDRs", () => {
    const admin = { name: "admin", hosts: ["admin.example.com", "ops.example.com"], paths: ["/a/*", "/b/*", "/c/*"] };
    const rules = allowRules([admin, web], ["203.0.113.0/24"]);
    expect(rules.filter((r) => r.service === "admin").map((r) => [r.hosts, r.paths])).toEqual([
      [["admin.example.com"], ["/a/*"]],
      [["admin.example.com"], ["/b/*"]],
      [["admin.example.com"], ["/c/*"]],
      [["ops.example.com"], ["/a/*"]],
      [["ops.example.com"], ["/b/*"]],
      [["ops.example.com"], ["/c/*"]],
    ]);
    for (const r of rules)
      expect(r.hosts.length + r.paths.length + r.sourceIps.length).toBeLessThanOrEqual(RULE_CONDITION_VALUES);
  });
});

describe("maintenancePage", () => {
  test("says what is happening and when to retry, and reloads itself then (an ALB cannot send Retry-After)", () => {
    const page = maintenancePage("Back at 14:00 UTC.", 600);
    expect(page).toContain('<meta http-equiv="refresh" content="600">');
    expect(page).toContain("<p>Back at 14:00 UTC.</p>");
    expect(page).toContain("Please try again in 10 minutes");
    expect(page.length).toBeLessThanOrEqual(MAX_BODY_CHARACTERS);
  });

  test("the message is text, never markup", () => {
    expect(maintenancePage(`<script>alert("x")</script> & more`, 60)).toContain(
      "<p>&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; more</p>",
    );
  });

  test("waits read as a person would say them", () => {
    expect([30, 60, 90, 600, 3600, 7200].map(describeSeconds)).toEqual([
      "30 seconds",
      "1 minute",
      "90 seconds",
      "10 minutes",
      "1 hour",
      "2 hours",
    ]);
  });
});
