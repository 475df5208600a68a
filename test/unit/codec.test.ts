// Payload encryption: what a shared Temporal stores of a release is ciphertext with a key id, the
// SDK's data converter round-trips every payload through it, old keys still decrypt after a rotation,
// a changed payload or a missing key is refused naming the key, and the codec server speaks the
// Temporal codec protocol to the UI's origin only — with a bearer token unless it is on loopback.
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { AesGcmCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA, newPayloadKey, parsePayloadKeys, PayloadKeyError, payloadKeysFromEnv } from '../../src/temporal/codec.js';
import { checkCodecServerOptions, startCodecServer, type CodecServer } from '../../src/temporal/codec-server.js';
import { decodePayloads } from '../../src/client/analysis-replay.js';

const k1 = { id: 'k1', key: randomBytes(32) };
const k2 = { id: 'k2', key: randomBytes(32) };
const text = (b: Uint8Array | null | undefined): string => Buffer.from(b ?? new Uint8Array()).toString('utf8');
const release = { spec: { name: 'checkout', services: [{ image: 'registry.local/checkout:1.4.2' }] }, initiator: 'dave', comment: 'approver notes 🚀' };

describe('the AES-256-GCM payload codec', () => {
  test('a payload is stored as ciphertext with only its encoding and key id in the clear, and decodes to the same value', async () => {
    const codec = new AesGcmCodec([k1]);
    const plain = defaultPayloadConverter.toPayload(release);
    const [stored] = await codec.encode([plain]);
    expect(Object.keys(stored?.metadata ?? {}).sort()).toEqual(['encoding', KEY_ID_METADATA]);
    expect(text(stored?.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(stored?.metadata?.[KEY_ID_METADATA])).toBe('k1');
    for (const secret of ['checkout', 'dave', 'json/plain', 'approver']) expect(text(stored?.data)).not.toContain(secret);
    const [back] = await codec.decode(stored ? [stored] : []);
    expect(defaultPayloadConverter.fromPayload(back as Payload)).toEqual(release);
    // a fresh IV each time: the same value never encrypts to the same bytes
    const [again] = await codec.encode([plain]);
    expect(Buffer.from(again?.data ?? []).equals(Buffer.from(stored?.data ?? []))).toBe(false);
  });

  test('after a rotation the new key encrypts and the old one still decrypts; plaintext from before encryption passes through', async () => {
    const before = await new AesGcmCodec([k1]).encode([defaultPayloadConverter.toPayload('old')]);
    const rotated = new AesGcmCodec([k2, k1]);
    const [now] = await rotated.encode([defaultPayloadConverter.toPayload('new')]);
    expect(text(now?.metadata?.[KEY_ID_METADATA])).toBe('k2');
    const decoded = await rotated.decode([...before, now as Payload, defaultPayloadConverter.toPayload('never encrypted')]);
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual(['old', 'new', 'never encrypted']);
  });

  test('a key that is not given, or a payload that was changed, is refused naming the key', async () => {
    const [stored] = await new AesGcmCodec([k2]).encode([defaultPayloadConverter.toPayload(release)]);
    await expect(new AesGcmCodec([k1]).decode([stored as Payload])).rejects.toThrow('a payload is encrypted with key "k2", which is not among the keys given (k1): add it to TIDEGATE_PAYLOAD_KEYS to read it');
    const data = Buffer.from(stored?.data ?? []);
    data[20] = (data[20] ?? 0) ^ 1;
    await expect(new AesGcmCodec([k2]).decode([{ ...stored, data }])).rejects.toThrow('a payload encrypted with key "k2" does not authenticate: it was changed, or the key "k2" given is not the one it was encrypted with');
    // the CLI's history reader says which variable to set
    expect(() => decodePayloads({ payloads: [stored as Payload] }, 'start input')).toThrow("the history's start input is encrypted: give its keys in TIDEGATE_PAYLOAD_KEYS (or TIDEGATE_PAYLOAD_KEYS_FILE)");
    expect(decodePayloads({ payloads: [stored as Payload] }, 'start input', new AesGcmCodec([k2]))).toEqual([release]);
  });

  test('keys are read as id:base64 entries, the first encrypting; bad ones are refused naming the problem', () => {
    const a = newPayloadKey('2026-12');
    const b = newPayloadKey('2026-06');
    expect(parsePayloadKeys(`# rotated in December\n${a}\n${b}\n`).map((k) => k.id)).toEqual(['2026-12', '2026-06']);
    expect(payloadKeysFromEnv({ TIDEGATE_PAYLOAD_KEYS: `${a},${b}` })?.map((k) => k.id)).toEqual(['2026-12', '2026-06']);
    expect(payloadKeysFromEnv({})).toBeUndefined();
    const cases: [string, string][] = [
      ['', 'TIDEGATE_PAYLOAD_KEYS holds no key (entries are id:base64, the first encrypts)'],
      ['k1:c2hvcnQ=', 'TIDEGATE_PAYLOAD_KEYS: key k1 is 5 bytes; AES-256 needs 32 (openssl rand -base64 32)'],
      ['k1:not base64!', 'TIDEGATE_PAYLOAD_KEYS: key k1 is not base64'],
      ['c2hvcnQ=', 'TIDEGATE_PAYLOAD_KEYS: "c2hvcnQ=…" is not id:base64 (an id of letters, digits, . _ -, then the key)'],
      [`${a},${a}`, 'TIDEGATE_PAYLOAD_KEYS: key id 2026-12 appears twice'],
    ];
    for (const [input, message] of cases) {
      const err = (() => {
        try {
          parsePayloadKeys(input);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(PayloadKeyError);
      expect((err as Error).message.startsWith(message)).toBe(true);
    }
    expect(() => payloadKeysFromEnv({ TIDEGATE_PAYLOAD_KEYS_FILE: '/nonexistent/keys' })).toThrow('cannot read TIDEGATE_PAYLOAD_KEYS_FILE /nonexistent/keys: ENOENT');
  });
});

describe('the codec server', () => {
  const UI = 'http://127.0.0.1:8233';
  let open: CodecServer;
  let guarded: CodecServer;
  beforeAll(async () => {
    open = await startCodecServer({ codec: new AesGcmCodec([k2, k1]), host: '127.0.0.1', port: 0, origins: [UI] });
    guarded = await startCodecServer({ codec: new AesGcmCodec([k2, k1]), host: '127.0.0.1', port: 0, origins: [UI], token: 's3cret' });
  });
  afterAll(async () => {
    await open?.stop();
    await guarded?.stop();
  });
  const post = (server: CodecServer, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-namespace': 'default', origin: UI, ...headers }, body: JSON.stringify(body) });
  const asJson = (p: Payload): { metadata: Record<string, string>; data: string } => ({
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')])),
    data: Buffer.from(p.data ?? []).toString('base64'),
  });

  test('POST /encode and /decode speak the Temporal codec protocol; the UI origin gets CORS headers, another origin none', async () => {
    const plain = asJson(defaultPayloadConverter.toPayload(release));
    const encoded = await post(open, '/encode', { payloads: [plain] });
    expect(encoded.status).toBe(200);
    expect(encoded.headers.get('access-control-allow-origin')).toBe(UI);
    const { payloads } = (await encoded.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    expect(Buffer.from(payloads[0]?.metadata.encoding ?? '', 'base64').toString()).toBe(ENCRYPTED_ENCODING);
    const decoded = await post(open, '/decode', { payloads });
    expect(((await decoded.json()) as { payloads: unknown[] }).payloads).toEqual([plain]);

    const preflight = await fetch(`${open.url}/decode`, { method: 'OPTIONS', headers: { origin: UI, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(UI);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('X-Namespace');
    const elsewhere = await post(open, '/decode', { payloads }, { origin: 'https://evil.example' });
    expect(elsewhere.headers.get('access-control-allow-origin')).toBeNull();
  });

  test('with a token, a request without it is refused (401); a payload it cannot decrypt is a 400 naming the key', async () => {
    const [stored] = await new AesGcmCodec([k2]).encode([defaultPayloadConverter.toPayload(release)]);
    const body = { payloads: [asJson(stored as Payload)] };
    expect((await post(guarded, '/decode', body)).status).toBe(401);
    expect((await post(guarded, '/decode', body, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await post(guarded, '/decode', body, { authorization: 'Bearer s3cret' })).status).toBe(200);
    const [foreign] = await new AesGcmCodec([{ id: 'k9', key: randomBytes(32) }]).encode([defaultPayloadConverter.toPayload(release)]);
    const refused = await post(open, '/decode', { payloads: [asJson(foreign as Payload)] });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: string }).error).toContain('key "k9"');
    expect(() => checkCodecServerOptions({ host: '0.0.0.0' })).toThrow('the codec server would decode for anyone who reaches 0.0.0.0: set TIDEGATE_CODEC_TOKEN (clients send it as a bearer token), or listen on 127.0.0.1');
  });
});
