// Who may sign: the allowed signers file that `ssh-keygen -Y verify` and git's ssh signing already use
// (principals, options, key), read into data the workflow records when a gate opens. Pure, so the
// workflow's validators ask it whether a principal has a key here; the keys themselves are used by
// the verifier in src/signing.

/** One key line of an allowed signers file. */
export interface AllowedSigner {
  /** 1-based line in the file. */
  line: number;
  /** Principal patterns (ssh_config PATTERNS: `*`, `?`, `!negation`). */
  principals: string[];
  /** Namespace patterns the key may sign in (absent: any). */
  namespaces?: string[];
  /** ISO times the key is valid from / until (inclusive). */
  validAfter?: string;
  validBefore?: string;
  /** e.g. ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa, sk-ssh-ed25519@openssh.com */
  keyType: string;
  /** The public key blob, base64 as in the file. */
  key: string;
}

export interface AllowedSignersProblem {
  line: number;
  message: string;
}

export const KEY_TYPES = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'ssh-rsa',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
] as const;
const isKeyType = (s: string): boolean => (KEY_TYPES as readonly string[]).includes(s);

/**
 * Splits text at separators outside double quotes.
 *
 *   splitUnquoted('a "b c" d', ' \t') → ['a', '"b c"', 'd'];  splitUnquoted('x="1,2",y', ',') → ['x="1,2"', 'y']
 */
function splitUnquoted(text: string, separators: string): string[] {
  const out: string[] = [''];
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    if (!quoted && separators.includes(ch)) out.push('');
    else out[out.length - 1] += ch;
  }
  return out;
}

/** A line's fields (options may hold quoted spaces and commas). */
const fields = (line: string): string[] => splitUnquoted(line, ' \t').filter((f) => f !== '');
/** An options field's options. */
const options = (text: string): string[] => splitUnquoted(text, ',');

/**
 * ssh-keygen's timestamps: YYYYMMDD[Z] or YYYYMMDDHHMM[SS][Z], as an ISO time. Without Z ssh-keygen
 * reads the local time zone; tidegate reads UTC either way (workers run in UTC; write the Z).
 *
 *   sshTimestamp('20261201') → '2026-12-01T00:00:00.000Z';  sshTimestamp('202612011530Z') → '2026-12-01T15:30:00.000Z'
 */
export function sshTimestamp(text: string): string | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?Z?$/.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00'] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const back = new Date(ms);
  if (Number.isNaN(ms) || back.getUTCMonth() !== Number(mo) - 1 || back.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  return back.toISOString();
}

const unquote = (s: string): string => (s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s);

/**
 * Reads an allowed signers file. Problems are data, one per bad line, naming the line; a line with
 * a problem gives no signer. SSH certificates (`cert-authority`) are not supported.
 *
 *   'alice@example.com ssh-ed25519 AAAAC3Nz… laptop' → one signer, principals ['alice@example.com']
 *   'bob namespaces="tidegate",valid-before="20270101Z" ssh-ed25519 AAAA…' → namespaces ['tidegate'], validBefore 2027-01-01
 */
export function parseAllowedSigners(text: string): { signers: AllowedSigner[]; problems: AllowedSignersProblem[] } {
  const signers: AllowedSigner[] = [];
  const problems: AllowedSignersProblem[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (!trimmed || trimmed.startsWith('#')) return;
    const f = fields(trimmed);
    const problem = (message: string): void => void problems.push({ line, message });
    if (f.length < 3) return problem('expected "principals [options] keytype base64-key [comment]"');
    const [principalField = '', second = ''] = f;
    // the second field is a key type (known or not) unless it reads as options
    const hasOptions = !/^(ssh-|ecdsa-|sk-)/.test(second);
    const keyType = hasOptions ? (f[2] ?? '') : second;
    const key = hasOptions ? (f[3] ?? '') : (f[2] ?? '');
    const signer: AllowedSigner = { line, principals: principalField.split(',').filter((p) => p !== ''), keyType, key };
    if (signer.principals.length === 0) return problem('no principal');
    if (hasOptions) {
      for (const opt of options(second)) {
        const eq = opt.indexOf('=');
        const name = (eq < 0 ? opt : opt.slice(0, eq)).toLowerCase();
        const value = eq < 0 ? undefined : unquote(opt.slice(eq + 1));
        if (name === 'cert-authority') return problem('cert-authority (SSH certificates) is not supported: list each signer\'s key');
        if (name === 'namespaces' && value !== undefined) signer.namespaces = value.split(',').filter((n) => n !== '');
        else if ((name === 'valid-after' || name === 'valid-before') && value !== undefined) {
          const at = sshTimestamp(value);
          if (!at) return problem(`${name}="${value}" is not a timestamp (YYYYMMDD[Z] or YYYYMMDDHHMM[SS][Z])`);
          if (name === 'valid-after') signer.validAfter = at;
          else signer.validBefore = at;
        } else return problem(`unknown option "${opt}" (known: namespaces, valid-after, valid-before)`);
      }
    }
    if (!isKeyType(keyType)) return problem(`unsupported key type "${keyType}" (supported: ${KEY_TYPES.join(', ')})`);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key)) return problem('the key is not base64');
    signers.push(signer);
  });
  return { signers, problems };
}

/** ssh_config's `*` / `?` wildcard match of one pattern. */
function wildcard(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return re.test(name);
}

/**
 * A pattern-list match as ssh_config(5) defines it: some positive pattern matches and no negated one.
 *
 *   matchesPatternList(['*@example.com', '!mallory@example.com'], 'alice@example.com') → true
 *   matchesPatternList(['*@example.com', '!mallory@example.com'], 'mallory@example.com') → false
 */
export function matchesPatternList(patterns: readonly string[], name: string): boolean {
  let found = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (wildcard(p.slice(1), name)) return false;
    } else if (wildcard(p, name)) found = true;
  }
  return found;
}

/**
 * The keys that may sign for `principal` in `namespace` at time `at` (ms since the epoch).
 *
 *   signersFor(signers, 'alice@example.com', 'tidegate', Date.parse('2026-12-02T10:00:00Z')) → alice's keys valid then
 */
export function signersFor(signers: readonly AllowedSigner[], principal: string, namespace: string, at: number): AllowedSigner[] {
  return signers.filter(
    (s) =>
      matchesPatternList(s.principals, principal) &&
      (!s.namespaces || matchesPatternList(s.namespaces, namespace)) &&
      (!s.validAfter || Date.parse(s.validAfter) <= at) &&
      (!s.validBefore || at <= Date.parse(s.validBefore)),
  );
}
