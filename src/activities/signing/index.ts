// Signed decisions, on the worker: the allowed signers file the worker trusts (never the client's or
// the spec's), read when a gate opens so that the list used is in the history, and the check of a
// statement's SSH signature against the keys of its principal — or of its OIDC ID token against the
// issuers the worker trusts.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseAllowedSigners } from '../../core/allowed-signers.js';
import { parseStatement } from '../../core/statement.js';
import { specDigest } from '../../signing/digest.js';
import { failure } from '../../core/failures.js';
import { verifySshSignature } from '../../signing/sshsig.js';
import { verifyIdToken } from '../../signing/oidc.js';
import type { TrustedIssuer } from '../../core/approval.js';
import type { SignerTrust, SigningActivities, VerifiedSignature } from '../types.js';

export interface SigningConfig {
  /** Path of the allowed signers file (TIDEGATE_ALLOWED_SIGNERS); none: no signer is trusted. */
  allowedSignersFile?: string;
  /** TIDEGATE_REQUIRE_SIGNED: every approve/reject must be signed, whatever the spec says. */
  requireSigned: boolean;
  /** TIDEGATE_OIDC_ISSUERS: identity providers whose ID tokens may prove a decision. */
  oidcIssuers?: TrustedIssuer[];
}

/**
 * TIDEGATE_OIDC_ISSUERS: a JSON list of {issuer, audience, principals, jwksUri?, principalClaim?},
 * `principals` being whom the issuer may prove (allowed-signers patterns). Throws naming the first
 * problem (the worker does not start with a trust list it cannot read).
 *
 *   '[{"issuer":"https://idp.example","audience":"tidegate","principals":["*@example.com"]}]'
 *     → [{issuer: 'https://idp.example', audience: 'tidegate', principals: ['*@example.com']}]
 *   '[{"issuer":"idp"}]' → throws 'TIDEGATE_OIDC_ISSUERS[0].issuer must be an http(s) URL …'
 */
export function parseOidcIssuers(text: string): TrustedIssuer[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error('TIDEGATE_OIDC_ISSUERS must be JSON: a list of {"issuer": URL, "audience": client id, "principals": [patterns], "jwksUri"?: URL, "principalClaim"?: claim}');
  }
  if (!Array.isArray(raw)) throw new Error('TIDEGATE_OIDC_ISSUERS must be a JSON list of {"issuer", "audience", "principals"}');
  return raw.map((entry: unknown, i) => {
    const at = `TIDEGATE_OIDC_ISSUERS[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new Error(`${at} must be an object {"issuer", "audience", "principals"}`);
    const e = entry as Record<string, unknown>;
    const unknown = Object.keys(e).filter((k) => !['issuer', 'audience', 'principals', 'jwksUri', 'principalClaim'].includes(k));
    if (unknown.length) throw new Error(`${at} has unknown fields: ${unknown.join(', ')}`);
    const url = (key: string): string | undefined => {
      const v = e[key];
      if (v === undefined && key === 'jwksUri') return undefined;
      if (typeof v !== 'string' || !/^https?:\/\/\S+$/.test(v)) throw new Error(`${at}.${key} must be an http(s) URL, got ${JSON.stringify(v)}`);
      return v;
    };
    const issuer = url('issuer') ?? '';
    const jwksUri = url('jwksUri');
    if (typeof e.audience !== 'string' || e.audience === '') throw new Error(`${at}.audience must be the client id the tokens are issued for`);
    if (e.principalClaim !== undefined && (typeof e.principalClaim !== 'string' || e.principalClaim === '')) throw new Error(`${at}.principalClaim must be a claim name, like email`);
    const principals = e.principals;
    if (!Array.isArray(principals) || principals.length === 0 || !principals.every((p): p is string => typeof p === 'string' && p.trim() !== '')) {
      throw new Error(`${at}.principals must list whom the issuer may prove, as allowed-signers patterns (like ["*@example.com"])`);
    }
    return { issuer, audience: e.audience, principals, ...(jwksUri ? { jwksUri } : {}), ...(typeof e.principalClaim === 'string' ? { principalClaim: e.principalClaim } : {}) };
  });
}

/** Reads the worker's signing configuration from its environment. */
export function signingConfigFromEnv(env: NodeJS.ProcessEnv): SigningConfig {
  const raw = (env.TIDEGATE_REQUIRE_SIGNED ?? '').trim().toLowerCase();
  if (!['', '0', 'false', 'no', '1', 'true', 'yes'].includes(raw)) throw new Error(`TIDEGATE_REQUIRE_SIGNED must be true or false (got "${env.TIDEGATE_REQUIRE_SIGNED}")`);
  const oidcIssuers = env.TIDEGATE_OIDC_ISSUERS?.trim() ? parseOidcIssuers(env.TIDEGATE_OIDC_ISSUERS) : [];
  return {
    ...(env.TIDEGATE_ALLOWED_SIGNERS ? { allowedSignersFile: env.TIDEGATE_ALLOWED_SIGNERS } : {}),
    requireSigned: ['1', 'true', 'yes'].includes(raw),
    ...(oidcIssuers.length ? { oidcIssuers } : {}),
  };
}

export function createSigningActivities(config: SigningConfig): SigningActivities {
  return {
    async readSignerTrust(): Promise<SignerTrust> {
      const oidc = config.oidcIssuers?.length ? { oidc: config.oidcIssuers } : {};
      if (!config.allowedSignersFile) return { source: 'none', sha256: '', signers: [], ...oidc, requireSigned: config.requireSigned };
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
      return { source: config.allowedSignersFile, sha256: createHash('sha256').update(bytes).digest('hex'), signers, ...oidc, requireSigned: config.requireSigned };
    },
    async verifyStatement({ signed, keys, namespace, spec }): Promise<VerifiedSignature> {
      let verified: VerifiedSignature;
      if (signed.kind === 'oidc') {
        // `keys` names the issuers the workflow found trusted for this principal
        const token = await verifyIdToken(signed.statement, signed.signature, (config.oidcIssuers ?? []).filter((i) => keys.includes(i.issuer)));
        if (!token.ok) {
          // an issuer that cannot be reached now is retried (the activity's policy); a bad token is final
          if (token.retryable) throw new Error(token.reason);
          throw failure('SignatureInvalid', token.reason);
        }
        const { issuer, kid, alg, subject, jwk } = token.value;
        const publicJwk = Object.fromEntries(Object.entries(jwk).filter((e): e is [string, string | string[]] => typeof e[1] === 'string' || Array.isArray(e[1])));
        verified = { kind: 'oidc', keyType: `oidc ${alg}`, fingerprint: `${issuer}#${kid}`, oidc: { issuer, kid, subject, jwk: publicJwk } };
      } else {
        const verdict = verifySshSignature(signed.statement, signed.signature, namespace, keys);
        if (!verdict.ok) throw failure('SignatureInvalid', verdict.reason);
        verified = { keyType: verdict.keyType, fingerprint: verdict.fingerprint };
      }
      if (spec !== undefined) {
        const parsed = parseStatement(signed.statement);
        const signedFor = parsed.ok ? parsed.value.spec : undefined;
        const runs = specDigest(spec);
        if (signedFor !== runs) throw failure('SignatureInvalid', `the start was signed for ${signedFor ? `another spec (sha256 ${signedFor.slice(0, 12)}…)` : 'no spec'}, not the one this release runs (sha256 ${runs.slice(0, 12)}…)`);
      }
      return verified;
    },
  };
}
