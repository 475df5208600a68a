// OIDC ID tokens as proof of a statement, checked against a real local issuer over HTTP (discovery,
// JWKS, key rotation): a token passes only when it is signed by the issuer's published key with an
// accepted algorithm, for tidegate's audience, within its lifetime, bound by its nonce to this one
// statement, and names the statement's principal; each refusal says which of these failed.
import { createHmac, createPublicKey, type JsonWebKey } from 'node:crypto';
import { canonicalJson, makeStatement } from '../../src/core/statement.js';
import { OIDC_ALGORITHMS, statementNonce, verifyIdToken, verifyIdTokenWithKeys, type OidcIssuer } from '../../src/signing/oidc.js';
import { startOidcIssuer, type LocalIssuer, type MintClaims } from '../../devkit/testing/oidc-issuer.js';
import { createSigningActivities, parseOidcIssuers, signingConfigFromEnv } from '../../src/activities/signing/index.js';
import { throughPayloads } from '../../devkit/testing/payloads.js';
import { idTokenSigner, SigningError } from '../../src/signing/sign.js';

const fields = {
  decision: 'approve' as const,
  principal: 'alice@example.com',
  releaseId: 'checkout@1.4.2',
  runId: 'run-1',
  gate: 'nonce-1',
  services: [{ service: 'web', image: 'r/web:2' }],
  issuedAt: '2026-12-02T10:00:00Z',
  expiresAt: '2026-12-02T10:10:00Z',
};
const statement = canonicalJson(makeStatement(fields));
const otherStatement = canonicalJson(makeStatement({ ...fields, decision: 'reject' }));
const nonce = statementNonce(statement);
const NOW = Math.floor(Date.now() / 1000);
const at = (seconds: number): Date => new Date(seconds * 1000);
const iso = (seconds: number): string => at(seconds).toISOString();
const b64 = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');

let idp: LocalIssuer;
beforeAll(async () => {
  idp = await startOidcIssuer();
});
afterAll(async () => {
  await idp.stop();
});

const configured = (): OidcIssuer[] => [{ issuer: idp.issuer, audience: idp.audience }];
const alice = (extra: Partial<MintClaims> = {}): MintClaims => ({ sub: '248289761001', email: 'alice@example.com', nonce, ...extra });
const where = (): string => `the issuer ${idp.issuer}'s JWKS ${idp.jwksUri}`;

test('statementNonce is base64url SHA-256 of the UTF-8 text, without padding', () => {
  expect(statementNonce('hello')).toBe('LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ');
  expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(statementNonce(otherStatement)).not.toBe(nonce);
});

test('a valid token proves the statement: issuer, kid, alg, principal, subject and the public key used', async () => {
  const token = await idp.mint(alice());
  const verdict = await verifyIdToken(statement, token, configured());
  expect(verdict).toEqual({
    ok: true,
    value: { issuer: idp.issuer, kid: idp.kid, alg: 'RS256', principal: 'alice@example.com', subject: '248289761001', jwk: idp.jwks().keys[0] },
  });
  if (!verdict.ok) return;
  expect(verdict.value.jwk).not.toHaveProperty('d');
  expect(Object.keys(verdict.value.jwk).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
  expect(idp.requests).toEqual(expect.arrayContaining(['/.well-known/openid-configuration', '/jwks']));
});

test('another principal claim is read when configured', async () => {
  const token = await idp.mint(alice({ email: 'al@example.com', preferred_username: 'alice@example.com' }));
  const verdict = await verifyIdToken(statement, token, [{ ...configured()[0]!, principalClaim: 'preferred_username' }]);
  expect(verdict).toMatchObject({ ok: true, value: { principal: 'alice@example.com' } });
});

/** A token signed with HMAC-SHA256 keyed by the issuer's public key (PEM): the classic alg confusion. */
function hs256WithPublicKey(): string {
  const pem = createPublicKey({ key: idp.jwks().keys[0] as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
  const signing = `${b64({ alg: 'HS256', kid: idp.kid, typ: 'JWT' })}.${b64({ iss: idp.issuer, aud: idp.audience, iat: NOW, exp: NOW + 300, ...alice() })}`;
  return `${signing}.${createHmac('sha256', pem).update(signing).digest('base64url')}`;
}

describe('refusals, each with its reason', () => {
  type Row = [string, () => Promise<string>, () => string, { issuers?: () => OidcIssuer[]; now?: Date }?];
  const rows: Row[] = [
    [
      'a token for another statement (nonce mismatch)',
      () => idp.mint(alice({ nonce: statementNonce(otherStatement) })),
      () => `the ID token's nonce is for another statement (nonce "${statementNonce(otherStatement)}", this statement's is ${nonce}): sign in again for this statement`,
    ],
    [
      'a token without a nonce',
      () => idp.mint(alice({ nonce: undefined })),
      () => `the ID token has no nonce claim, so it is not bound to a statement: sign in with nonce ${nonce} (statementNonce of the statement)`,
    ],
    [
      'a token for another audience',
      () => idp.mint(alice({ aud: ['someone-else', 'another'] })),
      () => `the ID token is for audience someone-else, another, not tidegate (the client id configured for ${idp.issuer})`,
    ],
    [
      'a token from an issuer not configured',
      () => idp.mint(alice()),
      () => `the ID token's issuer ${idp.issuer} is not a configured OIDC issuer (configured: https://idp.example)`,
      { issuers: () => [{ issuer: 'https://idp.example', audience: 'tidegate' }] },
    ],
    [
      'an expired token',
      () => idp.mint(alice({ iat: NOW - 3600, expiresInS: 600 })),
      () => `the ID token expired at ${iso(NOW - 3000)} (checked at ${iso(NOW)}, with 5 min tolerance): sign in again`,
      { now: at(NOW) },
    ],
    [
      'a token issued in the future',
      () => idp.mint(alice({ iat: NOW + 3600 })),
      () => `the ID token was issued in the future (iat ${iso(NOW + 3600)}; the time is ${iso(NOW)}, with 5 min tolerance)`,
      { now: at(NOW) },
    ],
    [
      'a token naming someone else',
      () => idp.mint(alice({ email: 'bob@example.com' })),
      () => "the ID token's email is bob@example.com, but the statement's principal is alice@example.com",
    ],
    [
      'a token whose email the issuer has not verified',
      () => idp.mint(alice({ email_verified: false })),
      () => "the ID token's email alice@example.com is not verified by the issuer (email_verified: false)",
    ],
    [
      'a token that does not say whether the email is verified',
      () => idp.mint(alice({ email_verified: undefined })),
      () => "the ID token's email alice@example.com is not verified by the issuer (email_verified: null)",
    ],
    [
      'a token whose email_verified is the string "true"',
      () => idp.mint(alice({ email_verified: 'true' })),
      () => `the ID token's email alice@example.com is not verified by the issuer (email_verified: "true")`,
    ],
    [
      'a token without the principal claim',
      () => idp.mint(alice({ email: undefined })),
      () => 'the ID token has no email claim to name the signer',
    ],
    [
      'an unsigned token (alg none)',
      async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: idp.issuer, aud: idp.audience, iat: NOW, exp: NOW + 300, ...alice() })}.`,
      () => 'the ID token is unsigned (alg "none"): an ID token must be signed by its issuer',
    ],
    [
      'HS256 keyed with the public key',
      async () => hs256WithPublicKey(),
      () => `the ID token is signed with HS256, a shared secret, not the issuer's private key: accepted algorithms are ${OIDC_ALGORITHMS.join(', ')}`,
    ],
    [
      'a kid the issuer does not publish',
      () => idp.mint(alice(), { kid: 'no-such-key' }),
      () => `${where()} has no signing key with kid "no-such-key" (its kids: ${idp.kid}): the token was not signed by a key the issuer publishes`,
    ],
    [
      'a signature of another algorithm than the key is published for',
      () => idp.mint(alice(), { alg: 'PS256' }),
      () => `the key "${idp.kid}" of ${where()} (kty RSA, alg RS256) cannot check the ID token's PS256 signature`,
    ],
    [
      'a token without a kid',
      () => idp.mint(alice(), { kid: '' }),
      () => "the ID token's header has no kid (key id), so the issuer's signing key cannot be chosen",
    ],
    [
      'a tampered payload',
      async () => {
        const [header, , signature] = (await idp.mint(alice({ email: 'bob@example.com' }))).split('.');
        return `${header}.${b64({ iss: idp.issuer, aud: idp.audience, iat: NOW, exp: NOW + 300, ...alice() })}.${signature}`;
      },
      () => `the ID token's signature does not verify with key "${idp.kid}" of ${where()}: the token was changed after it was signed, or signed by another key`,
    ],
    [
      'a token that is not a JWT',
      async () => 'not-a-token',
      () => 'the ID token is malformed: a JWT is three base64url parts separated by dots (header.payload.signature)',
    ],
    [
      'a header that is not JSON',
      async () => `${Buffer.from('{nope').toString('base64url')}.${b64({})}.sig`,
      () => 'the ID token is malformed: its header is not base64url-encoded JSON',
    ],
  ];

  test.each(rows)('%s', async (_, token, reason, opts = {}) => {
    const verdict = await verifyIdToken(statement, await token(), opts.issuers?.() ?? configured(), opts.now ? { now: opts.now } : {});
    expect(verdict).toEqual({ ok: false, reason: reason() });
  });

  test('a statement that is not canonical is refused before the token is read', async () => {
    const verdict = await verifyIdToken(`${statement} `, await idp.mint(alice()), configured());
    expect(verdict).toEqual({ ok: false, reason: 'the statement is not in canonical form (sorted keys, no whitespace): sign the text the CLI builds' });
  });

  test('a JWKS over plain http to another host is refused, not retried', async () => {
    const verdict = await verifyIdToken(statement, await idp.mint(alice()), [{ ...configured()[0]!, jwksUri: 'http://keys.example/jwks' }]);
    expect(verdict).toEqual({ ok: false, reason: 'the JWKS URL http://keys.example/jwks is not https: keys fetched over plain HTTP could be forged on the way (only loopback addresses may use http)' });
  });
});

test('fetchJwks replaces the fetch of the JWKS', async () => {
  const asked: string[] = [];
  const verdict = await verifyIdToken(statement, await idp.mint(alice()), [{ ...configured()[0]!, jwksUri: 'https://keys.example/fetch-jwks-test' }], {
    fetchJwks: async (uri) => {
      asked.push(uri);
      return idp.jwks();
    },
  });
  expect(verdict).toMatchObject({ ok: true, value: { kid: idp.kid } });
  expect(asked).toEqual(['https://keys.example/fetch-jwks-test']);
});

test('key rotation: the JWKS is fetched again for an unknown kid, so a new key works at once and the old one is refused', async () => {
  const rotating = await startOidcIssuer();
  try {
    const issuers = [{ issuer: rotating.issuer, audience: rotating.audience }];
    const oldKid = rotating.kid;
    const before = await rotating.mint(alice());
    expect(await verifyIdToken(statement, before, issuers)).toMatchObject({ ok: true, value: { kid: oldKid } });
    expect(await verifyIdToken(statement, before, issuers)).toMatchObject({ ok: true }); // from the cache
    expect(rotating.requests.filter((p) => p === '/jwks')).toHaveLength(1);

    await rotating.rotate();
    expect(rotating.kid).not.toBe(oldKid);
    const after = await rotating.mint(alice());
    expect(await verifyIdToken(statement, after, issuers)).toMatchObject({ ok: true, value: { kid: rotating.kid } });
    expect(rotating.requests.filter((p) => p === '/jwks')).toHaveLength(2);

    expect(await verifyIdToken(statement, before, issuers)).toEqual({
      ok: false,
      reason: `the issuer ${rotating.issuer}'s JWKS ${rotating.jwksUri} has no signing key with kid "${oldKid}" (its kids: ${rotating.kid}): the token was not signed by a key the issuer publishes`,
    });
  } finally {
    await rotating.stop();
  }
});

test('an unreachable issuer is a retryable failure, not a refusal', async () => {
  const gone = await startOidcIssuer();
  const token = await gone.mint(alice());
  await gone.stop();
  expect(await verifyIdToken(statement, token, [{ issuer: gone.issuer, audience: gone.audience }])).toEqual({
    ok: false,
    retryable: true,
    reason: `cannot fetch the OpenID discovery document ${gone.issuer}/.well-known/openid-configuration: ECONNREFUSED: the issuer is unreachable from here; try again`,
  });
  expect(await verifyIdToken(statement, token, [{ issuer: gone.issuer, audience: gone.audience, jwksUri: gone.jwksUri }])).toEqual({
    ok: false,
    retryable: true,
    reason: `cannot fetch the JWKS ${gone.jwksUri}: ECONNREFUSED: the issuer is unreachable from here; try again`,
  });
});

describe('verifyIdTokenWithKeys, offline against a kept JWKS', () => {
  const minted = NOW - 7200;
  const options = (when: Date): Parameters<typeof verifyIdTokenWithKeys>[3] => ({ issuer: idp.issuer, audience: idp.audience, at: when });

  test('a token expired now verifies at the time the decision was accepted', async () => {
    const token = await idp.mint(alice({ iat: minted, expiresInS: 600 }));
    expect(await verifyIdTokenWithKeys(statement, token, idp.jwks(), options(at(minted + 60)))).toEqual({
      ok: true,
      value: { issuer: idp.issuer, kid: idp.kid, alg: 'RS256', principal: 'alice@example.com', subject: '248289761001', jwk: idp.jwks().keys[0] },
    });
  });

  test('and is refused at a later time', async () => {
    const token = await idp.mint(alice({ iat: minted, expiresInS: 600 }));
    expect(await verifyIdTokenWithKeys(statement, token, idp.jwks(), options(at(NOW)))).toEqual({
      ok: false,
      reason: `the ID token expired at ${iso(minted + 600)} (checked at ${iso(NOW)}, with 5 min tolerance): sign in again`,
    });
  });

  test('the same checks: another issuer, another statement, a key not in the kept JWKS', async () => {
    const token = await idp.mint(alice());
    expect(await verifyIdTokenWithKeys(statement, token, idp.jwks(), { ...options(at(NOW)), issuer: 'https://idp.example' })).toEqual({
      ok: false,
      reason: `the ID token's issuer is ${idp.issuer}, not https://idp.example`,
    });
    expect(await verifyIdTokenWithKeys(otherStatement, token, idp.jwks(), options(at(NOW)))).toMatchObject({ ok: false, reason: expect.stringContaining("the ID token's nonce is for another statement") });
    expect(await verifyIdTokenWithKeys(statement, token, { keys: [] }, options(at(NOW)))).toEqual({
      ok: false,
      reason: `the given JWKS has no signing key with kid "${idp.kid}" (its kids: (none)): the token was not signed by a key the issuer publishes`,
    });
  });
});

test.each(['ES256', 'EdDSA'] as const)('an %s issuer verifies too', async (alg) => {
  const other = await startOidcIssuer({ alg });
  try {
    const verdict = await verifyIdToken(statement, await other.mint(alice()), [{ issuer: other.issuer, audience: other.audience }]);
    expect(verdict).toEqual({
      ok: true,
      value: { issuer: other.issuer, kid: other.kid, alg, principal: 'alice@example.com', subject: '248289761001', jwk: other.jwks().keys[0] },
    });
    expect(verdict.ok && verdict.value.jwk).toMatchObject({ kty: alg === 'ES256' ? 'EC' : 'OKP', crv: alg === 'ES256' ? 'P-256' : 'Ed25519' });
    expect(verdict.ok && verdict.value.jwk).not.toHaveProperty('d');
  } finally {
    await other.stop();
  }
});

describe('the worker\'s trusted issuers (TIDEGATE_OIDC_ISSUERS)', () => {
  test('a list of issuers is read with its optional fields; none set is no issuer', () => {
    expect(parseOidcIssuers('[{"issuer":"https://idp.example","audience":"tidegate","principals":["*@example.com"]},{"issuer":"https://login.example.com","audience":"td","principals":["alice","bob"],"jwksUri":"https://login.example.com/keys","principalClaim":"preferred_username"}]')).toEqual([
      { issuer: 'https://idp.example', audience: 'tidegate', principals: ['*@example.com'] },
      { issuer: 'https://login.example.com', audience: 'td', principals: ['alice', 'bob'], jwksUri: 'https://login.example.com/keys', principalClaim: 'preferred_username' },
    ]);
    expect(signingConfigFromEnv({}).oidcIssuers).toBeUndefined();
    expect(signingConfigFromEnv({ TIDEGATE_OIDC_ISSUERS: '[{"issuer":"https://idp.example","audience":"tidegate","principals":["*@example.com"]}]' }).oidcIssuers).toEqual([{ issuer: 'https://idp.example', audience: 'tidegate', principals: ['*@example.com'] }]);
  });

  test.each<[string, string]>([
    ['not json', 'TIDEGATE_OIDC_ISSUERS must be JSON: a list of {"issuer": URL, "audience": client id, "principals": [patterns], "jwksUri"?: URL, "principalClaim"?: claim}'],
    ['{"issuer":"https://idp.example"}', 'TIDEGATE_OIDC_ISSUERS must be a JSON list of {"issuer", "audience", "principals"}'],
    ['["https://idp.example"]', 'TIDEGATE_OIDC_ISSUERS[0] must be an object {"issuer", "audience", "principals"}'],
    ['[{"issuer":"https://idp.example","audience":"tidegate"}]', 'TIDEGATE_OIDC_ISSUERS[0].principals must list whom the issuer may prove, as allowed-signers patterns (like ["*@example.com"])'],
    ['[{"issuer":"https://idp.example","audience":"tidegate","principals":[]}]', 'TIDEGATE_OIDC_ISSUERS[0].principals must list whom the issuer may prove, as allowed-signers patterns (like ["*@example.com"])'],
    ['[{"issuer":"idp.example","audience":"tidegate"}]', 'TIDEGATE_OIDC_ISSUERS[0].issuer must be an http(s) URL, got "idp.example"'],
    ['[{"issuer":"https://idp.example"}]', 'TIDEGATE_OIDC_ISSUERS[0].audience must be the client id the tokens are issued for'],
    ['[{"issuer":"https://idp.example","audience":"t","jwks":"x"}]', 'TIDEGATE_OIDC_ISSUERS[0] has unknown fields: jwks'],
  ])('%s is refused: %s', (text, message) => {
    expect(() => parseOidcIssuers(text)).toThrow(new Error(message));
  });
});

describe('the ID token command (--id-token-command)', () => {
  test('it runs with the statement\'s nonce and the statement in its environment, and its output is the token', async () => {
    const token = await idTokenSigner(`printf '%s' "$TIDEGATE_NONCE" | cut -c1-10 | sed 's/.*/h.&.s/'`)(statement, 'tidegate');
    expect(token).toBe(`h.${nonce.slice(0, 10)}.s`);
    expect(await idTokenSigner('printf \'%s\' "$TIDEGATE_STATEMENT" | wc -c | tr -d " " | sed "s/.*/a.&.b/"')(statement, 'tidegate')).toBe(`a.${Buffer.byteLength(statement)}.b`);
    expect(idTokenSigner('true').kind).toBe('oidc');
  });

  test.each<[string, RegExp]>([
    ['echo sign-in cancelled >&2; exit 4', /^the ID token command failed \(exit 4\): sign-in cancelled$/],
    ['echo "not a token"', /^the ID token command did not print an ID token \(a JWT: header\.payload\.signature\) on its standard output$/],
  ])('%s → a signing error (the CLI exits 2)', async (command, message) => {
    const err = await idTokenSigner(command)(statement, 'tidegate').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SigningError);
    expect((err as Error).message).toMatch(message);
  });
});

describe('the signing activities with an ID token, through the payload converter', () => {
  test('readSignerTrust records the trusted issuers; verifyStatement returns the issuer, key, subject and public key, retries an unreachable issuer and refuses a bad token for good', async () => {
    const issuers = [{ issuer: idp.issuer, audience: idp.audience, principals: ['*@example.com'] }];
    const activities = throughPayloads(createSigningActivities({ requireSigned: false, oidcIssuers: issuers }));
    const keys = [idp.issuer];
    await expect(activities.readSignerTrust({ for: 'start' })).resolves.toEqual({ source: 'none', sha256: '', signers: [], oidc: issuers, requireSigned: false });
    const token = await idp.mint({ sub: 'u-1', email: 'alice@example.com', nonce });
    const verified = await activities.verifyStatement({ signed: { statement, signature: token, kind: 'oidc' }, keys, namespace: 'tidegate' });
    expect(verified).toEqual({ kind: 'oidc', keyType: 'oidc RS256', fingerprint: `${idp.issuer}#${idp.kid}`, oidc: { issuer: idp.issuer, kid: idp.kid, subject: 'u-1', jwk: expect.objectContaining({ kty: 'RSA', kid: idp.kid, e: 'AQAB' }) } });
    expect(verified.oidc?.jwk).not.toHaveProperty('d');
    const other = await idp.mint({ sub: 'u-1', email: 'alice@example.com', nonce: statementNonce(otherStatement) });
    await expect(activities.verifyStatement({ signed: { statement, signature: other, kind: 'oidc' }, keys, namespace: 'tidegate' })).rejects.toMatchObject({ type: 'SignatureInvalid', nonRetryable: true });
    // an issuer nobody answers for: an ordinary error, which the activity's retry policy retries
    const gone = throughPayloads(createSigningActivities({ requireSigned: false, oidcIssuers: [{ issuer: 'http://127.0.0.1:9', audience: 'tidegate', principals: ['*'] }] }));
    const err = await gone.verifyStatement({ signed: { statement, signature: await stray(), kind: 'oidc' }, keys: ['http://127.0.0.1:9'], namespace: 'tidegate' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as { nonRetryable?: boolean }).nonRetryable).not.toBe(true);
    expect((err as Error).message).toMatch(/^cannot fetch the OpenID discovery document http:\/\/127\.0\.0\.1:9\/.well-known\/openid-configuration: .*try again$/);
  });
});

/** A token whose iss is an issuer on a port nobody listens on (signed by the local issuer's key). */
async function stray(): Promise<string> {
  return idp.mint({ sub: 'u-1', email: 'alice@example.com', nonce, iss: 'http://127.0.0.1:9' });
}
