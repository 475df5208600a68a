// The digest a signed start vouches for: SHA-256 of the release spec's canonical text, computed the
// same way by the client that signs and the worker that verifies.
import { createHash } from 'node:crypto';
import { specText } from '../core/statement.js';

/** SHA-256 (hex) of a spec's canonical text (specText in src/core/statement.ts). */
export function specDigest(spec: unknown): string {
  return createHash('sha256').update(specText(spec)).digest('hex');
}
