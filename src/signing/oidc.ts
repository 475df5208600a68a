// A signed decision can be proven by an OIDC ID token instead of an SSH signature: the person signs in
// at their company's identity provider with nonce = statementNonce(statement), so the provider's
// signature binds their identity to that one statement. This module checks such a token: its
// signature against the issuer's published keys (JWKS), its issuer, audience and lifetime, its nonce
// and the principal it names; online for the worker, and offline against a kept JWKS for auditors.
import { createHash } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify, type JSONWebKeySet, type JWK, type JWTPayload } from 'jose';
import { parseStatement } from '../core/statement.js';

/** An identity provider whose ID tokens may prove a statement. */
export interface OidcIssuer {
  /** The issuer identifier, exactly as the tokens' `iss` claim says it (e.g. https://accounts.google.com). */
  issuer: string;
  /** The client id tidegate is registered with: the tokens' `aud` must contain it. */
  audience: string;
  /** Where the issuer publishes its keys; absent: read from `${issuer}/.well-known/openid-configuration`. */
  jwksUri?: string;
  /** The claim that names the person, compared with the statement's principal. Default `email`. */
  principalClaim?: string;
}

/** What a verified token proves: who signed in where, and with which key the provider signed. */
export interface VerifiedToken {
  issuer: string;
  kid: string;
  alg: string;
  /** The principal claim's value, equal to the statement's principal. */
  principal: string;
  /** The token's `sub`: the provider's stable id for the person. */
  subject: string;
  /** The public key that verified the signature, as JSON (public fields only), for the record. */
  jwk: JWK;
}

/** A refusal. `retryable`: the issuer could not be reached, so the token is not known bad; try again. */
export interface OidcFailure {
  ok: false;
  reason: string;
  retryable?: boolean;
}

export type OidcVerdict = { ok: true; value: VerifiedToken } | OidcFailure;

/** The signature algorithms accepted: public-key ones only (never `none`, never a shared-secret HS*). */
export const OIDC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
/** Clock skew tolerated between the issuer's clock and ours, for `exp` and `iat`. */
export const OIDC_CLOCK_TOLERANCE_S = 5 * 60;
/** How long a fetched JWKS (and a discovered jwks_uri) is used before it is fetched again. */
export const JWKS_CACHE_MS = 5 * 60_000;
/** How long a fetch of a discovery document or a JWKS may take. */
export const OIDC_FETCH_TIMEOUT_MS = 10_000;

/**
 * The nonce an ID token must carry to prove `statement`: base64url (no padding) of SHA-256 of the
 * statement's UTF-8 bytes. The client signs in with it; the verifier recomputes it.
 *
 *   statementNonce('hello') → 'LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ'
 *   statementNonce(canonicalJson(statement)) → 43 characters of [A-Za-z0-9_-]
 */
export function statementNonce(statement: string): string {
  return createHash('sha256').update(statement, 'utf8').digest('base64url');
}

type Result<T> = { ok: true; value: T } | OidcFailure;
const fail = (reason: string, retryable?: boolean): OidcFailure => (retryable ? { ok: false, reason, retryable } : { ok: false, reason });

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const iso = (seconds: number): string => {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? `${seconds} (seconds since the epoch)` : date.toISOString();
};
const list = (xs: readonly string[]): string => (xs.length === 0 ? '(none)' : xs.join(', '));
const messageOf = (err: unknown): string => (isRecord(err) && typeof err.message === 'string' ? err.message : String(err));

/** What the token says before anything is verified: only used to find the key and the issuer. */
interface ReadToken {
  token: string;
  principal: string;
  nonce: string;
  alg: (typeof OIDC_ALGORITHMS)[number];
  kid: string;
  iss: string;
}

/** The statement's principal, and the token's shape, alg, kid and iss: every check that needs no key. */
function readToken(statement: string, rawToken: string): Result<ReadToken> {
  const parsed = parseStatement(statement);
  if (!parsed.ok) return fail(parsed.reason);
  const token = rawToken.trim();
  if (token.split('.').length !== 3) return fail('the ID token is malformed: a JWT is three base64url parts separated by dots (header.payload.signature)');
  let header: Record<string, unknown>;
  let payload: JWTPayload;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    return fail('the ID token is malformed: its header is not base64url-encoded JSON');
  }
  try {
    payload = decodeJwt(token);
  } catch {
    return fail('the ID token is malformed: its payload is not a base64url-encoded JSON object');
  }
  const alg = header.alg;
  if (alg === 'none') return fail('the ID token is unsigned (alg "none"): an ID token must be signed by its issuer');
  if (typeof alg === 'string' && /^HS\d+$/.test(alg)) {
    return fail(`the ID token is signed with ${alg}, a shared secret, not the issuer's private key: accepted algorithms are ${OIDC_ALGORITHMS.join(', ')}`);
  }
  if (typeof alg !== 'string' || !(OIDC_ALGORITHMS as readonly string[]).includes(alg)) {
    return fail(`the ID token's algorithm ${JSON.stringify(alg ?? null)} is not accepted: accepted algorithms are ${OIDC_ALGORITHMS.join(', ')}`);
  }
  const kid = header.kid;
  if (typeof kid !== 'string' || kid === '') return fail("the ID token's header has no kid (key id), so the issuer's signing key cannot be chosen");
  if (typeof payload.iss !== 'string' || payload.iss === '') return fail('the ID token has no iss (issuer) claim');
  return { ok: true, value: { token, principal: parsed.value.principal, nonce: statementNonce(statement), alg: alg as ReadToken['alg'], kid, iss: payload.iss } };
}

const KTY: Record<string, string> = { RS: 'RSA', PS: 'RSA', ES: 'EC', Ed: 'OKP' };
const PUBLIC_FIELDS: Record<string, readonly string[]> = { RSA: ['n', 'e'], EC: ['crv', 'x', 'y'], OKP: ['crv', 'x'] };

/** The key's public fields only (a JWKS that wrongly holds private fields never leaks them onward). */
function publicJwk(key: JWK): JWK {
  const out: Record<string, string> = {};
  for (const field of ['kty', 'kid', 'use', 'alg', ...(PUBLIC_FIELDS[key.kty ?? ''] ?? [])]) {
    const value = (key as Record<string, unknown>)[field];
    if (typeof value === 'string') out[field] = value;
  }
  return out as JWK;
}

/** The key in `jwks` with this kid that can check an `alg` signature; undefined when there is no such kid. */
function selectKey(jwks: JSONWebKeySet, kid: string, alg: string, where: string): Result<JWK> | undefined {
  const named = jwks.keys.filter((k) => k.kid === kid && (k.use === undefined || k.use === 'sig'));
  if (named.length === 0) return undefined;
  const kty = KTY[alg.slice(0, 2)];
  const usable = named.find((k) => k.kty === kty && (k.alg === undefined || k.alg === alg));
  if (usable) return { ok: true, value: publicJwk(usable) };
  const k = named[0] as JWK;
  return fail(`the key "${kid}" of ${where} (kty ${k.kty ?? 'missing'}, alg ${k.alg ?? 'any'}) cannot check the ID token's ${alg} signature`);
}

const unknownKid = (kid: string, jwks: JSONWebKeySet, where: string): OidcFailure =>
  fail(`${where} has no signing key with kid "${kid}" (its kids: ${list(jwks.keys.map((k) => k.kid ?? '(none)'))}): the token was not signed by a key the issuer publishes`);

interface Expected {
  issuer?: string;
  audience?: string;
  principalClaim: string;
  now: Date;
}

/** The signature (with `jwk`) and every claim: audience, lifetime, nonce, principal. */
async function verifyWithKey(read: ReadToken, jwk: JWK, where: string, expected: Expected): Promise<OidcVerdict> {
  let key: Awaited<ReturnType<typeof importJWK>>;
  try {
    key = await importJWK(jwk, read.alg);
  } catch (err) {
    return fail(`the key "${read.kid}" of ${where} cannot check a ${read.alg} signature: ${messageOf(err)}`);
  }
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(read.token, key, {
      algorithms: [read.alg],
      ...(expected.issuer !== undefined ? { issuer: expected.issuer } : {}),
      ...(expected.audience !== undefined ? { audience: expected.audience } : {}),
      currentDate: expected.now,
      clockTolerance: OIDC_CLOCK_TOLERANCE_S,
      requiredClaims: ['sub', 'iat', 'exp'],
    }));
  } catch (err) {
    return fail(claimFailure(err, read, where, expected));
  }
  const now = Math.floor(expected.now.getTime() / 1000);
  const iat = payload.iat as number; // required, and a number (jose checks both)
  if (iat > now + OIDC_CLOCK_TOLERANCE_S) return fail(`the ID token was issued in the future (iat ${iso(iat)}; the time is ${expected.now.toISOString()}, with ${OIDC_CLOCK_TOLERANCE_S / 60} min tolerance)`);
  if (payload.nonce === undefined) return fail(`the ID token has no nonce claim, so it is not bound to a statement: sign in with nonce ${read.nonce} (statementNonce of the statement)`);
  if (payload.nonce !== read.nonce) return fail(`the ID token's nonce is for another statement (nonce ${JSON.stringify(payload.nonce)}, this statement's is ${read.nonce}): sign in again for this statement`);
  const claim = expected.principalClaim;
  const named = payload[claim];
  if (typeof named !== 'string' || named === '') return fail(`the ID token has no ${claim} claim to name the signer`);
  // an email the issuer has not verified names nobody: only email_verified true counts
  if (claim === 'email' && payload.email_verified !== true) return fail(`the ID token's email ${named} is not verified by the issuer (email_verified: ${JSON.stringify(payload.email_verified ?? null)})`);
  if (named !== read.principal) return fail(`the ID token's ${claim} is ${named}, but the statement's principal is ${read.principal}`);
  if (typeof payload.sub !== 'string') return fail('the ID token has no sub (subject) claim');
  return { ok: true, value: { issuer: read.iss, kid: read.kid, alg: read.alg, principal: named, subject: payload.sub, jwk } };
}

/** A reason for what jwtVerify threw: the signature, a missing claim, the audience, the lifetime. By jose's error codes. */
function claimFailure(err: unknown, read: ReadToken, where: string, expected: Expected): string {
  const e = isRecord(err) ? err : {};
  if (e.code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') {
    return `the ID token's signature does not verify with key "${read.kid}" of ${where}: the token was changed after it was signed, or signed by another key`;
  }
  const payload = decodeJwt(read.token); // already read once by readToken
  if (e.code === 'ERR_JWT_EXPIRED' && e.claim === 'exp') {
    return `the ID token expired at ${iso(Number(payload.exp))} (checked at ${expected.now.toISOString()}, with ${OIDC_CLOCK_TOLERANCE_S / 60} min tolerance): sign in again`;
  }
  if (e.code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && typeof e.claim === 'string') {
    if (e.reason === 'missing') return `the ID token has no ${e.claim} claim`;
    if (e.reason === 'invalid') return `the ID token's ${e.claim} claim is not a number`;
    if (e.claim === 'aud') return `the ID token is for audience ${list(([] as unknown[]).concat(payload.aud ?? []).map(String))}, not ${expected.audience ?? '(none)'} (the client id configured for ${read.iss})`;
    if (e.claim === 'iss') return `the ID token's issuer is ${read.iss}, not ${expected.issuer ?? '(none)'}`;
    if (e.claim === 'nbf') return `the ID token is not valid before ${iso(Number(payload.nbf))} (the time is ${expected.now.toISOString()})`;
  }
  return `the ID token cannot be checked: ${messageOf(err)}`;
}

// --- fetching keys -------------------------------------------------------------------------------

const jwksCache = new Map<string, { jwks: JSONWebKeySet; at: number }>();
const discoveryCache = new Map<string, { jwksUri: string; at: number }>();

/** http only to a loopback address (a local issuer in tests); elsewhere keys come over https. */
function checkUrl(uri: string, what: string): OidcFailure | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return fail(`the ${what} URL ${JSON.stringify(uri)} is not a URL`);
  }
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) return undefined;
  return fail(`the ${what} URL ${uri} is not https: keys fetched over plain HTTP could be forged on the way (only loopback addresses may use http)`);
}

/** What went wrong on the way: an errno code (ECONNREFUSED, ENOTFOUND, …), a timeout, or the message. Duck-typed: fetch's errors may come from another realm. */
function networkError(err: unknown): string {
  const e = isRecord(err) ? err : {};
  if (e.name === 'TimeoutError') return `no answer within ${OIDC_FETCH_TIMEOUT_MS / 1000} s`;
  const cause = isRecord(e.cause) ? e.cause : {};
  if (typeof cause.code === 'string') return cause.code;
  if (typeof cause.message === 'string') return cause.message;
  if (typeof e.code === 'string') return e.code;
  return typeof e.message === 'string' ? e.message : String(err);
}

/** GET `uri` as JSON with a timeout; a failure to reach it (or a 5xx / 429) is retryable. */
async function fetchJson(uri: string, what: string): Promise<Result<unknown>> {
  const bad = checkUrl(uri, what);
  if (bad) return bad;
  let text: string;
  try {
    const res = await fetch(uri, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(OIDC_FETCH_TIMEOUT_MS) });
    if (!res.ok) {
      await res.body?.cancel();
      const retryable = res.status >= 500 || res.status === 429;
      return fail(`cannot fetch the ${what} ${uri}: HTTP ${res.status}${retryable ? ': try again later' : ''}`, retryable);
    }
    text = await res.text();
  } catch (err) {
    return fail(`cannot fetch the ${what} ${uri}: ${networkError(err)}: the issuer is unreachable from here; try again`, true);
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return fail(`the ${what} ${uri} is not JSON`);
  }
}

function asJwks(value: unknown, uri: string): Result<JSONWebKeySet> {
  if (!isRecord(value) || !Array.isArray(value.keys) || !value.keys.every(isRecord)) return fail(`the JWKS ${uri} is not a JSON Web Key Set ({"keys": [ … ]})`);
  return { ok: true, value: { keys: value.keys as JWK[] } };
}

type FetchJwks = (uri: string) => Promise<JSONWebKeySet>;

async function fetchJwks(uri: string, custom: FetchJwks | undefined): Promise<Result<JSONWebKeySet>> {
  let got: Result<unknown>;
  if (custom) {
    try {
      got = { ok: true, value: await custom(uri) };
    } catch (err) {
      got = fail(`cannot fetch the JWKS ${uri}: ${networkError(err)}: try again`, true);
    }
  } else {
    got = await fetchJson(uri, 'JWKS');
  }
  if (!got.ok) return got;
  const jwks = asJwks(got.value, uri);
  if (jwks.ok) jwksCache.set(uri, { jwks: jwks.value, at: Date.now() });
  return jwks;
}

/** The issuer's jwks_uri: configured, or from its discovery document (cached like a JWKS). */
async function jwksUriOf(config: OidcIssuer): Promise<Result<string>> {
  if (config.jwksUri !== undefined) return { ok: true, value: config.jwksUri };
  const cached = discoveryCache.get(config.issuer);
  if (cached && Date.now() - cached.at < JWKS_CACHE_MS) return { ok: true, value: cached.jwksUri };
  const uri = `${config.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  const doc = await fetchJson(uri, 'OpenID discovery document');
  if (!doc.ok) return doc;
  if (!isRecord(doc.value) || typeof doc.value.jwks_uri !== 'string') return fail(`the OpenID discovery document ${uri} has no jwks_uri`);
  if (doc.value.issuer !== config.issuer) return fail(`the OpenID discovery document ${uri} is for issuer ${JSON.stringify(doc.value.issuer)}, not ${config.issuer}`);
  discoveryCache.set(config.issuer, { jwksUri: doc.value.jwks_uri, at: Date.now() });
  return { ok: true, value: doc.value.jwks_uri };
}

/**
 * Does `token`, an OIDC ID token from one of `issuers`, prove `statement`? Its signature is checked
 * with the issuer's published key of the token's kid (the JWKS, cached 5 min and fetched again once
 * when the kid is unknown, so a rotated key works at once), then its issuer, audience, lifetime (at
 * `options.now`, 5 min tolerance), its nonce (statementNonce(statement)) and its principal claim
 * against the statement's principal. Every failure is a verdict with a reason, never a throw; when
 * the issuer could not be reached the verdict says `retryable: true`.
 *
 *   verifyIdToken(statement, tokenForIt, [{issuer: 'https://idp.example', audience: 'tidegate'}])
 *     → {ok: true, value: {issuer: 'https://idp.example', kid: 'k1', alg: 'RS256', principal: 'alice@example.com', subject: '248289761001', jwk: {kty: 'RSA', n: …, e: 'AQAB', kid: 'k1'}}}
 *   the same token for another statement → {ok: false, reason: "the ID token's nonce is for another statement (…): sign in again for this statement"}
 *   the issuer down → {ok: false, reason: 'cannot fetch the OpenID discovery document https://idp.example/.well-known/openid-configuration: ECONNREFUSED: …', retryable: true}
 */
export async function verifyIdToken(
  statement: string,
  token: string,
  issuers: readonly OidcIssuer[],
  options: { now?: Date; fetchJwks?: FetchJwks } = {},
): Promise<OidcVerdict> {
  const read = readToken(statement, token);
  if (!read.ok) return read;
  const config = issuers.find((i) => i.issuer === read.value.iss);
  if (!config) return fail(`the ID token's issuer ${read.value.iss} is not a configured OIDC issuer (configured: ${list(issuers.map((i) => i.issuer))})`);
  const uri = await jwksUriOf(config);
  if (!uri.ok) return uri;
  const where = `the issuer ${config.issuer}'s JWKS ${uri.value}`;
  const cached = jwksCache.get(uri.value);
  let fresh = false;
  let jwks: JSONWebKeySet;
  if (cached && Date.now() - cached.at < JWKS_CACHE_MS) {
    jwks = cached.jwks;
  } else {
    const got = await fetchJwks(uri.value, options.fetchJwks);
    if (!got.ok) return got;
    [jwks, fresh] = [got.value, true];
  }
  let key = selectKey(jwks, read.value.kid, read.value.alg, where);
  if (!key && !fresh) {
    // an unknown kid in a cached JWKS: the issuer may have rotated its keys since
    const got = await fetchJwks(uri.value, options.fetchJwks);
    if (!got.ok) return got;
    jwks = got.value;
    key = selectKey(jwks, read.value.kid, read.value.alg, where);
  }
  if (!key) return unknownKid(read.value.kid, jwks, where);
  if (!key.ok) return key;
  return verifyWithKey(read.value, key.value, where, { issuer: config.issuer, audience: config.audience, principalClaim: config.principalClaim ?? 'email', now: options.now ?? new Date() });
}

/**
 * verifyIdToken offline, against a JWKS kept with the decision: for an auditor re-checking a decision
 * from history, where `at` is when the decision was accepted (the token's lifetime is judged then).
 * `issuer` and `audience`, when given, must match the token; the principal claim defaults to `email`.
 *
 *   verifyIdTokenWithKeys(statement, token, keptJwks, {issuer: 'https://idp.example', audience: 'tidegate', at: acceptedAt})
 *     → {ok: true, value: {…}} though the token expired long ago
 *   the same with at = now → {ok: false, reason: 'the ID token expired at … (checked at …, with 5 min tolerance): sign in again'}
 */
export async function verifyIdTokenWithKeys(
  statement: string,
  token: string,
  jwks: JSONWebKeySet,
  options: { issuer?: string; audience?: string; principalClaim?: string; at: Date },
): Promise<OidcVerdict> {
  const read = readToken(statement, token);
  if (!read.ok) return read;
  if (options.issuer !== undefined && read.value.iss !== options.issuer) return fail(`the ID token's issuer is ${read.value.iss}, not ${options.issuer}`);
  const set = asJwks(jwks, 'given');
  if (!set.ok) return set;
  const where = `the given JWKS`;
  const key = selectKey(set.value, read.value.kid, read.value.alg, where);
  if (!key) return unknownKid(read.value.kid, set.value, where);
  if (!key.ok) return key;
  return verifyWithKey(read.value, key.value, where, {
    ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
    ...(options.audience !== undefined ? { audience: options.audience } : {}),
    principalClaim: options.principalClaim ?? 'email',
    now: options.at,
  });
}
