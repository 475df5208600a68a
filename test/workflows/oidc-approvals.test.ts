// Given a worker that trusts a local OIDC issuer (a real one over HTTP on 127.0.0.1) and a spec that
// requires signed decisions: approvals proven by ID tokens bound to their statement count, with the
// issuer, key and subject on record; a token for someone else, for another statement, or from an
// issuer the worker does not trust is refused with the reason; an auditor re-verifies the tokens
// offline against the issuer's keys.
import { execFileSync } from 'node:child_process';
import { defaultPayloadConverter } from '@temporalio/common';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Harness } from '../../devkit/testing/harness.js';
import { approvalOnlySpec, startHarness } from '../../devkit/testing/harness.js';
import { startOidcIssuer, type LocalIssuer } from '../../devkit/testing/oidc-issuer.js';
import { RefusedError } from '../../src/client/errors.js';
import { attest, renderAttestation } from '../../src/client/verify.js';
import { idTokenSigner, sshKeygenSigner, type Signer } from '../../src/signing/sign.js';
import { statementNonce } from '../../src/signing/oidc.js';

let dir: string;
let idp: LocalIssuer;
let stranger: LocalIssuer;
let h: Harness;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tidegate-oidc-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'carol', '-f', join(dir, 'carol')]);
  writeFileSync(join(dir, 'allowed_signers'), `carol ${readFileSync(join(dir, 'carol.pub'), 'utf8').trim()}\n`);
  idp = await startOidcIssuer();
  stranger = await startOidcIssuer({ alg: 'ES256' });
});
afterAll(async () => {
  await idp?.stop();
  await stranger?.stop();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  h = await startHarness();
  h.world.signing = { allowedSignersFile: join(dir, 'allowed_signers'), requireSigned: false, oidcIssuers: [{ issuer: idp.issuer, audience: idp.audience, principals: ['*@example.com', '!mallory@example.com'] }] };
});
afterEach(async () => h?.stop());

/** A signer that asks `issuer` for a token naming `email`, bound to `nonceOf(statement)`. */
const tokenSigner = (issuer: LocalIssuer, email: string, nonceOf: (statement: string) => string = statementNonce): Signer =>
  Object.assign(async (statement: string) => issuer.mint({ sub: `sub-${email}`, email, nonce: nonceOf(statement) }), { kind: 'oidc' as const });

test('approvals proven by OIDC ID tokens release it; tokens for someone else, another statement or an untrusted issuer are refused; an auditor re-verifies them offline', async () => {
  const spec = approvalOnlySpec('ledger', '3.0.0', { approvers: ['alice@example.com', 'bob@example.com'], minApprovals: 2, timeout: '24h', onTimeout: 'rollback', requireSignature: true });
  const { releaseId } = await h.releases.start(spec, { initiator: 'carol', signer: sshKeygenSigner(join(dir, 'carol')) });
  await h.until(releaseId, (s) => s.stage === 'approval' && s.services[0]?.gate !== undefined);

  const refusal = (p: Promise<unknown>): Promise<string> => p.then(() => 'accepted', (err: unknown) => (err instanceof RefusedError ? err.message : Promise.reject(err)));
  expect(await refusal(h.releases.approve(releaseId, 'bob@example.com', undefined, tokenSigner(idp, 'alice@example.com')))).toBe(
    "the ID token's email is alice@example.com, but the statement's principal is bob@example.com",
  );
  expect(await refusal(h.releases.approve(releaseId, 'alice@example.com', undefined, tokenSigner(idp, 'alice@example.com', () => statementNonce('another statement'))))).toMatch(
    /^the ID token's nonce is for another statement \(nonce "[\w-]+", this statement's is [\w-]+\): sign in again for this statement$/,
  );
  expect(await refusal(h.releases.approve(releaseId, 'alice@example.com', undefined, tokenSigner(stranger, 'alice@example.com')))).toBe(
    `the ID token's issuer ${stranger.issuer} is not a configured OIDC issuer (configured: ${idp.issuer})`,
  );

  // alice signs in through a command, as the CLI's --id-token-command runs it
  const command = `node -e 'fetch(process.argv[1] + "&nonce=" + process.env.TIDEGATE_NONCE).then((r) => r.text()).then((t) => process.stdout.write(t))' '${idp.issuer}/token?sub=sub-alice&email=alice@example.com'`;
  await expect(h.releases.approve(releaseId, 'alice@example.com', 'ledger totals match', idTokenSigner(command))).resolves.toEqual({ service: 'ledger', approvals: 1, needed: 1 });
  await expect(h.releases.approve(releaseId, 'bob@example.com', undefined, tokenSigner(idp, 'bob@example.com'))).resolves.toEqual({ service: 'ledger', approvals: 2, needed: 0 });

  const result = await h.finish(releaseId);
  expect(result.outcome).toBe('released');
  const approvals = result.status.services[0]?.approvals ?? [];
  expect(approvals.map((a) => [a.by, a.proof?.kind, a.proof?.keyType, a.proof?.fingerprint, a.proof?.oidc?.subject])).toEqual([
    ['alice@example.com', 'oidc', 'oidc RS256', `${idp.issuer}#${idp.kid}`, 'sub-alice'],
    ['bob@example.com', 'oidc', 'oidc RS256', `${idp.issuer}#${idp.kid}`, 'sub-bob@example.com'],
  ]);
  // the key that verified each token is kept (public fields only)
  expect(approvals[0]?.proof?.oidc?.jwk).toMatchObject({ kty: 'RSA', kid: idp.kid });
  expect(approvals[0]?.proof?.oidc?.jwk).not.toHaveProperty('d');
  expect(result.status.refusals?.map((r) => r.reason)).toEqual([
    "the ID token's email is alice@example.com, but the statement's principal is bob@example.com",
    expect.stringMatching(/^the ID token's nonce is for another statement/),
    `the ID token's issuer ${stranger.issuer} is not a configured OIDC issuer (configured: ${idp.issuer})`,
  ]);

  // offline, with the issuer's keys the auditor holds — after the issuer has rotated them
  const keptJwks = idp.jwks();
  await idp.rotate();
  const history = await h.env.client.workflow.getHandle(releaseId).fetchHistory();
  const signers = readFileSync(join(dir, 'allowed_signers'), 'utf8');
  const attestation = await attest(history, signers, releaseId, { jwks: keptJwks });
  console.log(`tidegate verify ${releaseId} --allowed-signers allowed_signers --jwks issuer-jwks.json:\n${renderAttestation(attestation)}`);
  expect(attestation.ok).toBe(true);
  expect(attestation.decisions.filter((d) => d.outcome === 'accepted').map((d) => [d.by, d.signature])).toEqual([
    ['alice@example.com', { ok: true, keyType: 'oidc RS256', fingerprint: `${idp.issuer}#${keptJwks.keys[0]?.kid}` }],
    ['bob@example.com', { ok: true, keyType: 'oidc RS256', fingerprint: `${idp.issuer}#${keptJwks.keys[0]?.kid}` }],
  ]);
  // without the issuer's keys the tokens cannot be checked; with another issuer's keys they do not verify
  const blind = await attest(history, signers, releaseId);
  expect(blind.ok).toBe(false);
  expect(blind.decisions.find((d) => d.outcome === 'accepted')?.signature).toEqual({ ok: false, reason: "an OIDC ID token: pass --jwks FILE (the issuer's published keys you trust) to check it" });
  // a token from an issuer recorded as trusted for other principals only does not verify for the auditor either
  const narrowed = historyFromJSON(JSON.parse(historyToJSON(history)));
  for (const e of narrowed.events ?? []) {
    const done = e.activityTaskCompletedEventAttributes;
    const [trust] = (done?.result?.payloads ?? []).map((p) => defaultPayloadConverter.fromPayload<{ oidc?: { principals: string[] }[] }>(p));
    if (!done || !Array.isArray(trust?.oidc)) continue; // readSignerTrust's results (verifyStatement's carry an oidc proof object)
    done.result = { payloads: [defaultPayloadConverter.toPayload({ ...trust, oidc: (trust?.oidc ?? []).map((i) => ({ ...i, principals: ['bob@example.com'] })) })] };
  }
  const scoped = await attest(narrowed, signers, releaseId, { jwks: keptJwks });
  expect(scoped.ok).toBe(false);
  expect(scoped.decisions.filter((d) => d.outcome === 'accepted').map((d) => [d.by, d.signature?.ok])).toEqual([
    ['alice@example.com', false],
    ['bob@example.com', true],
  ]);
  expect(scoped.decisions.find((d) => d.outcome === 'accepted')?.signature?.reason).toBe(`${idp.issuer} was not trusted to prove alice@example.com (its principals: bob@example.com)`);
  const wrongKeys = await attest(history, signers, releaseId, { jwks: idp.jwks() });
  expect(wrongKeys.ok).toBe(false);
  expect(wrongKeys.decisions.find((d) => d.outcome === 'accepted')?.signature?.reason).toMatch(/has no signing key with kid/);
});

/** A release of ledger whose gate alice@example.com alone may approve, started signed by carol and waiting at its gate. */
async function atGate(version: string): Promise<string> {
  const spec = approvalOnlySpec('ledger', version, { approvers: ['alice@example.com'], minApprovals: 1, timeout: '24h', onTimeout: 'rollback' });
  const { releaseId } = await h.releases.start(spec, { initiator: 'carol', signer: sshKeygenSigner(join(dir, 'carol')) });
  await h.until(releaseId, (s) => s.stage === 'approval' && s.services[0]?.gate !== undefined);
  return releaseId;
}

test('a worker that trusts no OIDC issuer refuses an ID-token approval at once, naming the setting', async () => {
  h.world.signing = { allowedSignersFile: join(dir, 'allowed_signers'), requireSigned: false };
  const releaseId = await atGate('3.0.1');
  await expect(h.releases.approve(releaseId, 'alice@example.com', undefined, tokenSigner(idp, 'alice@example.com'))).rejects.toThrow(
    new RefusedError('the decision is proven by an OIDC ID token, but the worker trusts no OIDC issuer (TIDEGATE_OIDC_ISSUERS)'),
  );
  await expect(h.releases.approve(releaseId, 'alice@example.com')).resolves.toEqual({ service: 'ledger', approvals: 1, needed: 0 });
  expect((await h.finish(releaseId)).outcome).toBe('released');
});

test('an issuer that cannot be reached is retried, then the approval is refused as unverifiable for now (not as a bad signature), on record', async () => {
  // the worker trusts an issuer on a port nobody listens on; the token claims to come from it
  const down = 'http://127.0.0.1:9';
  h.world.signing = { allowedSignersFile: join(dir, 'allowed_signers'), requireSigned: false, oidcIssuers: [{ issuer: down, audience: 'tidegate', principals: ['*@example.com'] }] };
  const releaseId = await atGate('3.0.2');
  const signer: Signer = Object.assign(async (statement: string) => idp.mint({ sub: 'a', email: 'alice@example.com', nonce: statementNonce(statement), iss: down }), { kind: 'oidc' as const });
  // three attempts, a few seconds apart
  const err = await h.releases.approve(releaseId, 'alice@example.com', undefined, signer).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(RefusedError);
  expect((err as Error).message).toMatch(/^the signature could not be verified now \(cannot fetch the OpenID discovery document http:\/\/127\.0\.0\.1:9\/\.well-known\/openid-configuration: .*\): send the decision again$/);
  const status = await h.until(releaseId, (s) => (s.refusals ?? []).length === 1);
  expect(status.refusals?.[0]?.reason).toBe((err as Error).message);
  // the gate is still open: an unsigned approval (signatures are optional here) still counts
  await expect(h.releases.approve(releaseId, 'alice@example.com')).resolves.toEqual({ service: 'ledger', approvals: 1, needed: 0 });
}, 120_000);
