// The pure side of hook stages (src/core/hooks.ts) and their spec (src/spec/schema.ts): where each
// point runs in a service's plan, the Job's name and manifest, variables filled in, and bad hook
// specs refused with the field and what to do.
import { hookJob, hookJobName, hookRun, hookSchedule, renderHookValue, tail, type HookVars } from '../../src/core/hooks.js';
import { validateSpec } from '../../src/spec/index.js';

const vars: HookVars = { release: 'checkout@1.4.2', service: 'checkout', version: '1.4.2', image: 'registry.local/checkout:1.4.2', namespace: 'prod' };
const s = (stage: string, skipped = false) => ({ stage, ...(skipped ? { skipped: true } : {}) });

test.each([
  {
    name: 'every stage',
    stages: [s('staging'), s('canary'), s('approval'), s('switch'), s('monitor')],
    want: { staging: 'before beforeStaging', canary: 'before beforeSwitch', switch: 'after afterSwitch', monitor: 'after afterMonitor' },
  },
  {
    name: 'no staging: beforeStaging runs first, right before beforeSwitch',
    stages: [s('staging', true), s('canary'), s('approval'), s('switch'), s('monitor')],
    want: { canary: 'before beforeStaging,beforeSwitch', switch: 'after afterSwitch', monitor: 'after afterMonitor' },
  },
  {
    name: 'no canary: beforeSwitch right before the switch (after approval)',
    stages: [s('staging'), s('canary', true), s('approval'), s('switch'), s('monitor')],
    want: { staging: 'before beforeStaging', switch: 'before beforeSwitch; after afterSwitch', monitor: 'after afterMonitor' },
  },
  {
    name: 'no monitor: afterMonitor right after afterSwitch',
    stages: [s('staging', true), s('canary', true), s('approval'), s('switch'), s('monitor', true)],
    want: { approval: 'before beforeStaging', switch: 'before beforeSwitch; after afterSwitch,afterMonitor' },
  },
])('hookSchedule: $name', ({ stages, want }) => {
  const got: Record<string, string> = {};
  hookSchedule(stages).forEach((x, i) => {
    const parts = [x.before.length ? `before ${x.before.join(',')}` : '', x.after.length ? `after ${x.after.join(',')}` : ''].filter(Boolean);
    if (parts.length) got[stages[i]?.stage ?? '?'] = parts.join('; ');
  });
  expect(got).toEqual(want);
});

test('a Job name is the service and hook with a hash of the run, at most 63 characters, the same on every attempt, another for the undo and another run', () => {
  const key = 'checkout@1.4.2/run-1/checkout/expand-schema/run';
  const name = hookJobName({ service: 'checkout', hook: 'expand-schema', phase: 'run', key });
  expect(name).toMatch(/^checkout-expand-schema-[0-9a-f]{8}$/);
  expect(hookJobName({ service: 'checkout', hook: 'expand-schema', phase: 'run', key })).toBe(name);
  expect(hookJobName({ service: 'checkout', hook: 'expand-schema', phase: 'undo', key: key.replace(/run$/, 'undo') })).toMatch(/^checkout-expand-schema-undo-[0-9a-f]{8}$/);
  expect(hookJobName({ service: 'checkout', hook: 'expand-schema', phase: 'run', key: key.replace('run-1', 'run-2') })).not.toBe(name);
  const long = hookJobName({ service: 'a'.repeat(40), hook: `b${'-'.repeat(5)}${'c'.repeat(40)}`, phase: 'undo', key });
  expect(long.length).toBeLessThanOrEqual(63);
  expect(long).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
});

test('variables are filled into every string of a template, unknown ones left as they are', () => {
  expect(renderHookValue({ args: ['--to', '{{version}}'], env: [{ name: 'X', value: '{{ release }} {{nope}}' }], n: 3 }, vars)).toEqual({
    args: ['--to', '1.4.2'],
    env: [{ name: 'X', value: 'checkout@1.4.2 {{nope}}' }],
    n: 3,
  });
});

test("the Job: the template as given, what a hook needs where it is left out, labels and annotations naming the run", () => {
  const run = hookRun({
    releaseId: 'checkout@1.4.2',
    runId: 'r1',
    point: 'beforeSwitch',
    phase: 'run',
    vars,
    hook: { name: 'expand-schema', action: { kind: 'job', timeout: 600_000, template: { activeDeadlineSeconds: 900, template: { metadata: { labels: { team: 'shop' } }, spec: { serviceAccountName: 'migrator', containers: [{ name: 'm', image: 'mig:{{version}}' }] } } } } },
  });
  expect(run.job).toEqual({ name: expect.stringMatching(/^checkout-expand-schema-/), namespace: 'prod' });
  const job = hookJob(run) as { metadata: { annotations: Record<string, string>; labels: Record<string, string> }; spec: Record<string, unknown> & { template: { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> } } };
  expect(job.metadata.annotations).toEqual({ 'tidegate.io/release': 'checkout@1.4.2', 'tidegate.io/key': 'checkout@1.4.2/r1/checkout/expand-schema/run', 'tidegate.io/point': 'beforeSwitch', 'tidegate.io/phase': 'run' });
  expect(job.spec).toMatchObject({ activeDeadlineSeconds: 900, backoffLimit: 0 });
  expect(job.spec.template.metadata.labels).toEqual({ team: 'shop', 'app.kubernetes.io/managed-by': 'tidegate', 'tidegate.io/hook': 'expand-schema', 'tidegate.io/service': 'checkout' });
  expect(job.spec.template.spec).toEqual({ serviceAccountName: 'migrator', restartPolicy: 'Never', containers: [{ name: 'm', image: 'mig:1.4.2', terminationMessagePolicy: 'FallbackToLogsOnError' }] });
  // a template's own choices stand
  const own = hookRun({ ...{ releaseId: 'x@1', runId: 'r', point: 'afterMonitor', phase: 'run', vars }, hook: { name: 'c', action: { kind: 'job', timeout: 1, namespace: 'db', template: { backoffLimit: 2, template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'm', image: 'i', terminationMessagePolicy: 'File' }] } } } } } });
  expect(own.job?.namespace).toBe('db');
  expect(hookJob(own)).toMatchObject({ spec: { backoffLimit: 2, template: { spec: { restartPolicy: 'OnFailure', containers: [{ terminationMessagePolicy: 'File' }] } } } });
});

test('tail keeps the last non-empty lines', () => {
  expect(tail('a\nb\n\nc\n', 2)).toEqual(['b', 'c']);
  expect(tail('')).toEqual([]);
  expect(tail(Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\r\n'))).toHaveLength(20);
});

const base = {
  service: 'checkout',
  version: '1.4.2',
  image: 'registry.local/checkout:1.4.2',
  production: { namespace: 'prod', blueGreen: { activeService: 'checkout', deploymentPrefix: 'checkout' } },
};
const job = { template: { template: { spec: { containers: [{ name: 'm', image: 'mig' }] } } } };

test('hooks in a spec: defaults filled in (timeouts, POST, JSON body), in both spec forms', () => {
  const one = validateSpec({ ...base, hooks: { beforeSwitch: [{ name: 'expand', job, undo: { job } }], afterSwitch: [{ name: 'warm', http: { url: 'https://c/warm', body: { v: '{{version}}' } } }] } });
  if (!one.ok) throw new Error(JSON.stringify(one.problems));
  expect(one.spec.services[0]?.hooks).toEqual({
    beforeSwitch: [{ name: 'expand', action: { kind: 'job', template: job.template, timeout: 600_000 }, undo: { kind: 'job', template: job.template, timeout: 600_000 } }],
    afterSwitch: [{ name: 'warm', action: { kind: 'http', url: 'https://c/warm', method: 'POST', headers: { 'content-type': 'application/json' }, headersFromEnv: {}, body: '{"v":"{{version}}"}', timeout: 30_000 } }],
  });
  const { service, image, production } = base;
  const multi = validateSpec({ release: 'shop', version: '1.0.0', services: [{ service, image, production, hooks: { afterMonitor: [{ name: 'contract', job: { ...job, timeout: '30m', namespace: 'db' } }] } }] });
  if (!multi.ok) throw new Error(JSON.stringify(multi.problems));
  expect(multi.spec.services[0]?.hooks?.afterMonitor?.[0]?.action).toEqual({ kind: 'job', namespace: 'db', template: job.template, timeout: 1_800_000 });
});

test.each([
  [{ beforeSwitch: [{ name: 'x' }] }, 'hooks.beforeSwitch[0]', 'must be a job ({job: {template, timeout?, namespace?}}) or an http call'],
  [{ beforeSwitch: [{ name: 'x', job, http: { url: 'https://a' } }] }, 'hooks.beforeSwitch[0].http', 'a hook is a job or an http call, not both'],
  [{ beforeSwitch: [{ name: 'x', job: { template: { template: { spec: { containers: [] } } } } }] }, 'hooks.beforeSwitch[0].job.template.template.spec.containers', 'must list at least one container'],
  [{ beforeSwitch: [{ name: 'x', job: { template: { template: { spec: { restartPolicy: 'Always', containers: [{ name: 'm', image: 'i' }] } } } } }] }, 'hooks.beforeSwitch[0].job.template.template.spec.restartPolicy', "a Job's pods restart Never or OnFailure"],
  [{ beforeSwitch: [{ name: 'x', job, undo: { http: { url: 'ftp://a' } } }] }, 'hooks.beforeSwitch[0].undo.http.url', 'must be an http:// or https:// URL'],
  [{ afterSwitch: [{ name: 'x', http: { url: 'https://a', headers: { Authorization: 'Bearer t0ken' } } }] }, 'hooks.afterSwitch[0].http.headers.Authorization', "put the secret in the worker's environment and name it under headersFromEnv"],
  [{ afterSwitch: [{ name: 'x', http: { url: 'https://a', headersFromEnv: { authorization: 'not a name' } } }] }, 'hooks.afterSwitch[0].http.headersFromEnv.authorization', 'must name an environment variable of the worker'],
  [{ afterSwitch: [{ name: 'x', http: { url: 'https://a', timeout: '0s' } }] }, 'hooks.afterSwitch[0].http.timeout', 'must be longer than 0s'],
  [{ beforeSwitch: [{ name: 'x', job }], afterMonitor: [{ name: 'x', job }] }, 'hooks.afterMonitor[0].name', '"x" is also a hook at beforeSwitch: names are unique within a service'],
  [{ during: [] }, 'hooks', 'Unrecognized key: "during"'],
  [{ beforeSwitch: [{ name: 'Expand_Schema', job }] }, 'hooks.beforeSwitch[0].name', 'must be a DNS-1123 label'],
])('a bad hook spec names the field: %j → %s', (hooks, path, message) => {
  const r = validateSpec({ ...base, hooks });
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(r.problems.map((p) => `${p.path} ${p.message}`).join('\n')).toContain(`${path} `);
  expect(r.problems.find((p) => p.path === path)?.message).toContain(message);
});
