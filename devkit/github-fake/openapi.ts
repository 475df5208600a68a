// Validates requests to and responses from the GitHub fake against GitHub's official OpenAPI
// description (@octokit/openapi's api.github.com.json): path and query parameters, request bodies
// and response bodies of each operation, with Ajv. The fake is only trustworthy if everything it
// accepts and answers is what api.github.com would accept and answer.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema?: unknown;
  $ref?: string;
}

interface Operation {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema: unknown }> };
  responses: Record<string, { $ref?: string; content?: Record<string, { schema: unknown }> }>;
}

interface Description {
  info: { version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { parameters: Record<string, Parameter>; responses: Record<string, { content?: Record<string, { schema: unknown }> }> };
}

export interface Problem {
  where: string;
  message: string;
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const SCHEMA_ID = 'github';

/**
 * OpenAPI 3.0 semantics that JSON Schema (Ajv) reads differently, made explicit in place:
 * - `nullable: true` allows null even beside an `enum` (check runs have `conclusion: null`);
 * - a documented `default` is an allowed value, so a `format: uri` field defaulting to "" accepts "".
 */
function normaliseOpenApi(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) normaliseOpenApi(item);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const schema = node as Record<string, unknown>;
  if (schema.nullable === true && Array.isArray(schema.enum) && !schema.enum.includes(null)) schema.enum = [...(schema.enum as unknown[]), null];
  if (schema.format === 'uri' && schema.default === '') schema.format = 'uri-or-empty';
  for (const value of Object.values(schema)) normaliseOpenApi(value);
}

/** Rewrites local refs (#/components/…) to the registered description's id. */
function anchored(schema: unknown): unknown {
  return JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, `"${SCHEMA_ID}#/components/`));
}

export class GitHubDescription {
  readonly version: string;
  private readonly doc: Description;
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(file?: string) {
    const path = file ?? createRequire(import.meta.url).resolve('@octokit/openapi/generated/api.github.com.json');
    this.doc = JSON.parse(readFileSync(path, 'utf8')) as Description;
    this.version = this.doc.info.version;
    normaliseOpenApi(this.doc.components);
    normaliseOpenApi(this.doc.paths);
    this.ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    addFormats(this.ajv);
    const uri = this.ajv.formats.uri;
    this.ajv.addFormat('uri-or-empty', { validate: (v: string) => v === '' || (typeof uri === 'object' && uri !== null && 'validate' in uri ? (uri.validate as (x: string) => boolean)(v) : true) });
    this.ajv.addSchema({ components: this.doc.components }, SCHEMA_ID);
  }

  operation(method: string, pathTemplate: string): Operation {
    const op = this.doc.paths[pathTemplate]?.[method.toLowerCase()];
    if (!op) throw new Error(`the GitHub description has no ${method} ${pathTemplate}`);
    return op;
  }

  private validator(key: string, schema: unknown): ValidateFunction {
    let v = this.compiled.get(key);
    if (!v) {
      v = this.ajv.compile(anchored(schema) as object);
      this.compiled.set(key, v);
    }
    return v;
  }

  private check(key: string, schema: unknown, value: unknown, where: string): Problem[] {
    const v = this.validator(key, schema);
    if (v(value)) return [];
    return (v.errors ?? []).map((e) => ({ where: `${where}${e.instancePath}`, message: `${e.message ?? 'invalid'}${e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ''}` }));
  }

  private parameters(op: Operation): Parameter[] {
    return (op.parameters ?? []).map((p) => {
      if (!p.$ref) return p;
      const name = p.$ref.replace('#/components/parameters/', '');
      const resolved = this.doc.components.parameters[name];
      if (!resolved) throw new Error(`unresolved parameter ${p.$ref}`);
      return resolved;
    });
  }

  /** Problems with a request: path and query parameters (strings, coerced as GitHub does) and the JSON body. */
  validateRequest(method: string, pathTemplate: string, request: { path: Record<string, string>; query: URLSearchParams; body: unknown }): Problem[] {
    const op = this.operation(method, pathTemplate);
    const problems: Problem[] = [];
    for (const p of this.parameters(op)) {
      if (p.in === 'header') continue;
      const raw = p.in === 'path' ? request.path[p.name] : (request.query.get(p.name) ?? undefined);
      if (raw === undefined) {
        if (p.required) problems.push({ where: `${p.in} ${p.name}`, message: 'is required' });
        continue;
      }
      const schema = p.schema as { type?: string } | undefined;
      const value = schema?.type === 'integer' || schema?.type === 'number' ? Number(raw) : schema?.type === 'boolean' ? raw === 'true' : raw;
      problems.push(...this.check(`${op.operationId}:param:${p.name}`, p.schema ?? {}, value, `${p.in} ${p.name}`));
    }
    for (const name of request.query.keys()) {
      if (!this.parameters(op).some((p) => p.in === 'query' && p.name === name)) problems.push({ where: `query ${name}`, message: 'is not a parameter of this operation' });
    }
    const bodySchema = op.requestBody?.content?.['application/json']?.schema;
    if (bodySchema) {
      if (request.body === undefined && op.requestBody?.required) problems.push({ where: 'body', message: 'is required' });
      else if (request.body !== undefined) problems.push(...this.check(`${op.operationId}:body`, bodySchema, request.body, 'body'));
    } else if (request.body !== undefined && method !== 'GET') {
      problems.push({ where: 'body', message: 'this operation takes no body' });
    }
    return problems;
  }

  /** Problems with a response the fake is about to send; statuses the operation does not declare are problems too. */
  validateResponse(method: string, pathTemplate: string, status: number, body: unknown): Problem[] {
    const op = this.operation(method, pathTemplate);
    let response = op.responses[String(status)];
    if (!response && status >= 400) {
      // any operation can answer 401, 403 (rate limits included) or 404 with a basic-error
      return this.check('basic-error', { $ref: '#/components/schemas/basic-error' }, body, `response ${status}`);
    }
    if (!response) return [{ where: 'status', message: `${status} is not a documented response of ${op.operationId} (documented: ${Object.keys(op.responses).join(', ')})` }];
    if (response.$ref) {
      const resolved = this.doc.components.responses[response.$ref.replace('#/components/responses/', '')];
      if (!resolved) throw new Error(`unresolved response ${response.$ref}`);
      response = resolved;
    }
    const schema = response.content?.['application/json']?.schema;
    if (!schema) return body === undefined || body === '' ? [] : [{ where: 'body', message: `${status} of ${op.operationId} has no body` }];
    return this.check(`${op.operationId}:${status}`, schema, body, `response ${status}`);
  }
}
