// Verifies SSH signatures in the SSHSIG format that `ssh-keygen -Y sign` writes (OpenSSH's
// PROTOCOL.sshsig), on node:crypto alone: no npm library verifies them. Ed25519, ECDSA (P-256,
// P-384, P-521), RSA (rsa-sha2-256/512) and the FIDO keys sk-ssh-ed25519 / sk-ecdsa-sha2-nistp256.
// Used by the worker's verification activity and by `tidegate verify`; tested against ssh-keygen.
import { createHash, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';

const MAGIC = Buffer.from('SSHSIG');
const ARMOR_BEGIN = '-----BEGIN SSH SIGNATURE-----';
const ARMOR_END = '-----END SSH SIGNATURE-----';

/** A bounds-checked reader of SSH wire encoding (RFC 4251: uint32, string, mpint). */
class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}
  bytes(n: number): Buffer {
    if (n < 0 || this.at + n > this.buf.length) throw new SshSigError('truncated data');
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  uint32(): number {
    return this.bytes(4).readUInt32BE(0);
  }
  byte(): number {
    return this.bytes(1)[0] ?? 0;
  }
  string(): Buffer {
    return this.bytes(this.uint32());
  }
  text(): string {
    return this.string().toString('utf8');
  }
  /**
   * A positive mpint without its leading zeros. As OpenSSH reads it (sshbuf_get_bignum2_bytes_direct):
   * a negative value (high bit set, e.g. a value whose sign byte was dropped) is refused.
   */
  mpint(): Buffer {
    const b = this.string();
    if (b.length > 0 && ((b[0] ?? 0) & 0x80) !== 0) throw new SshSigError('a negative mpint');
    let start = 0;
    while (start < b.length && b[start] === 0) start++;
    return b.subarray(start);
  }
  done(): boolean {
    return this.at === this.buf.length;
  }
}

function sshString(b: Buffer | string): Buffer {
  const body = typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length, 0);
  return Buffer.concat([len, body]);
}

export class SshSigError extends Error {}

export interface ParsedSignature {
  /** The signer's public key blob. */
  publicKey: Buffer;
  namespace: string;
  hashAlgorithm: 'sha256' | 'sha512';
  /** The signature blob: format id, signature (and for sk- keys flags and counter). */
  signature: Buffer;
}

/** Reads an armored SSHSIG signature; throws SshSigError naming what is wrong. */
export function parseSshSignature(armored: string): ParsedSignature {
  const text = armored.trim();
  if (!text.startsWith(ARMOR_BEGIN) || !text.endsWith(ARMOR_END)) throw new SshSigError(`not an SSH signature (expected ${ARMOR_BEGIN} … ${ARMOR_END})`);
  const body = text.slice(ARMOR_BEGIN.length, text.length - ARMOR_END.length).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) throw new SshSigError('the signature is not base64');
  const r = new Reader(Buffer.from(body, 'base64'));
  if (!r.bytes(6).equals(MAGIC)) throw new SshSigError('missing the SSHSIG preamble');
  const version = r.uint32();
  if (version !== 1) throw new SshSigError(`unsupported SSHSIG version ${version}`);
  const publicKey = r.string();
  const namespace = r.text();
  r.string(); // reserved
  const hashAlgorithm = r.text();
  if (hashAlgorithm !== 'sha256' && hashAlgorithm !== 'sha512') throw new SshSigError(`unsupported hash algorithm "${hashAlgorithm}"`);
  const signature = r.string();
  if (!r.done()) throw new SshSigError('trailing data after the signature');
  return { publicKey, namespace, hashAlgorithm, signature };
}

/** The key's fingerprint as `ssh-keygen -l` prints it: SHA256:<base64 without padding>. */
export function fingerprint(publicKey: Buffer): string {
  return `SHA256:${createHash('sha256').update(publicKey).digest('base64').replace(/=+$/, '')}`;
}

const CURVES: Record<string, { crv: string; hash: string; size: number }> = {
  nistp256: { crv: 'P-256', hash: 'sha256', size: 32 },
  nistp384: { crv: 'P-384', hash: 'sha384', size: 48 },
  nistp521: { crv: 'P-521', hash: 'sha512', size: 66 },
};

interface PublicKeyInfo {
  type: string;
  key: KeyObject;
  curve?: { crv: string; hash: string; size: number };
  /** FIDO keys: the application (usually "ssh:"). */
  application?: string;
}

const b64url = (b: Buffer): string => b.toString('base64url');

function ecKey(curveName: string, point: Buffer): { key: KeyObject; curve: { crv: string; hash: string; size: number } } {
  const curve = CURVES[curveName];
  if (!curve) throw new SshSigError(`unsupported curve ${curveName}`);
  if (point[0] !== 4 || point.length !== 1 + 2 * curve.size) throw new SshSigError('unsupported EC point encoding');
  const x = point.subarray(1, 1 + curve.size);
  const y = point.subarray(1 + curve.size);
  return { key: createPublicKey({ key: { kty: 'EC', crv: curve.crv, x: b64url(x), y: b64url(y) }, format: 'jwk' }), curve };
}

/** Decodes an SSH public key blob into a node:crypto key. */
export function publicKeyFromBlob(blob: Buffer): PublicKeyInfo {
  const r = new Reader(blob);
  const type = r.text();
  let info: PublicKeyInfo;
  if (type === 'ssh-ed25519' || type === 'sk-ssh-ed25519@openssh.com') {
    const pk = r.string();
    if (pk.length !== 32) throw new SshSigError('an Ed25519 key is 32 bytes');
    info = { type, key: createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(pk) }, format: 'jwk' }) };
    if (type.startsWith('sk-')) info.application = r.text();
  } else if (type.startsWith('ecdsa-sha2-') || type === 'sk-ecdsa-sha2-nistp256@openssh.com') {
    const curveName = r.text();
    const named = type === 'sk-ecdsa-sha2-nistp256@openssh.com' ? 'nistp256' : type.slice('ecdsa-sha2-'.length);
    if (curveName !== named) throw new SshSigError(`a ${type} key on curve ${curveName}`);
    const { key, curve } = ecKey(curveName, r.string());
    info = { type, key, curve };
    if (type.startsWith('sk-')) info.application = r.text();
  } else if (type === 'ssh-rsa') {
    const e = r.mpint();
    const n = r.mpint();
    if (n.length * 8 < 2048) throw new SshSigError(`an RSA key of ${n.length * 8} bits is too short (at least 2048)`);
    info = { type, key: createPublicKey({ key: { kty: 'RSA', n: b64url(n), e: b64url(e) }, format: 'jwk' }) };
  } else {
    throw new SshSigError(`unsupported key type "${type}"`);
  }
  if (!r.done()) throw new SshSigError('trailing data after the public key');
  return info;
}

/** The bytes an SSHSIG signature signs: preamble, namespace, reserved, hash algorithm, H(message). */
function signedData(namespace: string, hashAlgorithm: string, message: Buffer): Buffer {
  return Buffer.concat([MAGIC, sshString(namespace), sshString(''), sshString(hashAlgorithm), sshString(createHash(hashAlgorithm).update(message).digest())]);
}

/** ECDSA's (mpint r, mpint s) as IEEE P1363 r‖s. */
function p1363(rs: Buffer, size: number): Buffer {
  const r = new Reader(rs);
  const pad = (b: Buffer): Buffer => {
    if (b.length > size) throw new SshSigError('an ECDSA signature value is too long');
    return Buffer.concat([Buffer.alloc(size - b.length), b]);
  };
  const out = Buffer.concat([pad(r.mpint()), pad(r.mpint())]);
  if (!r.done()) throw new SshSigError('trailing data in the ECDSA signature');
  return out;
}

/** Checks the signature blob over `data` with `pk`; false when it does not verify. */
function verifyBlob(pk: PublicKeyInfo, blob: Buffer, data: Buffer): boolean {
  const r = new Reader(blob);
  const format = r.text();
  const sig = r.string();
  if (pk.type === 'ssh-rsa') {
    const hash = format === 'rsa-sha2-512' ? 'sha512' : format === 'rsa-sha2-256' ? 'sha256' : undefined;
    if (!hash) throw new SshSigError(`RSA signatures must be rsa-sha2-256 or rsa-sha2-512, not "${format}"`);
    if (!r.done()) throw new SshSigError('trailing data in the signature');
    return cryptoVerify(hash, data, pk.key, sig);
  }
  if (format !== pk.type) throw new SshSigError(`a ${format} signature from a ${pk.type} key`);
  if (pk.type.startsWith('sk-')) {
    // FIDO: the authenticator signs H(application) ‖ flags ‖ counter ‖ H(data)
    const flags = r.byte();
    const counter = r.uint32();
    if (!r.done()) throw new SshSigError('trailing data in the signature');
    if ((flags & 0x01) === 0) throw new SshSigError('the FIDO signature was made without user presence');
    const counterBytes = Buffer.alloc(4);
    counterBytes.writeUInt32BE(counter, 0);
    const sha256 = (b: Buffer | string): Buffer => createHash('sha256').update(b).digest();
    const signed = Buffer.concat([sha256(pk.application ?? ''), Buffer.from([flags]), counterBytes, sha256(data)]);
    if (pk.curve) return cryptoVerify('sha256', signed, { key: pk.key, dsaEncoding: 'ieee-p1363' }, p1363(sig, pk.curve.size));
    return cryptoVerify(null, signed, pk.key, sig);
  }
  if (!r.done()) throw new SshSigError('trailing data in the signature');
  if (pk.curve) return cryptoVerify(pk.curve.hash, data, { key: pk.key, dsaEncoding: 'ieee-p1363' }, p1363(sig, pk.curve.size));
  return cryptoVerify(null, data, pk.key, sig);
}

export type SshSigVerdict = { ok: true; keyType: string; fingerprint: string } | { ok: false; reason: string };

/**
 * Does `armored` sign `message` in `namespace` with one of `allowedKeys` (base64 public key blobs,
 * as in an allowed signers file)? Every failure is a verdict with a reason, never a throw.
 *
 *   verifySshSignature(statement, sigFromSshKeygen, 'tidegate', [aliceKey]) → {ok: true, keyType: 'ssh-ed25519', fingerprint: 'SHA256:…'}
 *   the same with one byte of the statement changed → {ok: false, reason: 'the signature does not verify: …'}
 */
export function verifySshSignature(message: string | Buffer, armored: string, namespace: string, allowedKeys: readonly string[]): SshSigVerdict {
  try {
    const sig = parseSshSignature(armored);
    if (sig.namespace !== namespace) return { ok: false, reason: `the signature is in namespace "${sig.namespace}", not "${namespace}" (sign with ssh-keygen -Y sign -n ${namespace})` };
    const fp = fingerprint(sig.publicKey);
    if (!allowedKeys.some((k) => Buffer.from(k, 'base64').equals(sig.publicKey))) {
      return { ok: false, reason: `the signing key ${fp} is not one of the signer's allowed keys` };
    }
    const pk = publicKeyFromBlob(sig.publicKey);
    const data = signedData(namespace, sig.hashAlgorithm, typeof message === 'string' ? Buffer.from(message, 'utf8') : message);
    if (!verifyBlob(pk, sig.signature, data)) return { ok: false, reason: `the signature does not verify: the statement was changed after signing, or it was signed by another key than ${fp}` };
    return { ok: true, keyType: pk.type, fingerprint: fp };
  } catch (err) {
    if (err instanceof SshSigError) return { ok: false, reason: `the signature is malformed: ${err.message}` };
    return { ok: false, reason: `the signature cannot be checked: ${err instanceof Error ? err.message : String(err)}` };
  }
}
