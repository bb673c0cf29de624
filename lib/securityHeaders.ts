/**
 * The response headers' values the load balancer sets and the policy pack requires
 * (R-tls-hsts, R-security-headers): one definition for both.
 */

/** One year, in seconds: the HSTS max-age the listener sends by default, the least the policy accepts and the preload lists require. */
export const HSTS_ONE_YEAR_SECONDS = 31536000;

/** The X-Frame-Options values that keep other sites from framing the app. */
export const FRAME_OPTIONS = ["DENY", "SAMEORIGIN"] as const;
