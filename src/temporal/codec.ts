// Payload encryption for every client and worker tidegate creates (CLI, worker, lock client, tests,
// replay, benchmarks), through one data converter: AES-256-GCM, the key id in the payload's
// metadata, decoding with any known key so keys can rotate. Keys come from the environment
// (TIDEGATE_PAYLOAD_KEYS) or a file (TIDEGATE_PAYLOAD_KEYS_FILE), never from a spec or a workflow
// input. Search attributes are not payloads: they stay plaintext.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
// a CommonJS module: its namespace object is not importable by name from Node's ESM loader
import proto from '@temporalio/proto';

const PayloadProto = proto.temporal.api.common.v1.Payload;

/** The encoding an encrypted payload carries in its metadata. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** The metadata key naming the key a payload was encrypted with. */
export const KEY_ID_METADATA = 'encryption-key-id';

/** Payload keys that cannot be read: bad input (the CLI exits 2). */
export class PayloadKeyError extends Error {}

export interface PayloadKey {
  id: string;
  /** 32 bytes. */
  key: Buffer;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array | null | undefined): string => (b ? new TextDecoder().decode(b) : '');

/**
 * Reads payload keys: `id:base64` entries separated by commas or new lines (`#` starts a comment),
 * each key 32 bytes; the first encrypts, every one decrypts. Throws naming the problem.
 *
 *   parsePayloadKeys('k2:<44 base64 chars>, k1:<44 base64 chars>') → [{id: 'k2', …}, {id: 'k1', …}]  (k2 encrypts)
 *   parsePayloadKeys('k1:c2hvcnQ=') → throws 'TIDEGATE_PAYLOAD_KEYS: key k1 is 5 bytes; AES-256 needs 32 (openssl rand -base64 32)'
 */
export function parsePayloadKeys(source: string, where = 'TIDEGATE_PAYLOAD_KEYS'): PayloadKey[] {
  const entries = source
    .split('\n')
    .flatMap((line) => line.replace(/#.*$/, '').split(','))
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new PayloadKeyError(`${where} holds no key (entries are id:base64, the first encrypts)`);
  const keys: PayloadKey[] = [];
  for (const entry of entries) {
    const colon = entry.indexOf(':');
    const id = colon > 0 ? entry.slice(0, colon).trim() : '';
    if (!/^[\w.-]{1,64}$/.test(id)) throw new PayloadKeyError(`${where}: "${entry.slice(0, 20)}…" is not id:base64 (an id of letters, digits, . _ -, then the key)`);
    const b64 = entry.slice(colon + 1).trim();
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new PayloadKeyError(`${where}: key ${id} is not base64`);
    const key = Buffer.from(b64, 'base64');
    if (key.length !== 32) throw new PayloadKeyError(`${where}: key ${id} is ${key.length} bytes; AES-256 needs 32 (openssl rand -base64 32)`);
    if (keys.some((k) => k.id === id)) throw new PayloadKeyError(`${where}: key id ${id} appears twice`);
    keys.push({ id, key });
  }
  return keys;
}

/** The payload keys of this environment (TIDEGATE_PAYLOAD_KEYS, else the file TIDEGATE_PAYLOAD_KEYS_FILE), or undefined: payloads stay plaintext. */
export function payloadKeysFromEnv(env: NodeJS.ProcessEnv = process.env): PayloadKey[] | undefined {
  if (env.TIDEGATE_PAYLOAD_KEYS?.trim()) return parsePayloadKeys(env.TIDEGATE_PAYLOAD_KEYS);
  const file = env.TIDEGATE_PAYLOAD_KEYS_FILE;
  if (!file) return undefined;
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PayloadKeyError(`cannot read TIDEGATE_PAYLOAD_KEYS_FILE ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return parsePayloadKeys(content, `TIDEGATE_PAYLOAD_KEYS_FILE ${file}`);
}

/** A new random key, as `id:base64` (what `tidegate codec-server --new-key` and the local stack write). */
export function newPayloadKey(id: string): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}

/**
 * AES-256-GCM over the whole payload (metadata and data, as its protobuf bytes): the encrypted
 * payload's metadata says only `binary/encrypted` and the key id. Decoding passes plaintext payloads
 * through, so histories recorded before encryption still read.
 */
export class AesGcmCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;

  constructor(readonly keys: readonly PayloadKey[]) {
    if (keys.length === 0) throw new Error('a payload codec needs at least one key');
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  /** The id of the key new payloads are encrypted with. */
  get currentKeyId(): string {
    return this.keys[0]?.id ?? '';
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.encryptSync(p));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.decryptSync(p));
  }

  encryptSync(payload: Payload): Payload {
    const [current] = this.keys;
    if (!current) throw new Error('no payload key');
    const plain = PayloadProto.encode(payload).finish();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', current.key, iv);
    const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return { metadata: { encoding: utf8(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8(current.id) }, data };
  }

  /** A payload decrypted (or passed through when it is not encrypted); throws naming an unknown key or a payload that does not authenticate. */
  decryptSync(payload: Payload): Payload {
    if (text(payload.metadata?.encoding) !== ENCRYPTED_ENCODING) return payload;
    const id = text(payload.metadata?.[KEY_ID_METADATA]);
    const key = this.byId.get(id);
    if (!key) throw new Error(`a payload is encrypted with key "${id}", which is not among the keys given (${[...this.byId.keys()].join(', ')}): add it to TIDEGATE_PAYLOAD_KEYS to read it`);
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES) throw new Error(`a payload encrypted with key "${id}" is too short to be one`);
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new Error(`a payload encrypted with key "${id}" does not authenticate: it was changed, or the key "${id}" given is not the one it was encrypted with`);
    }
    const decoded = PayloadProto.decode(plain);
    return { metadata: decoded.metadata ?? {}, data: decoded.data ?? new Uint8Array() };
  }
}

/** The data converter for `keys` (none: Temporal's default, plaintext JSON). */
export function dataConverterFor(keys: readonly PayloadKey[] | undefined): DataConverter {
  return keys?.length ? { payloadCodecs: [new AesGcmCodec(keys)] } : {};
}
