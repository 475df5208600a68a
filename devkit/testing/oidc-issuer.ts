// A real OIDC issuer for tests, over HTTP on a free loopback port: it serves the discovery document
// and its JWKS as an identity provider does, and mints ID tokens signed with its current key, so the
// verifier (src/signing/oidc.ts) is tested against discovery, fetching, caching and key rotation as
// they happen, not against a stubbed fetch. GET /token mints one for a sign-in command to print.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JSONWebKeySet, type JWK } from 'jose';

export type LocalIssuerAlg = 'RS256' | 'ES256' | 'EdDSA';

/** The claims of a token to mint; iss is the issuer's, and anything in `extra` is added as is. */
export interface MintClaims {
  sub: string;
  email?: string;
  nonce?: string;
  /** Default: the issuer's `audience`. */
  aud?: string | string[];
  /** exp = iat + expiresInS; default 300. */
  expiresInS?: number;
  /** Seconds since the epoch; default now. */
  iat?: number;
  /** Any other claim (email_verified, iss to override, …). */
  [claim: string]: unknown;
}

export interface LocalIssuer {
  /** http://127.0.0.1:<port>, the tokens' iss. */
  issuer: string;
  jwksUri: string;
  /** The audience minted tokens carry unless told otherwise: 'tidegate'. */
  audience: string;
  /** The kid of the current key. */
  readonly kid: string;
  /**
   * An ID token signed with the current key. `kid` puts another kid in the header (the key signing
   * is the same); `alg` signs with another algorithm of the same key type (e.g. PS256 with an RSA key).
   */
  mint(claims: MintClaims, opts?: { kid?: string; alg?: string }): Promise<string>;
  /** A new key pair with a new kid; the old key leaves the JWKS. */
  rotate(): Promise<void>;
  /** The JWKS as served now (public keys only). */
  jwks(): JSONWebKeySet;
  /** The paths served, in order. */
  requests: string[];
  stop(): Promise<void>;
}

interface SigningKey {
  kid: string;
  /** The private key as a JWK without alg, so it can be imported for any algorithm of its type. */
  privateJwk: JWK;
  publicJwk: JWK;
}

async function newKey(alg: LocalIssuerAlg): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const { kty, crv, x, y, n, e } = await exportJWK(publicKey);
  const pub: JWK = Object.fromEntries(Object.entries({ kty, crv, x, y, n, e }).filter(([, v]) => v !== undefined));
  const kid = await calculateJwkThumbprint(pub);
  const { key_ops: _ops, ext: _ext, alg: _alg, ...privateJwk } = await exportJWK(privateKey);
  return { kid, privateJwk, publicJwk: { ...pub, kid, alg, use: 'sig' } };
}

/**
 *   const idp = await startOidcIssuer({alg: 'ES256'});
 *   const token = await idp.mint({sub: '1', email: 'alice@example.com', nonce: statementNonce(statement)});
 *   await verifyIdToken(statement, token, [{issuer: idp.issuer, audience: idp.audience}]) → {ok: true, …}
 *   await idp.stop();
 */
export async function startOidcIssuer(options: { alg?: LocalIssuerAlg } = {}): Promise<LocalIssuer> {
  const alg = options.alg ?? 'RS256';
  let key = await newKey(alg);
  const requests: string[] = [];
  const jwks = (): JSONWebKeySet => ({ keys: [{ ...key.publicJwk }] });
  let issuer = '';
  const audience = 'tidegate';

  async function mint(claims: MintClaims, opts: { kid?: string; alg?: string } = {}): Promise<string> {
    const { sub, email, nonce, aud, expiresInS, iat, ...extra } = claims;
    const issuedAt = iat ?? Math.floor(Date.now() / 1000);
    const signAlg = opts.alg ?? alg;
    const payload = {
      iss: issuer,
      sub,
      aud: aud ?? audience,
      iat: issuedAt,
      exp: issuedAt + (expiresInS ?? 300),
      // as identity providers mark a verified address; a claim in `extra` overrides it
      ...(email !== undefined ? { email, email_verified: true } : {}),
      ...(nonce !== undefined ? { nonce } : {}),
      ...extra,
    };
    return new SignJWT(payload).setProtectedHeader({ alg: signAlg, kid: opts.kid ?? key.kid, typ: 'JWT' }).sign(await importJWK(key.privateJwk, signAlg));
  }

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    requests.push(path);
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'GET') return json(405, { error: 'method not allowed' });
    if (path === '/.well-known/openid-configuration') {
      return json(200, { issuer, jwks_uri: `${issuer}/jwks`, id_token_signing_alg_values_supported: [alg], response_types_supported: ['id_token'], subject_types_supported: ['public'] });
    }
    if (path === '/jwks') return json(200, jwks());
    if (path === '/token') {
      // a sign-in reduced to its result, for an ID-token command (tidegate --id-token-command):
      // GET /token?sub=…&email=…&nonce=… answers the ID token as text
      const q = new URL(req.url ?? '/', issuer).searchParams;
      const sub = q.get('sub');
      if (!sub) return json(400, { error: 'sub is required' });
      const email = q.get('email');
      const nonce = q.get('nonce');
      void mint({ sub, ...(email ? { email } : {}), ...(nonce ? { nonce } : {}) }).then(
        (token) => {
          res.writeHead(200, { 'content-type': 'application/jwt' });
          res.end(token);
        },
        (err: unknown) => json(500, { error: String(err) }),
      );
      return;
    }
    json(404, { error: 'not found' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    issuer,
    jwksUri: `${issuer}/jwks`,
    audience,
    get kid() {
      return key.kid;
    },
    mint,
    async rotate() {
      key = await newKey(alg);
    },
    jwks,
    requests,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections(); // fetch keeps connections alive; close them, or close() waits
      }),
  };
}
