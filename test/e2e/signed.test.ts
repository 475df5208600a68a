// Signed approvals through the CLI against the local stack (Temporal dev server, the control plane
// with the sample service) and a `tidegate worker` process whose environment requires signatures
// (TIDEGATE_REQUIRE_SIGNED) and lists the approvers' keys (TIDEGATE_ALLOWED_SIGNERS): `--as` alone
// is refused (exit 3), a key file and a key held by ssh-agent both sign, a missing key is bad input
// (exit 2), promote and abort must be signed too (abort here by an OIDC ID token from a local issuer
// the worker trusts, through --id-token-command), and `tidegate verify` re-checks the release from
// its history — exported to a file too.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import type { ReleaseStatus } from '../../src/core/status.js';
import { connectClient, temporalSettings } from '../../src/temporal/connection.js';
import type { ManagedProcess } from '../../devkit/stack/process.js';
import { stackDown, stackEnv, stackUp } from '../../devkit/stack/stack.js';
import { repoRoot } from '../../devkit/toolchain/tools.js';
import { eventually, startWorkerProcess, tidegate, userEnv } from '../../devkit/testing/e2e.js';
import { tempDir } from '../../devkit/testing/servers.js';
import { startOidcIssuer, type LocalIssuer } from '../../devkit/testing/oidc-issuer.js';

const dir = tempDir('e2e-signed');
const SPEC = join(repoRoot, 'test/fixtures/specs/checkout-without-analysis.yaml');
const key = (who: string): string => join(dir, who);
let env: NodeJS.ProcessEnv;
let worker: ManagedProcess;
let agent: { pid: number; sock: string } | undefined;
let idp: LocalIssuer;

async function status(id: string): Promise<ReleaseStatus> {
  const r = await tidegate(env, 'status', id, '--json');
  if (r.code !== 0) throw new Error(`status ${id} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as ReleaseStatus;
}

beforeAll(async () => {
  for (const who of ['alice', 'bob', 'carol', 'ci']) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', who, '-f', key(who)]);
  const line = (who: string): string => `${who} ${readFileSync(`${key(who)}.pub`, 'utf8').trim()}`;
  writeFileSync(join(dir, 'allowed_signers'), `${['alice', 'bob', 'carol', 'ci'].map(line).join('\n')}\n`);
  writeFileSync(join(dir, 'without-bob'), `${['alice', 'carol', 'ci'].map(line).join('\n')}\n`);
  // bob's key lives in an ssh-agent only: he signs with the .pub (as git does with user.signingKey)
  const sock = join(dir, 'agent.sock');
  const out = execFileSync('ssh-agent', ['-a', sock, '-s'], { encoding: 'utf8' });
  agent = { pid: Number(/SSH_AGENT_PID=(\d+)/.exec(out)?.[1]), sock };
  execFileSync('ssh-add', ['-q', key('bob')], { env: { ...process.env, SSH_AUTH_SOCK: sock } });

  idp = await startOidcIssuer();
  const state = await stackUp({ dir, components: ['temporal', 'kubernetes'] });
  env = userEnv(stackEnv(state), { TIDEGATE_USER: 'ci', SSH_AUTH_SOCK: sock });
  worker = await startWorkerProcess(
    { ...env, TIDEGATE_ALLOWED_SIGNERS: join(dir, 'allowed_signers'), TIDEGATE_REQUIRE_SIGNED: 'true', TIDEGATE_OIDC_ISSUERS: JSON.stringify([{ issuer: idp.issuer, audience: idp.audience, principals: ['*@example.com'] }]) },
    join(dir, 'worker.log'),
  );
}, 300_000);

afterAll(async () => {
  await worker?.stop();
  await stackDown(dir);
  await idp?.stop();
  if (agent?.pid) process.kill(agent.pid);
});

test('with signatures required by the worker, an unsigned start is refused before it touches anything (exit 3)', async () => {
  const started = await tidegate(env, 'start', '-f', SPEC, '--version', '3.0.9', '--image', 'registry.local/checkout:3.0.9', '--wait');
  expect(started.code).toBe(3);
  expect(started.stderr).toContain('refused: the worker requires signed decisions (TIDEGATE_REQUIRE_SIGNED) and it was started unsigned: start it with `tidegate start … --key <your SSH key>`');
}, 120_000);

test('with signatures required by the worker, --as alone is refused, keys and ssh-agent sign, and verify re-checks the history', async () => {
  const id = 'checkout@3.1.0';
  expect((await tidegate(env, 'start', '-f', SPEC, '--version', '3.1.0', '--image', 'registry.local/checkout:3.1.0', '--key', key('ci'))).code).toBe(0);
  await eventually(`${id} to wait for promote`, () => status(id), (s) => s.pause?.code === 'awaiting-promote', 90_000);
  const unsignedPromote = await tidegate(env, 'promote', id);
  expect(unsignedPromote.code).toBe(3);
  expect(unsignedPromote.stderr).toContain('refused: this release requires a signed promote: run `tidegate promote … --key <your SSH key>`');
  const promoted = await tidegate(env, 'promote', id, '--as', 'carol', '--key', key('carol'));
  expect(promoted.code).toBe(0);
  expect(promoted.stdout).toContain(`${id}: promoted by carol (signed)`);
  const open = await eventually(`${id} to open its gate`, () => status(id), (s) => s.stage === 'approval' && s.services[0]?.gate !== undefined, 90_000);
  expect(open.services[0]?.gate).toMatchObject({ requireSigned: true, signers: { principals: ['alice', 'bob', 'carol', 'ci'] } });

  const unsigned = await tidegate(env, 'approve', id, '--as', 'alice');
  expect(unsigned.code).toBe(3);
  expect(unsigned.stderr).toContain('refused: this gate requires a signed approval: run `tidegate approve … --key <your SSH key>`');
  const missing = await tidegate(env, 'approve', id, '--as', 'alice', '--key', join(dir, 'no-such-key'));
  expect(missing.code).toBe(2);
  expect(missing.stderr).toContain(`error: no key file ${join(dir, 'no-such-key')}`);
  const wrongKey = await tidegate(env, 'approve', id, '--as', 'alice', '--key', key('carol'));
  expect(wrongKey.code).toBe(3);
  expect(wrongKey.stderr).toMatch(/^refused: the signing key SHA256:\S+ is not one of the signer's allowed keys/);

  const alice = await tidegate(env, 'approve', id, '--as', 'alice', '--key', key('alice'), '--comment', 'canary looks good');
  expect(alice.code).toBe(0);
  expect(alice.stdout).toContain(`${id}: approved by alice (signed) (1 approvals, 1 more needed)`);
  const text = await tidegate(env, 'status', id);
  expect(text.stdout).toMatch(/approvals: alice \[signed SHA256:\S+\] \("canary looks good"\)/);
  expect(text.stdout).toMatch(/approve by alice: this gate requires a signed approval/);
  const bob = await tidegate(env, 'approve', id, '--as', 'bob', '--key', `${key('bob')}.pub`);
  expect(bob.code).toBe(0);

  const done = await tidegate(env, 'status', id, '--wait', '--json');
  expect(done.code).toBe(0);
  const result = JSON.parse(done.stdout) as { status: ReleaseStatus };
  const fingerprint = (who: string): string => execFileSync('ssh-keygen', ['-l', '-f', `${key(who)}.pub`], { encoding: 'utf8' }).split(' ')[1] ?? '';
  expect(result.status.services[0]?.approvals.map((a) => [a.by, a.proof?.fingerprint])).toEqual([['alice', fingerprint('alice')], ['bob', fingerprint('bob')]]);
  expect(result.status.refusals?.map((r) => `${r.decision} by ${r.by}`)).toEqual(['promote by ci', 'approve by alice', 'approve by alice']);
  expect(result.status.controls?.decisions.map((d) => [d.decision, d.by, d.proof?.fingerprint])).toEqual([['promote', 'carol', fingerprint('carol')]]);

  // an auditor: from the server, then from an exported history file, and with a file lacking bob
  const verified = await tidegate(env, 'verify', id, '--allowed-signers', join(dir, 'allowed_signers'));
  console.log(`tidegate verify ${id} --allowed-signers allowed_signers\n${verified.stdout}`);
  expect(verified.code).toBe(0);
  expect(verified.stdout).toContain('every accepted signed decision verifies against your allowed signers');
  expect(verified.stdout).toMatch(/approve +by bob +signed ssh-ed25519 SHA256:\S+: signature good, bound to this release, run and gate +→ accepted/);
  const { client, close } = await connectClient(temporalSettings(env));
  const exported = join(dir, 'history.json');
  try {
    writeFileSync(exported, historyToJSON(await client.workflow.getHandle(id).fetchHistory()));
  } finally {
    await close();
  }
  const offline = await tidegate(env, 'verify', id, '--history', exported, '--allowed-signers', join(dir, 'allowed_signers'), '--json');
  expect(offline.code).toBe(0);
  expect(JSON.parse(offline.stdout)).toMatchObject({ releaseId: id, ok: true, gates: [{ for: 'start', requireSigned: true, sameAsYours: true }, { for: 'the approval gate of checkout', requireSigned: true, sameAsYours: true }] });
  const without = await tidegate(env, 'verify', id, '--history', exported, '--allowed-signers', join(dir, 'without-bob'));
  expect(without.code).toBe(1);
  expect(without.stdout).toContain('signature BAD: bob has no key in your allowed signers');
  expect(without.stdout).toContain('NOT the file you gave');
  expect(verified.stdout).toMatch(/started by ci signed ssh-ed25519 SHA256:\S+: signature good/);
  const bad = await tidegate(env, 'verify', id);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('verify needs --allowed-signers FILE');
}, 300_000);

test('abort must be signed too: unsigned it is refused (exit 3); proven by an OIDC ID token from --id-token-command it rolls the release back, and verify checks the token against the issuer keys', async () => {
  const id = 'checkout@3.2.0';
  expect((await tidegate(env, 'start', '-f', SPEC, '--version', '3.2.0', '--image', 'registry.local/checkout:3.2.0', '--key', key('ci'))).code).toBe(0);
  await eventually(`${id} to wait for promote`, () => status(id), (s) => s.pause?.code === 'awaiting-promote', 90_000);

  const unsigned = await tidegate(env, 'abort', id, '--reason', 'error budget burnt');
  expect(unsigned.code).toBe(3);
  expect(unsigned.stderr).toContain('refused: this release requires a signed abort: run `tidegate abort … --key <your SSH key>`');
  const both = await tidegate(env, 'abort', id, '--reason', 'x', '--key', key('alice'), '--id-token-command', 'true');
  expect(both.code).toBe(2);
  expect(both.stderr).toContain('give --key or --id-token-command, not both');
  const noToken = await tidegate(env, 'abort', id, '--as', 'erin@example.com', '--reason', 'error budget burnt', '--id-token-command', 'echo not-a-token');
  expect(noToken.code).toBe(2);
  expect(noToken.stderr).toContain('the ID token command did not print an ID token');
  expect((await status(id)).outcome).toBeUndefined();

  // erin signs in at the company's issuer with the statement's nonce; the command prints her ID token
  const signIn = `node -e 'fetch(process.argv[1] + "&nonce=" + process.env.TIDEGATE_NONCE).then((r) => r.text()).then((t) => process.stdout.write(t))' '${idp.issuer}/token?sub=erin-1&email=erin@example.com'`;
  const aborted = await tidegate(env, 'abort', id, '--as', 'erin@example.com', '--reason', 'error budget burnt', '--id-token-command', signIn);
  expect(aborted.code).toBe(0);
  expect(aborted.stdout).toContain(`${id}: abort requested by erin@example.com (signed); the release rolls back`);
  const done = await tidegate(env, 'status', id, '--wait', '--json');
  expect(done.code).toBe(12);
  const result = JSON.parse(done.stdout) as { status: ReleaseStatus };
  expect(result.status.controls?.decisions).toEqual([expect.objectContaining({ decision: 'abort', by: 'erin@example.com', proof: expect.objectContaining({ kind: 'oidc', keyType: 'oidc RS256', fingerprint: `${idp.issuer}#${idp.kid}` }) })]);
  expect((await tidegate(env, 'status', id)).stdout).toContain(`promote / abort: signed required; abort by erin@example.com [signed ${idp.issuer}#${idp.kid}]`);

  const jwks = join(dir, 'issuer-jwks.json');
  writeFileSync(jwks, JSON.stringify(idp.jwks()));
  const verified = await tidegate(env, 'verify', id, '--allowed-signers', join(dir, 'allowed_signers'), '--jwks', jwks);
  console.log(`tidegate verify ${id} --allowed-signers allowed_signers --jwks issuer-jwks.json\n${verified.stdout}`);
  expect(verified.code).toBe(0);
  expect(verified.stdout).toMatch(/abort +by erin@example.com +signed oidc RS256 \S+: signature good, bound to this release, run +→ accepted/);
  const blind = await tidegate(env, 'verify', id, '--allowed-signers', join(dir, 'allowed_signers'));
  expect(blind.code).toBe(1);
  expect(blind.stdout).toContain('pass --jwks FILE');
}, 300_000);
