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
    // The formats the policy pack caught and the config did not, now one list: Stripe test keys,
    // Anthropic keys, a password URL inside a longer value, hex keys.
    ["sk_test_4eC39HqLyjWDarjtT1zdp7dc", "a Stripe secret key"],
    ["sk-ant-api03-abcdefghijklmnopqrstuv", "an API secret key (sk-...)"],
    ["--dsn=postgres://app:hunter2@db/app", "a URL with a password"],
    ["-----BEGIN OPENSSH PRIVATE KEY-----", "a PEM private key"],
    ["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "a random-looking token"],
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
    "1f86706c0b3a3b1e6a4f4b2f0d5f2e7d9c8b7a61",
    "opsbook-production-backups-20261201093000123400000001",
    "opsbook-production-backups-eb0d11e5",
    "sg-0123456789abcdef0",
    "subnet-0a1b2c3d4e5f60718",
  ])("%s does not", (value) => {
    expect(credentialLike(value)).toBeUndefined();
  });

  test("the entropy threshold can be tightened or loosened", () => {
    expect(
      credentialLike("q7Vx2LmP9sK4tR8wZ1nB6yC3", { minimumLength: 32, minimumBitsPerCharacter: 3.5 }),
    ).toBeUndefined();
    expect(credentialLike("a1b2c3d4e5", { minimumLength: 8, minimumBitsPerCharacter: 3 })).toBe(
      "a random-looking token",
    );
  });

  test("masking keeps the shape and replaces credentials at any depth", () => {
    expect(
      maskCredentials({ a: ["ok", "postgres://u:p@h/db"], b: { API_TOKEN: "plain", n: 3 }, c: "AKIAIOSFODNN7EXAMPLE" }),
    ).toEqual({ a: ["ok", "[masked]"], b: { API_TOKEN: "[masked]", n: 3 }, c: "[masked]" });
  });
});
