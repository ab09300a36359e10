/*
 * Join tokens, as `coffer tokens create` prints them and `coffer-agent enroll --token`
 * takes them:  cj1.<id>.<secret>.<ca fingerprint>
 *   id           16 lower-case hex characters; the controller's key for the token row
 *   secret       43 base64url characters (32 random bytes); stored only as a SHA-256 hash
 *   fingerprint  43 base64url characters: SHA-256 of the controller CA certificate (DER).
 *                The agent refuses to send the token to a server whose chain does not end
 *                in that CA, so enrolling over the network needs no other trust.
 */

/** The parts of a join token. */
export interface JoinTokenParts {
  id: string;
  secret: string;
  caFingerprint: string;
}

const TOKEN_PATTERN = /^cj1\.([0-9a-f]{16})\.([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})$/;

/** Joins the parts into the printed token. */
export function formatJoinToken(parts: JoinTokenParts): string {
  return `cj1.${parts.id}.${parts.secret}.${parts.caFingerprint}`;
}

/** Splits a printed token; undefined when it is not one (wrong shape, truncated, extra text). */
export function parseJoinToken(text: string): JoinTokenParts | undefined {
  const match = TOKEN_PATTERN.exec(text.trim());
  if (!match) return undefined;
  return { id: match[1], secret: match[2], caFingerprint: match[3] };
}
