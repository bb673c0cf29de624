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

/**
 * Well-known formats of keys and tokens, with what they are: the one list the config checks and the
 * policy pack share (R-config-secrets-masked, R-secret-storage). Where two formats disagreed, the
 * one catching more real keys without catching the shipped stacks' values was kept: PEM keys of
 * any algorithm, GitHub tokens of every prefix from 30 characters, Stripe test keys as well as live
 * ones, JWTs with short segments, a password in a URL anywhere in the value.
 */
const KNOWN_FORMATS: ReadonlyArray<readonly [RegExp, string]> = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, "a PEM private key"],
  [/\b(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/, "an AWS access key id"],
  [/\b(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})/, "a GitHub token"],
  [/\bglpat-[A-Za-z0-9_-]{20,}/, "a GitLab token"],
  [/\bxox[abposr]-[A-Za-z0-9-]{10,}/, "a Slack token"],
  [/\b[sr]k_(live|test)_[A-Za-z0-9]{10,}/, "a Stripe secret key"],
  // OpenAI (sk-, sk-proj-) and Anthropic (sk-ant-) keys: the character class takes the infixes too.
  [/\bsk-[A-Za-z0-9_-]{20,}/, "an API secret key (sk-...)"],
  [/\bAIza[A-Za-z0-9_-]{35}\b/, "a Google API key"],
  [/\bnpm_[A-Za-z0-9]{36}\b/, "an npm token"],
  [/\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/, "a JSON web token"],
  // scheme://user:password@host anywhere in the value (an empty user is allowed, `redis://:pw@host`);
  // a user without a password (https://user@host) is not a credential.
  [/\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:[^/\s@]+@/i, "a URL with a password"],
];

/** Values that look random but are identifiers: UUIDs and 40-character commit ids. */
const IDENTIFIER = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{40})$/i;

/**
 * Generated names and resource ids, not tokens however long: words joined by `-` or `_`, each all
 * letters or all digits (`opsbook-production-backups-2026...`), or after a leading word, short
 * lower-case hex parts (`sg-0123456789abcdef0`, `opsbook-production-backups-eb0d11e5`). A random
 * token mixes letters and digits in a long part, or starts with one.
 */
const NAME = /^([A-Za-z]+|[0-9]+)([-_]([A-Za-z]+|[0-9]+))*$|^[A-Za-z]+([-_]([A-Za-z]+|[0-9]+|[0-9a-f]{1,17}))+$/;

/** Shannon entropy of a string, in bits per character. */
export function entropy(value: string): number {
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) bits -= (n / value.length) * Math.log2(n / value.length);
  return bits;
}

/** How random a value must look to count as a token: the policy pack's config may tighten or loosen it. */
export interface EntropyThreshold {
  /** Fewest characters. */
  minimumLength: number;
  /** Fewest bits of Shannon entropy per character. */
  minimumBitsPerCharacter: number;
}

/** 20 characters at 3.5 bits: English words and paths stay well below that, generated keys above. */
export const DEFAULT_ENTROPY: EntropyThreshold = { minimumLength: 20, minimumBitsPerCharacter: 3.5 };

/**
 * A long single token of key characters (no dots, colons or spaces, so no URL, host name or
 * version), with letters and digits mixed and close to random; or 32 and more hex digits (a hex
 * key) other than a commit id.
 */
function looksRandom(value: string, threshold: EntropyThreshold): boolean {
  if (!/^[A-Za-z0-9+/=_-]+$/.test(value) || value.startsWith("/") || IDENTIFIER.test(value) || NAME.test(value))
    return false;
  if (/^[0-9a-f]{32,}$/i.test(value) && /[0-9]/.test(value) && /[a-f]/i.test(value)) return true;
  if (value.length < threshold.minimumLength) return false;
  const digits = (value.match(/[0-9]/g) ?? []).length;
  const letters = (value.match(/[A-Za-z]/g) ?? []).length;
  if (digits < 2 || letters < 2) return false;
  return entropy(value) >= threshold.minimumBitsPerCharacter;
}

/**
 * What makes `value` look like a credential ("a GitHub token", ..., "a random-looking token"), or
 * undefined when it looks like an ordinary value. Never returns any part of the value, so a
 * message can say what was found without printing it.
 */
export function credentialLike(value: string, threshold: EntropyThreshold = DEFAULT_ENTROPY): string | undefined {
  for (const [pattern, what] of KNOWN_FORMATS) if (pattern.test(value)) return what;
  if (looksRandom(value, threshold)) return "a random-looking token";
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
