// Worker tuning from the environment: what an operator sets in deploy/ reaches the SDK's options,
// and a value the SDK would misread is refused naming the variable.
import { workerOptionsFromEnv } from '../../src/workers/main.js';

test.each<[string, NodeJS.ProcessEnv, object]>([
  ['nothing set: the SDK defaults', {}, {}],
  ['a cache bound', { TIDEGATE_MAX_CACHED_WORKFLOWS: '400' }, { maxCachedWorkflows: 400 }],
  ['no cache', { TIDEGATE_MAX_CACHED_WORKFLOWS: '0' }, { maxCachedWorkflows: 0 }],
  ['a small cache also bounds the workflow task slots below it', { TIDEGATE_MAX_CACHED_WORKFLOWS: '5' }, { maxCachedWorkflows: 5, maxConcurrentWorkflowTaskExecutions: 4 }],
  ['room for 500 activities (monitor windows each hold one)', { TIDEGATE_MAX_ACTIVITIES: '500' }, { maxConcurrentActivityTaskExecutions: 500 }],
])('%s', (_, env, expected) => expect(workerOptionsFromEnv(env)).toEqual(expected));

test.each<[NodeJS.ProcessEnv, string]>([
  [{ TIDEGATE_MAX_CACHED_WORKFLOWS: '-1' }, 'TIDEGATE_MAX_CACHED_WORKFLOWS must be a whole number ≥ 0 (got "-1")'],
  [{ TIDEGATE_MAX_CACHED_WORKFLOWS: 'lots' }, 'TIDEGATE_MAX_CACHED_WORKFLOWS must be a whole number ≥ 0 (got "lots")'],
  [{ TIDEGATE_MAX_ACTIVITIES: '0' }, 'TIDEGATE_MAX_ACTIVITIES must be a whole number ≥ 1 (got "0")'],
])('%j is refused', (env, message) => expect(() => workerOptionsFromEnv(env)).toThrow(message));
