/**
 * Telling credentials from ordinary config values (R-secret-storage, R-config-secrets-masked): by the
 * variable's name and by the value itself, so a password pasted under an innocent name is caught
 * too. Calibrated to let URLs without a password, versions, host names, paths, UUIDs, commit ids and
 * words through: a value is judged credential-like only for a known key format, a URL carrying a
 * password, a PEM block or a long random-looking token.
 */

/** Name endings that mean the value is a credential (`DB_PASSWORD`, `STRIPE_API_KEY`, `GITHUB_TOKEN`). */
const CREDENTIAL_NAME =
  /(^|_)(PASSWORD|PASSWD|PWD|PASS|SECRET|SECRETS|TOKEN|APIKEY|API_KEY|ACCESS_KEY|SECRET_KEY|PRIVATE_KEY|SIGNING_KEY|ENCRYPTION_KEY|AUTH_KEY|CREDENTIALS?|CLIENT_SECRET|SECRET_ACCESS_KEY|SESSION_TOKEN|WEBHOOK_SECRET)$/;

/** Whether an environment variable's name says its value is a credential. */
export function isCredentialName(name: string): boolean {
  return CREDENTIAL_NAME.test(name.toUpperCase());
}

/** Well-known formats of keys and tokens, with what they are. */
const KNOWN_FORMATS: ReadonlyArray<readonly [RegExp, string]> = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, "a PEM private key"],
  [/\b(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/, "an AWS access key id"],
  [/\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}/, "a GitHub token"],
  [/\bgithub_pat_[A-Za-z0-9_]{30,}/, "a GitHub token"],
  [/\bglpat-[A-Za-z0-9_-]{20,}/, "a GitLab token"],
  [/\bxox[abposr]-[A-Za-z0-9-]{10,}/, "a Slack token"],
  [/\b(sk|rk)_live_[A-Za-z0-9]{10,}/, "a Stripe live key"],
  [/\bsk-(proj-)?[A-Za-z0-9_-]{20,}/, "an API secret key (sk-...)"],
  [/\bAIza[A-Za-z0-9_-]{35}\b/, "a Google API key"],
  [/\bnpm_[A-Za-z0-9]{36}\b/, "an npm token"],
  [/\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/, "a JSON web token"],
];

/** `scheme://user:password@host`: a password in a URL (an empty user is allowed, `redis://:pw@host`). */
const URL_WITH_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:[^/\s@]+@/i;

/** Values that look random but are identifiers: UUIDs and 40-character commit ids. */
const IDENTIFIER = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{40})$/i;

/** Shannon entropy of a string, in bits per character. */
export function entropy(value: string): number {
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) bits -= (n / value.length) * Math.log2(n / value.length);
  return bits;
}

/**
 * A long single token of key characters (no dots, colons or spaces, so no URL, host name or
 * version), with letters and digits mixed and close to random: 20 or more characters at 3.5 bits
 * per character or more. English words and paths stay well below that.
 */
function looksRandom(value: string): boolean {
  if (value.length < 20 || !/^[A-Za-z0-9+/=_-]+$/.test(value) || value.startsWith("/")) return false;
  if (IDENTIFIER.test(value)) return false;
  const digits = (value.match(/[0-9]/g) ?? []).length;
  const letters = (value.match(/[A-Za-z]/g) ?? []).length;
  if (digits < 2 || letters < 2) return false;
  return entropy(value) >= 3.5;
}

/** What makes `value` look like a credential, or undefined when it looks like an ordinary value. */
export function credentialLike(value: string): string | undefined {
  for (const [pattern, what] of KNOWN_FORMATS) if (pattern.test(value)) return what;
  if (URL_WITH_PASSWORD.test(value)) return "a URL with a password";
  if (looksRandom(value)) return "a random-looking token";
  return undefined;
}

/** What a secret or a credential-like value prints as. */
export const MASKED = "[masked]";

/**
 * `value` with every string that looks like a credential replaced by `[masked]`, at any depth, so a
 * problem report can show the shape of what was given without the secret in it.
 */
export function maskCredentials(value: unknown): unknown {
  if (typeof value === "string") return credentialLike(value) ? MASKED : value;
  if (Array.isArray(value)) return value.map(maskCredentials);
  if (value !== null && typeof value === "object")
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        isCredentialName(k) && typeof v === "string" ? MASKED : maskCredentials(v),
      ]),
    );
  return value;
}
