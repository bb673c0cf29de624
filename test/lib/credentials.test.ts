import { credentialLike, entropy, isCredentialName, maskCredentials } from "../../lib/credentials";

describe("credentials", () => {
  test.each([
    ["DB_PASSWORD", true],
    ["STRIPE_API_KEY", true],
    ["GITHUB_TOKEN", true],
    ["AWS_SECRET_ACCESS_KEY", true],
    ["OAUTH_CLIENT_SECRET", true],
    ["TOKEN_TTL_SECONDS", false],
    ["PASSWORD_MIN_LENGTH", false],
    ["PUBLIC_KEY_URL", false],
    ["LOG_LEVEL", false],
  ])("the name %s is a credential's: %s", (name, expected) => {
    expect(isCredentialName(name)).toBe(expected);
  });

  test("entropy is in bits per character", () => {
    expect(entropy("aaaa")).toBe(0);
    expect(entropy("abcd")).toBe(2);
  });

  // Each value is caught by its own format, not only by the catch-all for random-looking strings.
  test.each([
    ["redis://:s3cret@cache:6379", "a URL with a password"],
    ["https://user:pa55@example.com/", "a URL with a password"],
    ["ASIAY34FZKBOKMUTVV7A", "an AWS access key id"],
    ["github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "a GitHub token"],
    ["glpat-abcdefghij0123456789", "a GitLab token"],
    ["AIzaSyA1234567890abcdefghijklmnopqrstuv", "a Google API key"],
    [
      "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
      "a JSON web token",
    ],
    ["Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==", "a random-looking token"],
  ])("%s looks like %s", (value, kind) => {
    expect(credentialLike(value)).toBe(kind);
  });

  test.each([
    "https://example.com/path?q=1",
    "postgres://db.example.com:5432/app",
    "v2.14.0",
    "ip-10-0-1-23.eu-west-1.compute.internal",
    "the quick brown fox jumps over it",
    "SOME_FEATURE_FLAG_ENABLED_FOR_ALL",
    "550e8400-e29b-41d4-a716-446655440000",
  ])("%s does not", (value) => {
    expect(credentialLike(value)).toBeUndefined();
  });

  test("masking keeps the shape and replaces credentials at any depth", () => {
    expect(
      maskCredentials({ a: ["ok", "postgres://u:p@h/db"], b: { API_TOKEN: "plain", n: 3 }, c: "AKIAIOSFODNN7EXAMPLE" }),
    ).toEqual({ a: ["ok", "[masked]"], b: { API_TOKEN: "[masked]", n: 3 }, c: "[masked]" });
  });
});
