/**
 * The ECS stacks' HTTPS listener sends the security headers at the defaults of
 * `opsbook:loadBalancer.securityHeaders` (R-security-headers, R-tls-hsts), and no CORS header: no
 * stack file names a browser origin. Asserted by each ECS stack's test file.
 */
import { one } from "../helpers/mocks";
import type { Plan } from "../helpers/stack";

export function securityHeaders(plan: () => Plan, environment: string): void {
  test("the HTTPS listener adds HSTS, nosniff, DENY framing and the CSP, drops the Server header, sends no CORS header", () => {
    const inputs = one(plan().resources, "aws:lb/listener:Listener", `${environment}-https`).inputs;
    expect(Object.fromEntries(Object.entries(inputs).filter(([k]) => k.startsWith("routingHttpResponse")))).toEqual({
      routingHttpResponseStrictTransportSecurityHeaderValue: "max-age=31536000; includeSubDomains",
      routingHttpResponseXContentTypeOptionsHeaderValue: "nosniff",
      routingHttpResponseXFrameOptionsHeaderValue: "DENY",
      routingHttpResponseContentSecurityPolicyHeaderValue:
        "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'self'",
      routingHttpResponseServerEnabled: false,
    });
  });
}
