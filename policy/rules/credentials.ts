/**
 * Credentials recognised by their value, whatever the variable is called: the shapes of well-known
 * keys and tokens, URLs that carry a password, and long random-looking strings. Pure; calibrated so
 * that the shipped stacks' values (host names, ports, ARNs, bucket names, feature labels) pass.
 */

/** A recognisable credential shape. */
interface Shape {
  /** What the message calls it, e.g. "an AWS access key id". */
  kind: string;
  pattern: RegExp;
}

const SHAPES: readonly Shape[] = [
  { kind: "an AWS access key id", pattern: /\b(AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b/ },
  { kind: "a private key", pattern: /-----BEGIN ([A-Z]+ )?PRIVATE KEY-----/ },
  { kind: "a GitHub token", pattern: /\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b/ },
  { kind: "a GitLab token", pattern: /\bglpat-[A-Za-z0-9_-]{20,}\b/ },
  { kind: "a Slack token", pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/ },
  { kind: "a Stripe secret key", pattern: /\b[sr]k_(live|test)_[A-Za-z0-9]{16,}\b/ },
  { kind: "an OpenAI or Anthropic API key", pattern: /\bsk-(ant-|proj-)?[A-Za-z0-9_-]{20,}\b/ },
  { kind: "a Google API key", pattern: /\bAIza[0-9A-Za-z_-]{35}\b/ },
  { kind: "an npm token", pattern: /\bnpm_[A-Za-z0-9]{36}\b/ },
  { kind: "a JSON Web Token", pattern: /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/ },
  // scheme://user:password@host; a user without a password (https://user@host) is not a credential.
  { kind: "a URL with a password", pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:[^/\s@]+@[^\s]+/i },
];

/** Shannon entropy of the text, in bits per character. */
export function entropy(text: string): number {
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) bits -= (n / text.length) * Math.log2(n / text.length);
  return bits;
}

/** How random a value must look to count as a secret. */
export interface EntropyThreshold {
  /** Fewest characters. */
  minimumLength: number;
  /** Fewest bits of entropy per character. */
  minimumBitsPerCharacter: number;
}

export const DEFAULT_ENTROPY: EntropyThreshold = { minimumLength: 24, minimumBitsPerCharacter: 4 };

/**
 * A single token of base64 / base64url / hex characters that looks random: long enough, with high
 * entropy, mixing upper case, lower case and digits (or 32+ hex digits). Host names, ARNs, paths
 * and generated bucket names (lower case and digits, with dots, colons or slashes) are not tokens.
 */
function looksRandom(value: string, threshold: EntropyThreshold): boolean {
  if (/^[0-9a-f]{32,}$/i.test(value) && /[0-9]/.test(value) && /[a-f]/i.test(value)) return true;
  if (value.length < threshold.minimumLength || !/^[A-Za-z0-9+/=_-]+$/.test(value)) return false;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/].filter((c) => c.test(value)).length;
  return classes === 3 && entropy(value) >= threshold.minimumBitsPerCharacter;
}

/**
 * What kind of credential the value looks like ("an AWS access key id", ..., "a high-entropy
 * string"), or undefined. Never returns any part of the value: messages must not print it.
 */
export function credentialKind(value: unknown, threshold: EntropyThreshold = DEFAULT_ENTROPY): string | undefined {
  if (typeof value !== "string" || value.length === 0) return undefined;
  const shape = SHAPES.find((s) => s.pattern.test(value));
  if (shape) return shape.kind;
  return looksRandom(value, threshold) ? "a high-entropy string" : undefined;
}
