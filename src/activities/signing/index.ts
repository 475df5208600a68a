// Signed decisions, on the worker: the allowed signers file the worker trusts (never the client's or
// the spec's), read when a gate opens so that the list used is in the history, and the check of a
// statement's SSH signature against the keys of its principal.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseAllowedSigners } from '../../core/allowed-signers.js';
import { parseStatement } from '../../core/statement.js';
import { specDigest } from '../../signing/digest.js';
import { failure } from '../../core/failures.js';
import { verifySshSignature } from '../../signing/sshsig.js';
import type { SignerTrust, SigningActivities, VerifiedSignature } from '../types.js';

export interface SigningConfig {
  /** Path of the allowed signers file (TIDEGATE_ALLOWED_SIGNERS); none: no signer is trusted. */
  allowedSignersFile?: string;
  /** TIDEGATE_REQUIRE_SIGNED: every approve/reject must be signed, whatever the spec says. */
  requireSigned: boolean;
}

/** Reads the worker's signing configuration from its environment. */
export function signingConfigFromEnv(env: NodeJS.ProcessEnv): SigningConfig {
  const raw = (env.TIDEGATE_REQUIRE_SIGNED ?? '').trim().toLowerCase();
  if (!['', '0', 'false', 'no', '1', 'true', 'yes'].includes(raw)) throw new Error(`TIDEGATE_REQUIRE_SIGNED must be true or false (got "${env.TIDEGATE_REQUIRE_SIGNED}")`);
  return { ...(env.TIDEGATE_ALLOWED_SIGNERS ? { allowedSignersFile: env.TIDEGATE_ALLOWED_SIGNERS } : {}), requireSigned: ['1', 'true', 'yes'].includes(raw) };
}

export function createSigningActivities(config: SigningConfig): SigningActivities {
  return {
    async readSignerTrust(): Promise<SignerTrust> {
      if (!config.allowedSignersFile) return { source: 'none', sha256: '', signers: [], requireSigned: config.requireSigned };
      let bytes: Buffer;
      try {
        bytes = await readFile(config.allowedSignersFile);
      } catch (err) {
        // a mounted ConfigMap that is not there yet may come: retry (the default policy) rather than fail the gate
        const code = (err as NodeJS.ErrnoException | undefined)?.code;
        throw new Error(`cannot read the allowed signers file ${config.allowedSignersFile} (${code ?? String(err)})`, { cause: err });
      }
      const { signers, problems } = parseAllowedSigners(bytes.toString('utf8'));
      if (problems.length > 0) {
        throw failure('AllowedSignersInvalid', `the allowed signers file ${config.allowedSignersFile} has errors: ${problems.map((p) => `line ${p.line}: ${p.message}`).join('; ')}`);
      }
      return { source: config.allowedSignersFile, sha256: createHash('sha256').update(bytes).digest('hex'), signers, requireSigned: config.requireSigned };
    },
    async verifyStatement({ signed, keys, namespace, spec }): Promise<VerifiedSignature> {
      const verdict = verifySshSignature(signed.statement, signed.signature, namespace, keys);
      if (!verdict.ok) throw failure('SignatureInvalid', verdict.reason);
      if (spec !== undefined) {
        const parsed = parseStatement(signed.statement);
        const signedFor = parsed.ok ? parsed.value.spec : undefined;
        const runs = specDigest(spec);
        if (signedFor !== runs) throw failure('SignatureInvalid', `the start was signed for ${signedFor ? `another spec (sha256 ${signedFor.slice(0, 12)}…)` : 'no spec'}, not the one this release runs (sha256 ${runs.slice(0, 12)}…)`);
      }
      return { keyType: verdict.keyType, fingerprint: verdict.fingerprint };
    },
  };
}
