// Loads a release spec from YAML or JSON text, applies CLI overrides, and returns either the
// validated ReleaseSpec or every problem as data, each naming its field path. No I/O: callers read files.
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { releaseSpecSchema, type ReleaseSpec } from './schema.js';

export interface SpecProblem {
  /** Field path like `production.canary.steps[2].setWeight`, or "" for the whole document. */
  path: string;
  message: string;
}

export type SpecResult = { ok: true; spec: ReleaseSpec } | { ok: false; problems: SpecProblem[] };

export interface SpecOverrides {
  version?: string;
  image?: string;
  sha?: string;
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === 'number') return `${out}[${key}]`;
    const name = String(key);
    return out ? `${out}.${name}` : name;
  }, '');
}

export function formatProblem(p: SpecProblem): string {
  return p.path ? `${p.path}: ${p.message}` : p.message;
}

function problemsFrom(error: z.ZodError): SpecProblem[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
}

/** Applies --version / --image / --sha to the raw document, before validation checks them too. */
function applyOverrides(doc: unknown, overrides: SpecOverrides): { doc: unknown; problems: SpecProblem[] } {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return { doc, problems: [] };
  const out: Record<string, unknown> = { ...(doc as Record<string, unknown>) };
  const problems: SpecProblem[] = [];
  if (overrides.version !== undefined) out.version = overrides.version;
  if (overrides.image !== undefined) {
    if ('services' in out) problems.push({ path: 'image', message: '--image applies to a single-service spec; set image per service' });
    else out.image = overrides.image;
  }
  if (overrides.sha !== undefined) {
    const src = out.source;
    if (src && typeof src === 'object' && !Array.isArray(src)) out.source = { ...src, sha: overrides.sha };
    else problems.push({ path: 'source', message: '--sha needs source.repo in the spec' });
  }
  return { doc: out, problems };
}

/** Validates an already-parsed document (JSON value). */
export function validateSpec(doc: unknown, overrides: SpecOverrides = {}): SpecResult {
  const applied = applyOverrides(doc, overrides);
  const parsed = releaseSpecSchema.safeParse(applied.doc);
  const problems = [...applied.problems, ...(parsed.success ? [] : problemsFrom(parsed.error))];
  if (problems.length > 0 || !parsed.success) return { ok: false, problems };
  return { ok: true, spec: parsed.data };
}

/** Parses YAML (JSON is valid YAML) and validates it. */
export function parseSpec(text: string, overrides: SpecOverrides = {}): SpecResult {
  const document = parseDocument(text, { uniqueKeys: true });
  if (document.errors.length > 0) {
    return {
      ok: false,
      problems: document.errors.map((e) => {
        const line = e.linePos?.[0];
        const message = (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '');
        return { path: '', message: `${line ? `line ${line.line}, column ${line.col}: ` : ''}${message}` };
      }),
    };
  }
  return validateSpec(document.toJS({ maxAliasCount: 50 }), overrides);
}
