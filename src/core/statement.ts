// A signed decision is a statement about one release, run and gate, signed by a person's SSH key: this
// module defines the statement, its one canonical text (the bytes that are signed), and the checks
// that bind it to where it is used. Pure, so the workflow's update validators call it too; the
// signature itself is checked by src/signing on the worker, and again by `tidegate verify`.

/** The SSHSIG namespace every tidegate statement is signed in (`ssh-keygen -Y sign -n tidegate`). */
export const SIGNATURE_NAMESPACE = 'tidegate';

/** How long a statement may be valid at most: a signed approval is for now, not for next week. */
export const MAX_STATEMENT_LIFETIME_MS = 60 * 60_000;
/** Clock skew tolerated between the signer's clock and the workflow's. */
export const CLOCK_SKEW_MS = 5 * 60_000;

export const DECISIONS = ['start', 'approve', 'reject', 'promote', 'abort'] as const;
export type Decision = (typeof DECISIONS)[number];

export interface StatementService {
  service: string;
  image: string;
}

/** What a person signs. Its canonical text (canonicalJson) is the signed message. */
export interface Statement {
  /** Statement format version. */
  v: 1;
  decision: Decision;
  /** Who signs, as named in the allowed signers and the spec's approvers. */
  principal: string;
  releaseId: string;
  /** The workflow run the decision is for (absent only for `start`, which creates the run). */
  runId?: string;
  /** The nonce of the gate the decision is for (approve / reject); a new one at every gate. */
  gate?: string;
  /** Every service of the release with the image it releases, sorted by service. */
  services: StatementService[];
  /** ISO times. */
  issuedAt: string;
  expiresAt: string;
  /** An approval's comment or a rejection's / abort's reason. */
  comment?: string;
  /** A start: SHA-256 (hex) of the spec's canonical text (specText), so the signer vouches for what runs, not only its name. */
  spec?: string;
  /** A promote that skips the remaining canary steps (`promote --full`); absent: the current pause only. */
  full?: true;
  /** A start that supersedes the running release of its services (`start --supersede`): only such a start may make it roll back. */
  supersede?: true;
}

/**
 * The services and images a statement about a release names, in the order makeStatement keeps.
 *
 *   statementServices({services: [{service: 'web', image: 'r/web:2', …}, {service: 'api', …}]}) → [{service: 'api', …}, {service: 'web', …}]
 */
export function statementServices(release: { services: readonly { service: string; image: string }[] }): StatementService[] {
  return release.services.map(({ service, image }) => ({ service, image })).sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0));
}

/** A statement and its signature, as sent with a decision and kept in history. */
export interface SignedStatement {
  /** The statement's canonical text, exactly the bytes that were signed. */
  statement: string;
  /** The armored SSHSIG signature (`-----BEGIN SSH SIGNATURE-----`); with kind 'oidc', the OIDC ID token. */
  signature: string;
  /** Absent: an SSH signature. 'oidc': an ID token from an issuer the worker trusts, whose nonce is the statement's hash (src/signing/oidc.ts statementNonce). */
  kind?: 'oidc';
}

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * Canonical JSON: object keys sorted by UTF-16 code unit, no whitespace, strings as JSON.stringify
 * writes them, integers only (RFC 8785 agrees on every value this allows). Throws on anything else
 * (a fraction, NaN, undefined inside an array), so two parties never disagree on the bytes.
 *
 *   canonicalJson({b: 1, a: ['x', {d: true, c: null}]}) → '{"a":["x",{"c":null,"d":true}],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new RangeError(`canonical JSON holds only safe integers, got ${value}`);
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new TypeError(`canonical JSON cannot hold a ${typeof value}`);
}

/** The statement a client signs, with its services sorted and empty optional fields left out. */
export function makeStatement(fields: Omit<Statement, 'v'>): Statement {
  const services = statementServices(fields);
  return {
    v: 1,
    decision: fields.decision,
    principal: fields.principal,
    releaseId: fields.releaseId,
    ...(fields.runId ? { runId: fields.runId } : {}),
    ...(fields.gate ? { gate: fields.gate } : {}),
    services,
    issuedAt: fields.issuedAt,
    expiresAt: fields.expiresAt,
    ...(fields.comment ? { comment: fields.comment } : {}),
    ...(fields.spec ? { spec: fields.spec } : {}),
    ...(fields.full ? { full: true as const } : {}),
    ...(fields.supersede ? { supersede: true as const } : {}),
  };
}

/**
 * The text a release spec's digest is taken of: canonicalJson's rules (sorted keys, no whitespace,
 * undefined left out), except that any finite number is allowed, written as JavaScript writes it
 * (the shortest text that reads back as the same number), since a spec holds fractions
 * (confidence 0.999). The client and the worker compute it from the same validated spec.
 *
 *   specText({b: 0.999, a: [1, 'x']}) → '{"a":[1,"x"],"b":0.999}'
 */
export function specText(value: unknown): string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`a spec holds only finite numbers, got ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => specText(v)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${specText(v)}`).join(',')}}`;
  }
  return canonicalJson(value);
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const STATEMENT_KEYS = new Set(['v', 'decision', 'principal', 'releaseId', 'runId', 'gate', 'services', 'issuedAt', 'expiresAt', 'comment', 'spec', 'full', 'supersede']);
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/**
 * Reads a statement's text: valid JSON of the statement's shape, and canonical (the text is exactly
 * canonicalJson of what it holds), so the signed bytes have one meaning. Errors are data.
 *
 *   parseStatement('{"v":1, …}') with a space → {ok: false, reason: 'the statement is not in canonical form …'}
 */
export function parseStatement(text: string): Checked<Statement> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'the statement is not JSON' };
  }
  if (!isRecord(raw)) return { ok: false, reason: 'the statement is not a JSON object' };
  const extra = Object.keys(raw).filter((k) => !STATEMENT_KEYS.has(k));
  if (extra.length > 0) return { ok: false, reason: `the statement has unknown fields: ${extra.join(', ')}` };
  if (raw.v !== 1) return { ok: false, reason: `the statement's version is ${JSON.stringify(raw.v)}; this worker reads version 1` };
  if (typeof raw.decision !== 'string' || !(DECISIONS as readonly string[]).includes(raw.decision)) {
    return { ok: false, reason: `the statement's decision must be one of ${DECISIONS.join(', ')}` };
  }
  for (const key of ['principal', 'releaseId', 'issuedAt', 'expiresAt'] as const) {
    if (typeof raw[key] !== 'string' || raw[key] === '') return { ok: false, reason: `the statement's ${key} must be a non-empty string` };
  }
  for (const key of ['runId', 'gate', 'comment', 'spec'] as const) {
    if (raw[key] !== undefined && typeof raw[key] !== 'string') return { ok: false, reason: `the statement's ${key} must be a string` };
  }
  for (const key of ['full', 'supersede'] as const) {
    if (raw[key] !== undefined && raw[key] !== true) return { ok: false, reason: `the statement's ${key} must be true when present` };
  }
  for (const key of ['issuedAt', 'expiresAt'] as const) {
    const t = Date.parse(raw[key] as string);
    // Date.parse rolls 2026-02-30 over to March 2: the text must name the instant it parses to
    if (!ISO.test(raw[key] as string) || Number.isNaN(t) || new Date(t).toISOString().slice(0, 19) !== (raw[key] as string).slice(0, 19)) return { ok: false, reason: `the statement's ${key} must be an ISO time in UTC, like 2026-12-02T10:00:00Z` };
  }
  if (!Array.isArray(raw.services) || raw.services.length === 0 || !raw.services.every((s) => isRecord(s) && typeof s.service === 'string' && typeof s.image === 'string' && Object.keys(s).length === 2)) {
    return { ok: false, reason: 'the statement\'s services must be a non-empty list of {service, image}' };
  }
  const statement = raw as unknown as Statement;
  if (canonicalJson(statement) !== text) return { ok: false, reason: 'the statement is not in canonical form (sorted keys, no whitespace): sign the text the CLI builds' };
  return { ok: true, value: statement };
}

/** What the statement must say to count here: this release, run, gate and images, now. */
export interface StatementContext {
  decision: Decision;
  releaseId: string;
  runId?: string;
  gate?: string;
  services: StatementService[];
  /** Workflow time, ms since the epoch. */
  now: number;
}

/**
 * Binds a statement to its use: the same decision, release, run, gate and images, and valid now
 * (issued no later than now + skew, not expired, valid for at most an hour). The reason names the
 * first field that does not match.
 *
 *   a statement for run r1 checked in run r2 → {ok: false, reason: 'the statement is for run r1, not this run (r2): …'}
 */
export function checkStatement(statement: Statement, ctx: StatementContext): Checked<Statement> {
  const fail = (reason: string): Checked<Statement> => ({ ok: false, reason });
  if (statement.decision !== ctx.decision) return fail(`the statement is a signed "${statement.decision}", not "${ctx.decision}"`);
  if (statement.releaseId !== ctx.releaseId) return fail(`the statement is for release ${statement.releaseId}, not ${ctx.releaseId}`);
  if (ctx.runId !== undefined && statement.runId !== ctx.runId) {
    return fail(`the statement is for run ${statement.runId ?? '(none)'}, not this run (${ctx.runId}): sign again for the release as it runs now`);
  }
  if (ctx.gate !== undefined && statement.gate !== ctx.gate) {
    return fail(`the statement is for gate ${statement.gate ?? '(none)'}, not the gate open now (${ctx.gate})`);
  }
  const want = statementServices(ctx).map((s) => `${s.service}=${s.image}`).join(', ');
  const got = statement.services.map((s) => `${s.service}=${s.image}`).join(', ');
  if (want !== got) return fail(`the statement names ${got}, but the release is ${want}`);
  const issued = Date.parse(statement.issuedAt);
  const expires = Date.parse(statement.expiresAt);
  if (expires <= issued) return fail('the statement expires before it was issued');
  if (expires - issued > MAX_STATEMENT_LIFETIME_MS) return fail(`the statement is valid for ${Math.round((expires - issued) / 60_000)} min; at most ${MAX_STATEMENT_LIFETIME_MS / 60_000} min is accepted`);
  if (issued > ctx.now + CLOCK_SKEW_MS) return fail(`the statement was issued in the future (${statement.issuedAt}; the workflow's time is ${new Date(ctx.now).toISOString()})`);
  if (expires <= ctx.now) return fail(`the statement expired at ${statement.expiresAt} (the workflow's time is ${new Date(ctx.now).toISOString()})`);
  return { ok: true, value: statement };
}
