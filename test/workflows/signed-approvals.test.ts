// Given a release whose approval gate requires signed decisions, on the time-skipping server, with
// keys made by ssh-keygen for this test and the worker's allowed signers file: approvals signed by
// listed keys count, and every forged, stale, misdirected or self-made approval is refused with its
// reason and recorded — while the release goes on to be approved by the people who may.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { Harness } from '../../devkit/testing/harness.js';
import { pausedAt, replayAsWorker, specFor, startHarness } from '../../devkit/testing/harness.js';
import { RefusedError } from '../../src/client/errors.js';
import { Releases } from '../../src/client/releases.js';
import { exitCodeFor } from '../../src/core/status.js';
import { canonicalJson, makeStatement, type Statement } from '../../src/core/statement.js';
import { sshKeygenSigner } from '../../src/signing/sign.js';
import { abortSignal, approveUpdate, promoteUpdate, type ApproveRequest, type ReleaseInput } from '../../src/workflows/definitions.js';
import { specDigest } from '../../src/signing/digest.js';
import { attest, renderAttestation } from '../../src/client/verify.js';

let dir: string;
const key = (name: string): string => join(dir, name);
const pub = (name: string): string => readFileSync(`${key(name)}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
const fingerprintOf = (name: string): string => execFileSync('ssh-keygen', ['-l', '-f', `${key(name)}.pub`], { encoding: 'utf8' }).split(' ')[1] ?? '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tidegate-signed-'));
  const make = (name: string, type: string[]): void => void execFileSync('ssh-keygen', ['-q', ...type, '-N', '', '-C', name, '-f', key(name)]);
  make('alice', ['-t', 'ed25519']);
  make('bob', ['-t', 'ecdsa', '-b', '256']);
  make('carol', ['-t', 'rsa', '-b', '3072']);
  make('carol2', ['-t', 'ed25519']);
  make('erin', ['-t', 'ed25519']);
  make('mallory', ['-t', 'ed25519']);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function allowedSigners(names: string[]): string {
  const lines: Record<string, string> = {
    alice: `alice namespaces="tidegate" ${pub('alice')}`,
    bob: `bob ${pub('bob')}`,
    carol: `carol ${pub('carol')}\ncarol ${pub('carol2')}`,
    erin: `erin ${pub('erin')}`,
  };
  return `# who may sign tidegate decisions\n${names.map((n) => lines[n]).join('\n')}\n`;
}

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => h?.stop());

/** A canary that waits for promote, then the approval gate (no timed pauses: workflow time stays near the signer's clock). */
function gatedSpec(service: string, requireSignature = true, version = '2.0.0') {
  return specFor(service, version, (doc) => {
    delete doc.staging;
    delete doc.production.monitor;
    doc.production.canary = { traffic: { router: 'gateway-api', httpRoute: service }, steps: [{ setWeight: 10 }, { pause: {} }] };
    doc.production.approval = { approvers: ['alice', 'bob', 'carol', 'erin'], minApprovals: 2, timeout: '24h', onTimeout: 'rollback', requireSignature };
  });
}

test('signed approvals from listed keys release it; forged, stale, misdirected, unlisted, duplicate and self-made approvals are refused and recorded', async () => {
  const signersFile = join(dir, 'allowed_signers');
  // erin is listed when the release starts, and removed before its gate opens
  writeFileSync(signersFile, allowedSigners(['alice', 'bob', 'carol', 'erin']));
  h.world.signing = { allowedSignersFile: signersFile, requireSigned: false };
  // the spec requires signatures: an unsigned start is refused by the client, a signed one proves carol started it
  await expect(h.releases.start(gatedSpec('pay'), { initiator: 'carol' })).rejects.toThrow(
    new RefusedError("pay@2.0.0's spec requires signed decisions (approval.requireSignature): start it with --key <your SSH key>"),
  );
  const { releaseId } = await h.releases.start(gatedSpec('pay'), { initiator: 'carol', signer: sshKeygenSigner(key('carol')) });
  const begun = await h.until(releaseId, pausedAt('awaiting-promote', 2));
  expect(begun.initiatorProof?.fingerprint).toBe(fingerprintOf('carol'));
  expect(begun.timeline.map((t) => t.event)).toContain(`start signed by carol (ssh-rsa ${fingerprintOf('carol')})`);
  writeFileSync(signersFile, allowedSigners(['alice', 'bob', 'carol']));
  // the spec requires signatures: promote too
  await h.releases.promote(releaseId, 'carol', false, sshKeygenSigner(key('carol')));
  const open = await h.until(releaseId, (s) => s.stage === 'approval' && s.services[0]?.gate !== undefined);
  const gate = open.services[0]?.gate;
  expect(gate).toMatchObject({ requireSigned: true, signers: { source: signersFile, principals: ['alice', 'bob', 'carol'] } });
  expect(gate?.signers.sha256).toMatch(/^[0-9a-f]{64}$/);

  // a statement as the CLI makes it, with `edit` applied, signed by `signer`'s key
  const now = Date.now();
  const statementFor = (by: string, edit: Partial<Statement> = {}): Statement => ({
    ...makeStatement({
      decision: 'approve',
      principal: by,
      releaseId,
      runId: open.runId ?? '',
      gate: gate?.nonce ?? '',
      services: [{ service: 'pay', image: 'registry.local/pay:2.0.0' }],
      issuedAt: new Date(now - 1_000).toISOString().slice(0, 19) + 'Z',
      expiresAt: new Date(now + 600_000).toISOString().slice(0, 19) + 'Z',
    }),
    ...edit,
  });
  const send = async (by: string, signer: string, statement: Statement, opts: { namespace?: string; tamper?: (text: string) => string; comment?: string } = {}): Promise<string> => {
    const text = canonicalJson(statement);
    const signature = await sshKeygenSigner(key(signer))(text, opts.namespace ?? 'tidegate');
    const sent = opts.tamper ? opts.tamper(text) : text;
    const comment = opts.comment ?? (JSON.parse(sent) as { comment?: string }).comment;
    const request: ApproveRequest = { by, ...(comment ? { comment } : {}), signed: { statement: sent, signature } };
    try {
      await h.env.client.workflow.getHandle(releaseId).executeUpdate(approveUpdate, { args: [request] });
      return 'accepted';
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) return err.cause?.message ?? err.message;
      throw err;
    }
  };

  // refused by the validator (cheap checks) …
  await expect(h.releases.approve(releaseId, 'alice')).rejects.toThrow(new RefusedError(
    'this gate requires a signed approval: run `tidegate approve … --key <your SSH key>` (approval.requireSignature or the worker\'s TIDEGATE_REQUIRE_SIGNED)',
  ));
  expect(await send('alice', 'alice', statementFor('alice', { releaseId: 'pay@1.9.9' }))).toBe('the statement is for release pay@1.9.9, not pay@2.0.0');
  expect(await send('alice', 'alice', statementFor('alice', { runId: 'an-earlier-run' }))).toMatch(/^the statement is for run an-earlier-run, not this run \(/);
  expect(await send('alice', 'alice', statementFor('alice', { gate: 'an-earlier-gate' }))).toMatch(/^the statement is for gate an-earlier-gate, not the gate open now/);
  expect(await send('alice', 'alice', statementFor('alice', { services: [{ service: 'pay', image: 'registry.local/pay:6.6.6' }] }))).toBe(
    'the statement names pay=registry.local/pay:6.6.6, but the release is pay=registry.local/pay:2.0.0',
  );
  const past = (ms: number): string => new Date(now - ms).toISOString().slice(0, 19) + 'Z';
  expect(await send('alice', 'alice', statementFor('alice', { issuedAt: past(1_200_000), expiresAt: past(600_000) }))).toMatch(/^the statement expired at /);
  expect(await send('bob', 'alice', statementFor('alice'))).toBe('the statement is signed as alice, not bob');
  expect(await send('erin', 'erin', statementFor('erin'))).toMatch(/^erin has no key valid now for namespace "tidegate" in the allowed signers: /);
  expect(await send('carol', 'carol2', statementFor('carol'))).toBe('carol started this release and self-approval is not allowed');
  expect(await send('alice', 'alice', statementFor('alice', { comment: 'lgtm' }), { comment: 'lgtm, and I approve the migration too' })).toBe('the comment sent is not the one signed ("lgtm")');
  // … and by the signature's verification (the handler records these itself)
  expect(await send('alice', 'alice', statementFor('alice', { comment: 'ship it' }), { tamper: (t) => t.replace('ship it', 'ship it now') })).toMatch(/^the signature does not verify: /);
  expect(await send('alice', 'alice', statementFor('alice'), { namespace: 'git' })).toBe('the signature is in namespace "git", not "tidegate" (sign with ssh-keygen -Y sign -n tidegate)');
  expect(await send('alice', 'mallory', statementFor('alice'))).toMatch(/^the signing key SHA256:\S+ is not one of the signer's allowed keys$/);
  expect(await send('bob', 'alice', statementFor('bob'))).toMatch(/is not one of the signer's allowed keys$/);

  // the approvers who may, through the client as the CLI uses it
  await expect(h.releases.approve(releaseId, 'alice', 'canary looks good', sshKeygenSigner(key('alice')))).resolves.toEqual({ service: 'pay', approvals: 1, needed: 1 });
  expect(await send('alice', 'alice', statementFor('alice'))).toMatch(/^alice already approved at /);
  await expect(h.releases.approve(releaseId, 'bob', undefined, sshKeygenSigner(key('bob')))).resolves.toEqual({ service: 'pay', approvals: 2, needed: 0 });

  const result = await h.finish(releaseId);
  expect(result.outcome).toBe('released');
  const approvals = result.status.services[0]?.approvals ?? [];
  expect(approvals.map((a) => [a.by, a.proof?.keyType, a.proof?.fingerprint])).toEqual([
    ['alice', 'ssh-ed25519', fingerprintOf('alice')],
    ['bob', 'ecdsa-sha2-nistp256', fingerprintOf('bob')],
  ]);
  // each recorded proof verifies with ssh-keygen itself, against the file the gate read
  writeFileSync(signersFile, allowedSigners(['alice', 'bob', 'carol']));
  for (const a of approvals) {
    const sig = join(dir, `${a.by}.sig`);
    writeFileSync(sig, `${a.proof?.signature}\n`);
    const out = execFileSync('ssh-keygen', ['-Y', 'verify', '-f', signersFile, '-I', a.by, '-n', 'tidegate', '-s', sig], { input: a.proof?.statement, encoding: 'utf8' });
    expect(out).toContain(`Good "tidegate" signature for ${a.by}`);
  }
  // every refusal is on record with its reason: the validator's (reported by the client) and the handler's
  const refusals = result.status.refusals ?? [];
  expect(refusals.map((r) => r.by)).toEqual(['alice', 'alice', 'alice', 'alice', 'bob']);
  expect(refusals.map((r) => r.reason)).toEqual([
    expect.stringMatching(/^this gate requires a signed approval/),
    expect.stringMatching(/^the signature does not verify/),
    expect.stringMatching(/^the signature is in namespace "git"/),
    expect.stringMatching(/is not one of the signer's allowed keys$/),
    expect.stringMatching(/is not one of the signer's allowed keys$/),
  ]);

  // an auditor re-verifies the chain from the history alone, against their own allowed signers
  const history = await h.env.client.workflow.getHandle(releaseId).fetchHistory();
  const attestation = await attest(history, allowedSigners(['alice', 'bob', 'carol']), releaseId);
  console.log(`tidegate verify ${releaseId} --allowed-signers allowed_signers:\n${renderAttestation(attestation)}`);
  expect(attestation).toMatchObject({ releaseId, runId: open.runId, outcome: 'released', ok: true });
  // read at the start (erin still listed then) and when the gate opened (erin removed)
  expect(attestation.gates).toEqual([
    expect.objectContaining({ for: 'start', source: signersFile, requireSigned: true, sameAsYours: false }),
    expect.objectContaining({ for: 'the approval gate of pay', source: signersFile, requireSigned: true, sameAsYours: true }),
  ]);
  expect(attestation.initiator).toEqual({ principal: 'carol', signature: { ok: true, keyType: 'ssh-rsa', fingerprint: fingerprintOf('carol') } });
  expect(attestation.decisions.map((d) => [d.decision, d.by, d.outcome, d.signature?.ok, d.binding?.ok])).toEqual([
    ['promote', 'carol', 'accepted', true, true],
    ['approve', 'alice', 'refused', false, true], // tampered
    ['approve', 'alice', 'refused', false, true], // namespace git
    ['approve', 'alice', 'refused', false, true], // mallory's key
    ['approve', 'bob', 'refused', false, true], // alice's key
    ['approve', 'alice', 'accepted', true, true],
    ['approve', 'bob', 'accepted', true, true],
  ]);
  // an auditor whose file does not list bob cannot verify bob's accepted approval
  const without = await attest(history, allowedSigners(['alice', 'carol']), releaseId);
  expect(without.ok).toBe(false);
  expect(without.gates[1]?.sameAsYours).toBe(false);
  expect(without.decisions.at(-1)?.signature).toEqual({ ok: false, reason: 'bob has no key in your allowed signers' });
  // about 25 round trips to the time-skipping server: 13 s alone, 43 s beside two CPU burners (ci44)
});

/** A worker that requires signed decisions, trusting alice, bob and carol. */
function requiringWorker(): void {
  const signersFile = join(dir, 'allowed_signers-required');
  writeFileSync(signersFile, allowedSigners(['alice', 'bob', 'carol']));
  h.world.signing = { allowedSignersFile: signersFile, requireSigned: true };
}

test('a worker that requires signatures refuses an unsigned start before touching anything (exit 3)', async () => {
  requiringWorker();
  // start itself answers refused (the CLI exits 3), and the release has ended with the reason
  await expect(h.releases.start(gatedSpec('cart', false), { initiator: 'carol' })).rejects.toThrow(
    new RefusedError('the worker requires signed decisions (TIDEGATE_REQUIRE_SIGNED) and it was started unsigned: start it with `tidegate start … --key <your SSH key>`'),
  );
  const result = await h.finish('cart@2.0.0');
  expect(result).toMatchObject({ outcome: 'failed', cause: 'unsigned' });
  expect(result.reason).toBe('the worker requires signed decisions (TIDEGATE_REQUIRE_SIGNED) and it was started unsigned: start it with `tidegate start … --key <your SSH key>`');
  expect(exitCodeFor(result)).toBe(3);
  // nothing was touched: no snapshot, no lock, no deploy
  expect(h.world.calls).toEqual([]);
  expect(result.status.timeline.map((t) => t.code)).toEqual(['release-started', 'stopped', 'release-ended']);
});

test('a queued unsigned start (startMany) under a worker that requires signatures ends refused, and gives back the lock the client took', async () => {
  requiringWorker();
  // the client cannot know the worker's policy: the release is queued holding its lock
  await expect(h.releases.startMany([gatedSpec('cart', false)], { initiator: 'carol' })).resolves.toEqual([{ releaseId: 'cart@2.0.0', created: true, queued: true }]);
  const result = await h.finish('cart@2.0.0');
  expect(result).toMatchObject({ outcome: 'failed', cause: 'unsigned' });
  expect(exitCodeFor(result)).toBe(3);
  expect(h.world.calls).toEqual([]);
  // the lock is given back by the refused release (not found stale later, or ended by its own check)
  const lock = h.env.client.workflow.getHandle('tidegate-lock/cart');
  await expect(lock.result()).resolves.toEqual({ released: 'by-holder' });
});

test('a start signed with a key the worker does not list is refused, and on record (exit 3)', async () => {
  requiringWorker();
  await expect(h.releases.start(gatedSpec('cart', false), { initiator: 'alice', signer: sshKeygenSigner(key('mallory')) })).rejects.toThrow(RefusedError);
  const result = await h.finish('cart@2.0.0');
  expect(result).toMatchObject({ outcome: 'failed', cause: 'unsigned' });
  expect(result.reason).toMatch(/^the worker requires signed decisions \(TIDEGATE_REQUIRE_SIGNED\) and its start signature was refused \(the signing key SHA256:\S+ is not one of the signer's allowed keys\)/);
  expect(result.status.refusals).toEqual([expect.objectContaining({ decision: 'start', by: 'alice' })]);
  expect(h.world.calls).toEqual([]);
});

test('a start signed for another spec (same release id and images) is refused: the signer vouches for what runs', async () => {
  requiringWorker();
  const signed = gatedSpec('cart', false);
  const runs = gatedSpec('cart', false);
  const approval = runs.services[0]?.production.approval;
  if (approval) approval.approvers = ['carol', 'mallory'];
  const text = canonicalJson(
    makeStatement({
      decision: 'start',
      principal: 'carol',
      releaseId: 'cart@2.0.0',
      services: [{ service: 'cart', image: 'registry.local/cart:2.0.0' }],
      issuedAt: new Date(Date.now() - 1_000).toISOString().slice(0, 19) + 'Z',
      expiresAt: new Date(Date.now() + 600_000).toISOString().slice(0, 19) + 'Z',
      spec: specDigest(signed),
    }),
  );
  const signedStart = { statement: text, signature: await sshKeygenSigner(key('carol'))(text, 'tidegate') };
  const input: ReleaseInput = { contract: 1, spec: runs, initiator: 'carol', supersede: false, signedStart };
  await h.env.client.workflow.start('release', { workflowId: 'cart@2.0.0', taskQueue: h.taskQueue, args: [input] });
  const result = await h.finish('cart@2.0.0');
  expect(result).toMatchObject({ outcome: 'failed', cause: 'unsigned' });
  expect(result.reason).toMatch(/its start signature was refused \(the start was signed for another spec \(sha256 [0-9a-f]{12}…\), not the one this release runs \(sha256 [0-9a-f]{12}…\)\)/);
  expect(h.world.calls).toEqual([]);
});


/** A canary with two promote pauses, then the gate, signatures required by the spec. */
function twoPauseSpec(service: string, version = '2.0.0') {
  return specFor(service, version, (doc) => {
    delete doc.staging;
    delete doc.production.monitor;
    doc.production.canary = { traffic: { router: 'gateway-api', httpRoute: service }, steps: [{ setWeight: 10 }, { pause: {} }, { setWeight: 50 }, { pause: {} }] };
    doc.production.approval = { approvers: ['alice', 'bob'], minApprovals: 1, timeout: '24h', onTimeout: 'rollback', requireSignature: true };
  });
}

test('when signatures are required, promote and abort must be signed too: unsigned, replayed, misbound and unlisted ones are refused and recorded; a signed abort rolls back', async () => {
  const signersFile = join(dir, 'allowed_signers-controls');
  writeFileSync(signersFile, allowedSigners(['alice', 'bob', 'carol']));
  h.world.signing = { allowedSignersFile: signersFile, requireSigned: false };
  const { releaseId } = await h.releases.start(twoPauseSpec('till'), { initiator: 'carol', signer: sshKeygenSigner(key('carol')) });
  const first = await h.until(releaseId, pausedAt('awaiting-promote', 2));
  expect(first.controls).toMatchObject({ requireSigned: true, signers: { source: signersFile, principals: ['alice', 'bob', 'carol'] }, decisions: [] });
  // a newer release whose spec does not require signatures cannot supersede it unsigned: refused before it starts
  await expect(h.releases.start(specFor('till', '2.0.1'), { initiator: 'dave', supersede: true })).rejects.toThrow(
    new RefusedError(`${releaseId} requires signed decisions: supersede it with --key <your SSH key> (it rolls back only for a signed start)`),
  );

  const now = Date.now();
  const promoteBy = (by: string, edit: Partial<Statement> = {}): string =>
    canonicalJson({
      ...makeStatement({
        decision: 'promote',
        principal: by,
        releaseId,
        runId: first.runId ?? '',
        services: [{ service: 'till', image: 'registry.local/till:2.0.0' }],
        issuedAt: new Date(now - 1_000).toISOString().slice(0, 19) + 'Z',
        expiresAt: new Date(now + 600_000).toISOString().slice(0, 19) + 'Z',
      }),
      ...edit,
    });
  const promote = async (by: string, statement: string, signer: string, full = false): Promise<string> => {
    const signature = await sshKeygenSigner(key(signer))(statement, 'tidegate');
    try {
      await h.env.client.workflow.getHandle(releaseId).executeUpdate(promoteUpdate, { args: [{ by, full, signed: { statement, signature } }] });
      return 'accepted';
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) return err.cause?.message ?? err.message;
      throw err;
    }
  };

  // unsigned: refused at once (the CLI exits 3), on record
  const unsigned = await h.releases.promote(releaseId, 'alice').catch((err: unknown) => err);
  expect(unsigned).toEqual(new RefusedError("this release requires a signed promote: run `tidegate promote … --key <your SSH key>` (approval.requireSignature or the worker's TIDEGATE_REQUIRE_SIGNED)"));
  expect(exitCodeFor({ outcome: 'failed', cause: 'unsigned' })).toBe(3);
  // misbound or unlisted
  expect(await promote('alice', promoteBy('alice'), 'alice', true)).toBe('the statement is a promote of the current pause only, but the request is promote --full');
  expect(await promote('alice', promoteBy('alice', { runId: 'another-run' }), 'alice')).toMatch(/^the statement is for run another-run, not this run/);
  expect(await promote('alice', promoteBy('alice', { decision: 'abort' }), 'alice')).toBe('the statement is a signed "abort", not "promote"');
  expect(await promote('erin', promoteBy('erin'), 'erin')).toMatch(/^erin has no key valid now for namespace "tidegate" in the allowed signers: /);
  expect(await promote('alice', promoteBy('alice'), 'mallory')).toMatch(/^the signing key SHA256:\S+ is not one of the signer's allowed keys$/);
  // signed by alice: taken, with its proof
  const alices = promoteBy('alice');
  expect(await promote('alice', alices, 'alice')).toBe('accepted');
  const second = await h.until(releaseId, pausedAt('awaiting-promote', 4));
  expect(second.controls?.decisions).toEqual([expect.objectContaining({ decision: 'promote', by: 'alice', proof: expect.objectContaining({ keyType: 'ssh-ed25519', fingerprint: fingerprintOf('alice'), statement: alices }) })]);
  // the same signed statement again, at the next pause: it counts once (refused by the validator, which a
  // client that sends updates itself does not report; the CLI reports every refusal it gets)
  expect(await promote('alice', alices, 'alice')).toBe('this signed promote was already used in this release: sign a new one');

  // abort: unsigned through the client (an update) and as a bare signal are both refused; the release goes on
  await expect(h.releases.abort(releaseId, 'bob', 'error budget burnt')).rejects.toThrow(
    new RefusedError("this release requires a signed abort: run `tidegate abort … --key <your SSH key>` (approval.requireSignature or the worker's TIDEGATE_REQUIRE_SIGNED)"),
  );
  await h.env.client.workflow.getHandle(releaseId).signal(abortSignal, { by: 'mallory', reason: 'no key needed?' });
  await expect(h.releases.abort(releaseId, 'bob', 'error budget burnt', sshKeygenSigner(key('mallory')))).rejects.toThrow(/is not one of the signer's allowed keys$/);
  const still = await h.until(releaseId, (s) => (s.refusals ?? []).length >= 4);
  expect(still.outcome).toBeUndefined();
  expect(still.pause?.code).toBe('awaiting-promote');
  // signed by bob: the release rolls back
  await expect(h.releases.abort(releaseId, 'bob', 'error budget burnt', sshKeygenSigner(key('bob')))).resolves.toEqual({ abortedBy: 'bob', accepted: true, queued: false });
  const result = await h.finish(releaseId);
  expect(result).toMatchObject({ outcome: 'aborted', cause: 'aborted' });
  expect(result.status.controls?.decisions.map((d) => [d.decision, d.by, d.proof?.fingerprint])).toEqual([
    ['promote', 'alice', fingerprintOf('alice')],
    ['abort', 'bob', fingerprintOf('bob')],
  ]);
  expect(result.status.refusals?.map((r) => [r.decision, r.by, r.reason])).toEqual([
    ['promote', 'alice', expect.stringMatching(/^this release requires a signed promote/)],
    ['promote', 'alice', expect.stringMatching(/is not one of the signer's allowed keys$/)],
    ['abort', 'bob', expect.stringMatching(/^this release requires a signed abort/)],
    ['abort', 'mallory', 'this release requires a signed abort: run `tidegate abort … --key <your SSH key>` (an abort signal carries no signature)'],
    ['abort', 'bob', expect.stringMatching(/is not one of the signer's allowed keys$/)],
  ]);
  expect(result.status.timeline.filter((t) => t.code === 'abort-requested').map((t) => t.event)).toEqual([`abort requested by bob: error budget burnt (signed, ecdsa-sha2-nistp256 ${fingerprintOf('bob')})`]);

  // the auditor sees the promote and the abort verified, and the bare signal as unsigned
  const history = await h.env.client.workflow.getHandle(releaseId).fetchHistory();
  const attestation = await attest(history, allowedSigners(['alice', 'bob', 'carol']), releaseId);
  expect(attestation.ok).toBe(true);
  // (the bare signal has no answer in the history: the final status says the release refused it)
  expect(attestation.decisions.filter((d) => d.outcome === 'accepted' || d.by === 'mallory').map((d) => [d.decision, d.by, d.outcome, d.signature?.ok, d.binding?.ok, d.refusal])).toEqual([
    ['promote', 'alice', 'accepted', true, true, undefined],
    ['abort', 'mallory', 'refused', undefined, undefined, 'this release requires a signed abort: run `tidegate abort … --key <your SSH key>` (an abort signal carries no signature)'],
    ['abort', 'bob', 'accepted', true, true, undefined],
  ]);
});

test('a release that requires signatures is superseded only by a release with a verified signed start', async () => {
  requiringWorker();
  const old = await h.releases.start(twoPauseSpec('bar', '2.0.0'), { initiator: 'carol', signer: sshKeygenSigner(key('carol')) });
  await h.until(old.releaseId, pausedAt('awaiting-promote', 2));
  // an unsigned start is refused (the worker requires signatures), so it never asks
  await expect(h.releases.start(twoPauseSpec('bar', '2.0.1'), { initiator: 'alice', supersede: true })).rejects.toThrow(RefusedError);
  // a bare supersede signal, as a forged one would be, is refused and recorded
  await h.env.client.workflow.getHandle(old.releaseId).signal(abortSignal, { by: 'mallory', reason: 'superseded by bar@9.9.9', supersededBy: 'bar@9.9.9' });
  const refused = await h.until(old.releaseId, (s) => (s.refusals ?? []).length === 1);
  expect(refused.refusals?.[0]).toMatchObject({ decision: 'abort', by: 'mallory', reason: 'superseding by bar@9.9.9 needs its signed start: this release requires signed decisions (start bar@9.9.9 with --key)' });
  expect(refused.outcome).toBeUndefined();
  // a signed start supersedes it
  const next = await h.releases.start(twoPauseSpec('bar', '2.0.2'), { initiator: 'alice', signer: sshKeygenSigner(key('alice')), supersede: true });
  const ended = await h.until(old.releaseId, (s) => s.outcome !== undefined);
  expect(ended).toMatchObject({ outcome: 'aborted', cause: 'superseded' });
  expect(ended.timeline.find((t) => t.code === 'superseded')?.event).toBe(`superseded by bar@2.0.2 (alice; signed, ssh-ed25519 ${fingerprintOf('alice')})`);
  await h.until(next.releaseId, pausedAt('awaiting-promote', 2));
});

test('an abort while no worker answers is queued as the signal, on record in the history; a signed one needs a worker to verify it and is refused', async () => {
  // a task queue no worker polls: the release is started but nothing runs it
  const idle = new Releases(h.env.client, 'no-worker-here');
  const { releaseId } = await idle.start(specFor('quiet', '1.0.0'), { initiator: 'dave', lockWaitMs: 0 });
  await expect(idle.abort(releaseId, 'dave', 'changed my mind', sshKeygenSigner(key('alice')))).rejects.toThrow(
    new RefusedError(`${releaseId} does not answer (no worker is running?): a signed abort needs a worker to verify it; try again when one runs`),
  );
  await expect(idle.abort(releaseId, 'dave', 'changed my mind')).resolves.toEqual({ abortedBy: 'dave', accepted: true, queued: true });
  const history = await h.env.client.workflow.getHandle(releaseId).fetchHistory();
  expect(history.events?.filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'abort')).toHaveLength(1);
}, 60_000);

test('a release read and refused before its gate opened replays as a worker that restarts would replay it: the gate and its signed approvals come out the same', async () => {
  // given a signed gate, and a release that `status` reads and an early approval tries before the gate opens
  writeFileSync(join(dir, 'allowed_signers-replay'), allowedSigners(['alice', 'bob', 'carol']));
  h.world.signing = { allowedSignersFile: join(dir, 'allowed_signers-replay'), requireSigned: false };
  const { releaseId } = await h.releases.start(gatedSpec('ledger'), { initiator: 'carol', signer: sshKeygenSigner(key('carol')) });
  await h.until(releaseId, pausedAt('awaiting-promote', 2));
  for (let i = 0; i < 5; i++) await h.releases.status(releaseId);
  await expect(h.releases.approve(releaseId, 'alice', undefined, sshKeygenSigner(key('alice')))).rejects.toThrow(RefusedError);
  // when it is promoted to its gate and two signed approvals release it
  await h.releases.promote(releaseId, 'carol', false, sshKeygenSigner(key('carol')));
  const open = await h.until(releaseId, (s) => s.stage === 'approval' && s.services[0]?.gate !== undefined);
  for (let i = 0; i < 5; i++) await h.releases.status(releaseId);
  for (const by of ['alice', 'bob']) await h.releases.approve(releaseId, by, undefined, sshKeygenSigner(key(by)));
  expect((await h.finish(releaseId)).outcome).toBe('released');
  // then its history replays without a nondeterminism error: the reads and the refusal changed nothing
  // the workflow computes (once, a status query's tracing span moved the gate's nonce, and the replay
  // refused the approvals the run had accepted)
  const history = await h.env.client.workflow.getHandle(releaseId).fetchHistory();
  expect(open.services[0]?.gate?.nonce).toBeDefined();
  await expect(replayAsWorker(history, releaseId)).resolves.toBeUndefined();
}, 180_000);
