// Signed decisions, piece by piece: the statement's canonical text and the checks that bind it, the
// allowed signers file as ssh-keygen reads it, and the SSHSIG verifier — with `ssh-keygen` as the
// reference: keys and signatures it makes verify here exactly when `ssh-keygen -Y verify` accepts them.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { matchesPatternList, parseAllowedSigners, signersFor, sshTimestamp } from '../../src/core/allowed-signers.js';
import { canonicalJson, checkStatement, makeStatement, parseStatement, type SignedStatement, type Statement } from '../../src/core/statement.js';
import { checkControl, checkSupersede, type ControlRequest } from '../../src/core/approval.js';
import { fingerprint, verifySshSignature } from '../../src/signing/sshsig.js';
import { specDigest } from '../../src/signing/digest.js';
import { createSigningActivities } from '../../src/activities/signing/index.js';
import { throughPayloads } from '../../devkit/testing/payloads.js';

describe('canonical JSON', () => {
  test.each<[unknown, string]>([
    [{ b: 1, a: ['x', { d: true, c: null }] }, '{"a":["x",{"c":null,"d":true}],"b":1}'],
    [{ z: 'é "q"\n', A: -3 }, '{"A":-3,"z":"é \\"q\\"\\n"}'],
    [{ skip: undefined, keep: 0 }, '{"keep":0}'],
    [[], '[]'],
  ])('%j → %s', (value, text) => {
    expect(canonicalJson(value)).toBe(text);
  });

  test.each([[1.5], [NaN], [Infinity], [2 ** 60]])('%p is refused: two parties could write it differently', (n) => {
    expect(() => canonicalJson({ n })).toThrow(RangeError);
  });
});

const base: Statement = makeStatement({
  decision: 'approve',
  principal: 'alice',
  releaseId: 'checkout@1.4.2',
  runId: 'run-1',
  gate: 'nonce-1',
  services: [{ service: 'web', image: 'r/web:2' }, { service: 'api', image: 'r/api:2' }],
  issuedAt: '2026-12-02T10:00:00Z',
  expiresAt: '2026-12-02T10:10:00Z',
  comment: 'lgtm',
});
const ctx = { decision: 'approve' as const, releaseId: 'checkout@1.4.2', runId: 'run-1', gate: 'nonce-1', services: [{ service: 'api', image: 'r/api:2' }, { service: 'web', image: 'r/web:2' }], now: Date.parse('2026-12-02T10:01:00Z') };

describe('statements', () => {
  test('makeStatement sorts the services, and its canonical text reads back as the same statement', () => {
    expect(base.services.map((s) => s.service)).toEqual(['api', 'web']);
    expect(parseStatement(canonicalJson(base))).toEqual({ ok: true, value: base });
  });

  test.each<[string, string, string]>([
    ['not JSON', 'nope', 'the statement is not JSON'],
    ['whitespace', JSON.stringify(base, null, 1), 'the statement is not in canonical form (sorted keys, no whitespace): sign the text the CLI builds'],
    ['an unknown field', canonicalJson({ ...base, role: 'admin' }), 'the statement has unknown fields: role'],
    ['another version', canonicalJson({ ...base, v: 2 }), "the statement's version is 2; this worker reads version 1"],
    ['another decision', canonicalJson({ ...base, decision: 'deploy' }), "the statement's decision must be one of start, approve, reject, promote, abort"],
    ['a local time', canonicalJson({ ...base, issuedAt: '2026-12-02 10:00' }), "the statement's issuedAt must be an ISO time in UTC, like 2026-12-02T10:00:00Z"],
    ['a day that does not exist', canonicalJson({ ...base, expiresAt: '2026-02-30T10:00:00Z' }), "the statement's expiresAt must be an ISO time in UTC, like 2026-12-02T10:00:00Z"],
    ['an hour that does not exist', canonicalJson({ ...base, issuedAt: '2026-12-02T24:30:00Z' }), "the statement's issuedAt must be an ISO time in UTC, like 2026-12-02T10:00:00Z"],
    ['no services', canonicalJson({ ...base, services: [] }), "the statement's services must be a non-empty list of {service, image}"],
  ])('parseStatement refuses %s', (_, text, reason) => {
    expect(parseStatement(text)).toEqual({ ok: false, reason });
  });

  test.each<[string, Partial<Statement>, Partial<typeof ctx>, string | undefined]>([
    ['the same release, run, gate and images, now', {}, {}, undefined],
    ['another decision', { decision: 'reject' }, {}, 'the statement is a signed "reject", not "approve"'],
    ['another release', { releaseId: 'checkout@1.4.1' }, {}, 'the statement is for release checkout@1.4.1, not checkout@1.4.2'],
    ['another run (a replayed approval)', { runId: 'run-0' }, {}, 'the statement is for run run-0, not this run (run-1): sign again for the release as it runs now'],
    ['another gate', { gate: 'nonce-0' }, {}, 'the statement is for gate nonce-0, not the gate open now (nonce-1)'],
    ['other images', { services: [{ service: 'api', image: 'r/api:3' }, { service: 'web', image: 'r/web:2' }] }, {}, 'the statement names api=r/api:3, web=r/web:2, but the release is api=r/api:2, web=r/web:2'],
    ['an expired statement', {}, { now: Date.parse('2026-12-02T10:10:00Z') }, 'the statement expired at 2026-12-02T10:10:00Z (the workflow\'s time is 2026-12-02T10:10:00.000Z)'],
    ['one issued in the future', {}, { now: Date.parse('2026-12-02T09:54:00Z') }, 'the statement was issued in the future (2026-12-02T10:00:00Z; the workflow\'s time is 2026-12-02T09:54:00.000Z)'],
    ['one valid for a day', { expiresAt: '2026-12-03T10:00:00Z' }, {}, 'the statement is valid for 1440 min; at most 60 min is accepted'],
  ])('checkStatement: %s', (_, edit, at, reason) => {
    const verdict = checkStatement({ ...base, ...edit }, { ...ctx, ...at });
    expect(verdict.ok ? undefined : verdict.reason).toBe(reason);
  });
});

describe('allowed signers', () => {
  const file = [
    '# team',
    'alice@example.com,bob@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA== laptop',
    '*@ops.example.com,!mallory@ops.example.com namespaces="tidegate,git",valid-after="20261201",valid-before="202612311200Z" ecdsa-sha2-nistp256 AAAAE2VjZHNh',
    '',
    'carol cert-authority ssh-ed25519 AAAA',
    'dave valid-after="2026-12-01" ssh-ed25519 AAAA',
    'erin ssh-dss AAAA',
    'frank',
  ].join('\n');

  test('reads principals, options and keys as ssh-keygen does, and names each bad line', () => {
    const { signers, problems } = parseAllowedSigners(file);
    expect(signers).toEqual([
      { line: 2, principals: ['alice@example.com', 'bob@example.com'], keyType: 'ssh-ed25519', key: 'AAAAC3NzaC1lZDI1NTE5AAAAIA==' },
      {
        line: 3,
        principals: ['*@ops.example.com', '!mallory@ops.example.com'],
        namespaces: ['tidegate', 'git'],
        validAfter: '2026-12-01T00:00:00.000Z',
        validBefore: '2026-12-31T12:00:00.000Z',
        keyType: 'ecdsa-sha2-nistp256',
        key: 'AAAAE2VjZHNh',
      },
    ]);
    expect(problems).toEqual([
      { line: 5, message: "cert-authority (SSH certificates) is not supported: list each signer's key" },
      { line: 6, message: 'valid-after="2026-12-01" is not a timestamp (YYYYMMDD[Z] or YYYYMMDDHHMM[SS][Z])' },
      { line: 7, message: 'unsupported key type "ssh-dss" (supported: ssh-ed25519, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, ssh-rsa, sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com)' },
      { line: 8, message: 'expected "principals [options] keytype base64-key [comment]"' },
    ]);
  });

  test.each<[string[], string, boolean]>([
    [['alice'], 'alice', true],
    [['alice'], 'alice2', false],
    [['*@example.com'], 'bob@example.com', true],
    [['*@example.com', '!mallory@example.com'], 'mallory@example.com', false],
    [['!mallory'], 'alice', false],
    [['bo?'], 'bob', true],
    [['a.c'], 'abc', false],
  ])('matchesPatternList(%j, %s) → %s', (patterns, name, expected) => {
    expect(matchesPatternList(patterns, name)).toBe(expected);
  });

  test.each<[string, string | undefined]>([
    ['20261201', '2026-12-01T00:00:00.000Z'],
    ['20261201Z', '2026-12-01T00:00:00.000Z'],
    ['202612011530', '2026-12-01T15:30:00.000Z'],
    ['20261201153059Z', '2026-12-01T15:30:59.000Z'],
    ['20261301', undefined],
    ['2026120115', undefined],
  ])('sshTimestamp(%s) → %s', (text, iso) => {
    expect(sshTimestamp(text)).toBe(iso);
  });

  test("signersFor keeps a principal's keys for the namespace, valid at the time", () => {
    const { signers } = parseAllowedSigners(file);
    const at = Date.parse('2026-12-02T00:00:00Z');
    expect(signersFor(signers, 'ops1@ops.example.com', 'tidegate', at).map((s) => s.line)).toEqual([3]);
    expect(signersFor(signers, 'ops1@ops.example.com', 'file', at)).toEqual([]);
    expect(signersFor(signers, 'ops1@ops.example.com', 'tidegate', Date.parse('2027-01-01T00:00:00Z'))).toEqual([]);
    expect(signersFor(signers, 'mallory@ops.example.com', 'tidegate', at)).toEqual([]);
    expect(signersFor(signers, 'bob@example.com', 'anything', at).map((s) => s.line)).toEqual([2]);
  });
});

describe('SSHSIG, against ssh-keygen', () => {
  let dir: string;
  const keyTypes: [string, string[]][] = [
    ['ed25519', ['-t', 'ed25519']],
    ['ecdsa-p256', ['-t', 'ecdsa', '-b', '256']],
    ['ecdsa-p384', ['-t', 'ecdsa', '-b', '384']],
    ['ecdsa-p521', ['-t', 'ecdsa', '-b', '521']],
    ['rsa-3072', ['-t', 'rsa', '-b', '3072']],
  ];
  const message = canonicalJson(base);
  const pubOf = (name: string): string => readFileSync(join(dir, `${name}.pub`), 'utf8').split(' ')[1] ?? '';
  const signWith = (name: string, namespace = 'tidegate', extra: string[] = [], input = message): string =>
    execFileSync('ssh-keygen', ['-Y', 'sign', '-n', namespace, '-f', join(dir, name), ...extra], { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'] });
  /** What ssh-keygen -Y verify says about the same message, signature and signer. */
  const reference = (signature: string, signer: string, namespace = 'tidegate', input = message): boolean => {
    const sig = join(dir, 'ref.sig');
    writeFileSync(sig, signature);
    writeFileSync(join(dir, 'allowed'), `${signer} ${readFileSync(join(dir, `${signer}.pub`), 'utf8')}`);
    return spawnSync('ssh-keygen', ['-Y', 'verify', '-f', join(dir, 'allowed'), '-I', signer, '-n', namespace, '-s', sig], { input }).status === 0;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tidegate-sshsig-'));
    for (const [name, args] of keyTypes) execFileSync('ssh-keygen', ['-q', ...args, '-N', '', '-C', name, '-f', join(dir, name)]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test.each(keyTypes.map(([name]) => [name]))('%s: a signature by ssh-keygen verifies, with the fingerprint ssh-keygen -l prints', (name) => {
    const signature = signWith(name);
    const verdict = verifySshSignature(message, signature, 'tidegate', [pubOf(name)]);
    expect(reference(signature, name)).toBe(true);
    expect(verdict).toEqual({ ok: true, keyType: expect.any(String), fingerprint: execFileSync('ssh-keygen', ['-l', '-f', join(dir, `${name}.pub`)], { encoding: 'utf8' }).split(' ')[1] });
  });

  test('sha256 as the message hash (ssh-keygen -O hashalg=sha256) verifies too', () => {
    const signature = signWith('ed25519', 'tidegate', ['-O', 'hashalg=sha256']);
    expect(reference(signature, 'ed25519')).toBe(true);
    expect(verifySshSignature(message, signature, 'tidegate', [pubOf('ed25519')]).ok).toBe(true);
  });

  test.each(keyTypes.map(([name]) => [name]))('%s: a changed statement, another namespace or another key is refused, as ssh-keygen refuses it', (name) => {
    const signature = signWith(name);
    const tampered = message.replace('lgtm', 'LGTM');
    expect(reference(signature, name, 'tidegate', tampered)).toBe(false);
    expect(verifySshSignature(tampered, signature, 'tidegate', [pubOf(name)])).toEqual({ ok: false, reason: expect.stringMatching(/^the signature does not verify: /) });

    const other = signWith(name, 'git');
    expect(reference(other, name)).toBe(false);
    expect(verifySshSignature(message, other, 'tidegate', [pubOf(name)])).toEqual({ ok: false, reason: 'the signature is in namespace "git", not "tidegate" (sign with ssh-keygen -Y sign -n tidegate)' });

    const stranger = keyTypes.find(([n]) => n !== name)?.[0] ?? '';
    expect(verifySshSignature(message, signature, 'tidegate', [pubOf(stranger)])).toEqual({ ok: false, reason: expect.stringMatching(/^the signing key SHA256:\S+ is not one of the signer's allowed keys$/) });
  });

  test('an ECDSA signature re-encoded without the sign byte of r (a negative mpint) is refused, as ssh-keygen refuses it', () => {
    const str = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, 0].map((_, i) => (b.length >>> (24 - 8 * i)) & 0xff)), b]);
    const read = (buf: Buffer, at: number): [Buffer, number] => {
      const n = buf.readUInt32BE(at);
      return [buf.subarray(at + 4, at + 4 + n), at + 4 + n];
    };
    for (let attempt = 0; attempt < 20; attempt++) {
      const armored = signWith('ecdsa-p256');
      const body = Buffer.from(armored.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
      // SSHSIG: magic(6) version(4) publickey namespace reserved hash signature
      let at = 10;
      const fields: Buffer[] = [];
      for (let i = 0; i < 5; i++) {
        const [f, next] = read(body, at);
        fields.push(f);
        at = next;
      }
      const [format, afterFormat] = read(fields[4] ?? Buffer.alloc(0), 0);
      const [inner] = read(fields[4] ?? Buffer.alloc(0), afterFormat);
      const [r, afterR] = read(inner, 0);
      const [sv] = read(inner, afterR);
      if (r[0] !== 0) continue; // r needs no sign byte: try another signature
      const padded = str(Buffer.concat([str(r.subarray(1)), str(sv)]));
      const sigBlob = Buffer.concat([str(format), padded]);
      const rebuilt = Buffer.concat([body.subarray(0, 10), ...fields.slice(0, 4).map(str), str(sigBlob)]);
      const forged = `-----BEGIN SSH SIGNATURE-----\n${rebuilt.toString('base64')}\n-----END SSH SIGNATURE-----\n`;
      expect(reference(forged, 'ecdsa-p256')).toBe(false);
      expect(verifySshSignature(message, forged, 'tidegate', [pubOf('ecdsa-p256')])).toEqual({ ok: false, reason: 'the signature is malformed: a negative mpint' });
      return;
    }
    throw new Error('20 signatures in a row had r < 2^255');
  });

  test.each<[string, string]>([
    ['not armored', 'hello'],
    ['not base64', '-----BEGIN SSH SIGNATURE-----\n!!!\n-----END SSH SIGNATURE-----'],
    ['truncated', '-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAQ==\n-----END SSH SIGNATURE-----'],
    ['no preamble', '-----BEGIN SSH SIGNATURE-----\nAAAAAAAAAAAAAAAA\n-----END SSH SIGNATURE-----'],
  ])('a malformed signature (%s) is a verdict with a reason, never a throw', (_, armored) => {
    const verdict = verifySshSignature(message, armored, 'tidegate', []);
    expect(verdict.ok).toBe(false);
    expect(verdict.ok ? '' : verdict.reason).toMatch(/^the signature is malformed: /);
  });

  test('the signing activities, through the payload converter: the worker\'s file read with its digest, a signature verified, a bad file and another spec refused non-retryably', async () => {
    const file = join(dir, 'worker_allowed_signers');
    const text = `# the worker's list\nalice namespaces="tidegate",valid-after="20260101Z" ${readFileSync(join(dir, 'ed25519.pub'), 'utf8').trim()}\nbob ${readFileSync(join(dir, 'rsa-3072.pub'), 'utf8').trim()}\n`;
    writeFileSync(file, text);
    const activities = throughPayloads(createSigningActivities({ allowedSignersFile: file, requireSigned: true }));
    const trust = await activities.readSignerTrust({ for: 'gate', service: 'checkout' });
    expect(trust).toMatchObject({ source: file, sha256: createHash('sha256').update(text).digest('hex'), requireSigned: true });
    expect(trust.signers.map((x) => [x.line, x.principals, x.keyType, x.namespaces, x.validAfter])).toEqual([
      [2, ['alice'], 'ssh-ed25519', ['tidegate'], '2026-01-01T00:00:00.000Z'],
      [3, ['bob'], 'ssh-rsa', undefined, undefined],
    ]);
    const keys = trust.signers.filter((x) => x.principals.includes('alice')).map((x) => x.key);
    await expect(activities.verifyStatement({ signed: { statement: message, signature: signWith('ed25519') }, keys, namespace: 'tidegate' })).resolves.toEqual({
      keyType: 'ssh-ed25519',
      fingerprint: execFileSync('ssh-keygen', ['-l', '-f', join(dir, 'ed25519.pub')], { encoding: 'utf8' }).split(' ')[1],
    });
    // a start statement signed for one spec, checked against another
    const start = canonicalJson(makeStatement({ ...base, decision: 'start', runId: undefined, gate: undefined, comment: undefined, spec: specDigest({ a: 1 }) } as Omit<Statement, 'v'>));
    await expect(activities.verifyStatement({ signed: { statement: start, signature: signWith('ed25519', 'tidegate', [], start) }, keys, namespace: 'tidegate', spec: { a: 1 } })).resolves.toMatchObject({ keyType: 'ssh-ed25519' });
    await expect(activities.verifyStatement({ signed: { statement: start, signature: signWith('ed25519', 'tidegate', [], start) }, keys, namespace: 'tidegate', spec: { a: 2 } })).rejects.toMatchObject({
      type: 'SignatureInvalid',
      nonRetryable: true,
      message: expect.stringMatching(/^the start was signed for another spec \(sha256 [0-9a-f]{12}…\), not the one this release runs/),
    });
    writeFileSync(file, `${text}carol cert-authority ssh-ed25519 AAAA\n`);
    await expect(activities.readSignerTrust({ for: 'start' })).rejects.toMatchObject({ type: 'AllowedSignersInvalid', nonRetryable: true, message: expect.stringContaining('line 4: cert-authority') });
    // a mounted file not there yet: an ordinary error, which the activity's retry policy retries
    const missing = createSigningActivities({ allowedSignersFile: join(dir, 'not-mounted-yet'), requireSigned: false });
    await expect(missing.readSignerTrust({ for: 'start' })).rejects.toThrow(/^cannot read the allowed signers file .*not-mounted-yet \(ENOENT\)$/);
  });

  // No FIDO authenticator here, so ssh-keygen cannot make an sk- signature: this one is built to
  // PROTOCOL.u2f with an Ed25519 key (the authenticator signs H(app) ‖ flags ‖ counter ‖ H(data)).
  test('sk-ssh-ed25519 (FIDO): a signature with user presence verifies, one without is refused', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
    const str = (b: Buffer | string): Buffer => {
      const body = typeof b === 'string' ? Buffer.from(b) : b;
      const len = Buffer.alloc(4);
      len.writeUInt32BE(body.length);
      return Buffer.concat([len, body]);
    };
    const type = 'sk-ssh-ed25519@openssh.com';
    const blob = Buffer.concat([str(type), str(raw), str('ssh:')]);
    const sha = (b: Buffer | string, alg = 'sha256'): Buffer => createHash(alg).update(b).digest();
    const signed = Buffer.concat([Buffer.from('SSHSIG'), str('tidegate'), str(''), str('sha512'), str(sha(message, 'sha512'))]);
    const armor = (flags: number): string => {
      const counter = Buffer.alloc(4);
      counter.writeUInt32BE(7);
      const sig = cryptoSign(null, Buffer.concat([sha('ssh:'), Buffer.from([flags]), counter, sha(signed)]), privateKey);
      const sigBlob = Buffer.concat([str(type), str(sig), Buffer.from([flags]), counter]);
      const version = Buffer.alloc(4);
      version.writeUInt32BE(1);
      const body = Buffer.concat([Buffer.from('SSHSIG'), version, str(blob), str('tidegate'), str(''), str('sha512'), str(sigBlob)]);
      return `-----BEGIN SSH SIGNATURE-----\n${body.toString('base64')}\n-----END SSH SIGNATURE-----`;
    };
    expect(verifySshSignature(message, armor(0x01), 'tidegate', [blob.toString('base64')])).toEqual({ ok: true, keyType: type, fingerprint: fingerprint(blob) });
    expect(verifySshSignature(message, armor(0x00), 'tidegate', [blob.toString('base64')])).toEqual({ ok: false, reason: 'the signature is malformed: the FIDO signature was made without user presence' });
  });
});

describe('promote and abort: checkControl and checkSupersede', () => {
  const trust = { source: '/etc/tidegate/allowed_signers', sha256: 'ab'.repeat(32), signers: parseAllowedSigners('alice ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKc\nerin namespaces="git" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKd\n').signers, requireSigned: true };
  const release = { releaseId: 'checkout@1.4.2', runId: 'run-1', services: [{ service: 'api', image: 'r/api:2' }, { service: 'web', image: 'r/web:2' }], now: Date.parse('2026-12-02T10:01:00Z'), initiatorProven: true };
  const control = (edit: Partial<Statement>): SignedStatement => ({ statement: canonicalJson({ ...makeStatement({ ...base, decision: 'promote', gate: undefined, comment: undefined }), ...edit }), signature: 'sig' });
  const none = new Set<string>();

  test.each<[string, Parameters<typeof checkControl>[0], ControlRequest, ReturnType<typeof checkControl>]>([
    ['unsigned, not required', { ...trust, requireSigned: false }, { decision: 'promote', by: 'alice', signed: undefined }, { ok: true, signed: false }],
    ['unsigned, not a signed-controls release', undefined, { decision: 'abort', by: 'alice', signed: undefined, reason: 'x' }, { ok: true, signed: false }],
    ['unsigned, required', trust, { decision: 'abort', by: 'alice', signed: undefined, reason: 'x' }, { ok: false, reason: "this release requires a signed abort: run `tidegate abort … --key <your SSH key>` (approval.requireSignature or the worker's TIDEGATE_REQUIRE_SIGNED)" }],
    ['signed, release before signed controls', undefined, { decision: 'promote', by: 'alice', signed: control({}) }, { ok: false, reason: 'this release started before signed promotes: send it without --key' }],
    ['signed as someone else', trust, { decision: 'promote', by: 'bob', signed: control({}) }, { ok: false, reason: 'the statement is signed as alice, not bob' }],
    ['an abort whose reason differs', trust, { decision: 'abort', by: 'alice', signed: control({ decision: 'abort', comment: 'incident' }), reason: 'incident 42' }, { ok: false, reason: 'the reason sent is not the one signed ("incident")' }],
    ['--full not signed', trust, { decision: 'promote', by: 'alice', signed: control({}), full: true }, { ok: false, reason: 'the statement is a promote of the current pause only, but the request is promote --full' }],
    ['--full signed, not sent', trust, { decision: 'promote', by: 'alice', signed: control({ full: true }) }, { ok: false, reason: 'the statement is promote --full, but the request is a promote of the current pause only' }],
    ['another run', trust, { decision: 'promote', by: 'alice', signed: control({ runId: 'run-0' }) }, { ok: false, reason: 'the statement is for run run-0, not this run (run-1): sign again for the release as it runs now' }],
    ['an approval sent as a promote', trust, { decision: 'promote', by: 'alice', signed: control({ decision: 'approve' }) }, { ok: false, reason: 'the statement is a signed "approve", not "promote"' }],
    ['a principal without a key for the namespace', trust, { decision: 'promote', by: 'erin', signed: control({ principal: 'erin' }) }, { ok: false, reason: 'erin has no key valid now for namespace "tidegate" in the allowed signers: /etc/tidegate/allowed_signers (sha256 abababababab…)' }],
    ['a good one', trust, { decision: 'promote', by: 'alice', signed: control({ full: true }), full: true }, { ok: true, signed: true, keys: ['AAAAC3NzaC1lZDI1NTE5AAAAIKc'] }],
  ])('checkControl: %s', (_, t, req, verdict) => {
    expect(checkControl(t, req, release, none)).toEqual(verdict);
  });

  test('checkControl: a statement already used counts once', () => {
    const signed = control({});
    expect(checkControl(trust, { decision: 'promote', by: 'alice', signed }, release, new Set([signed.statement]))).toEqual({ ok: false, reason: 'this signed promote was already used in this release: sign a new one' });
  });

  const start = (edit: Partial<Statement>): SignedStatement => ({ statement: canonicalJson({ ...makeStatement({ ...base, decision: 'start', releaseId: 'checkout@1.4.3', runId: undefined, gate: undefined, comment: undefined, supersede: true }), ...edit }), signature: 'sig' });
  const oldRelease = { ...release, startedAt: Date.parse('2026-12-02T09:30:00Z') };
  test.each<[string, SignedStatement | undefined, string, ReturnType<typeof checkSupersede>]>([
    ['no signed start', undefined, 'alice', { ok: false, reason: 'superseding by checkout@1.4.3 needs its signed start: this release requires signed decisions (start checkout@1.4.3 with --key)' }],
    ['a start not signed as a supersede', start({ supersede: undefined }), 'alice', { ok: false, reason: 'the start of checkout@1.4.3 was not signed as a supersede (tidegate start … --supersede --key)' }],
    ['a start signed before this release began', start({ issuedAt: '2026-12-02T09:00:00Z', expiresAt: '2026-12-02T10:00:00Z' }), 'alice', { ok: false, reason: 'the start of checkout@1.4.3 was signed at 2026-12-02T09:00:00Z, before this release started (2026-12-02T09:30:00.000Z)' }],
    ['a start valid for a year', start({ expiresAt: '2027-12-02T10:00:00Z' }), 'alice', { ok: false, reason: 'the start of checkout@1.4.3 is valid for 525600 min; at most 60 min is accepted' }],
    ['an approval, not a start', start({ decision: 'approve' }), 'alice', { ok: false, reason: 'the statement sent with the supersede is a "approve" of checkout@1.4.3, not the start of checkout@1.4.3' }],
    ['the start of another release', start({ releaseId: 'checkout@9.9.9' }), 'alice', { ok: false, reason: 'the statement sent with the supersede is a "start" of checkout@9.9.9, not the start of checkout@1.4.3' }],
    ['sent by someone else', start({}), 'mallory', { ok: false, reason: 'the start of checkout@1.4.3 is signed as alice, but the supersede was sent as mallory' }],
    ['another service', start({ services: [{ service: 'cart', image: 'r/cart:1' }] }), 'alice', { ok: false, reason: "checkout@1.4.3 releases none of this release's services" }],
    ['expired', start({ issuedAt: '2026-12-02T09:40:00Z', expiresAt: '2026-12-02T09:50:00Z' }), 'alice', { ok: false, reason: 'the start of checkout@1.4.3 is valid from 2026-12-02T09:40:00Z to 2026-12-02T09:50:00Z, not now (2026-12-02T10:01:00.000Z)' }],
    ['a good one', start({}), 'alice', { ok: true, signed: true, keys: ['AAAAC3NzaC1lZDI1NTE5AAAAIKc'] }],
  ])('checkSupersede: %s', (_, signed, by, verdict) => {
    expect(checkSupersede(trust, { by, supersededBy: 'checkout@1.4.3' }, signed, oldRelease)).toEqual(verdict);
  });

  test('checkSupersede: a release cannot supersede itself, even with its own signed start', () => {
    expect(checkSupersede(trust, { by: 'alice', supersededBy: 'checkout@1.4.2' }, start({ releaseId: 'checkout@1.4.2' }), oldRelease)).toEqual({ ok: false, reason: 'a release cannot supersede itself' });
  });

  test('an ID token is checked only against the issuers trusted for its principal', () => {
    const withIssuers = { ...trust, oidc: [{ issuer: 'https://corp.example', audience: 'tidegate', principals: ['*@corp.example', '!mallory@corp.example'] }, { issuer: 'https://partner.example', audience: 'tidegate', principals: ['*@partner.example'] }] };
    const token = (principal: string): SignedStatement => ({ ...control({ principal }), kind: 'oidc' });
    expect(checkControl(withIssuers, { decision: 'promote', by: 'alice@corp.example', signed: token('alice@corp.example') }, release, none)).toEqual({ ok: true, signed: true, keys: ['https://corp.example'] });
    expect(checkControl(withIssuers, { decision: 'promote', by: 'mallory@corp.example', signed: token('mallory@corp.example') }, release, none)).toEqual({
      ok: false,
      reason: 'no OIDC issuer the worker trusts may prove mallory@corp.example (TIDEGATE_OIDC_ISSUERS principals: https://corp.example → *@corp.example !mallory@corp.example; https://partner.example → *@partner.example)',
    });
    expect(checkControl(trust, { decision: 'promote', by: 'alice', signed: { ...control({}), kind: 'oidc' } }, release, none)).toEqual({ ok: false, reason: 'the decision is proven by an OIDC ID token, but the worker trusts no OIDC issuer (TIDEGATE_OIDC_ISSUERS)' });
  });
});
