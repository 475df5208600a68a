// Lint rules that protect the architecture: what ships (src/) never imports the development kit,
// the tests, the benchmarks or the scripts; workflow code must stay deterministic, so
// src/workflows, src/core and src/spec may not import Node built-ins; and workflows import
// activities only as types.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';
import globals from 'globals';

const nodeBuiltins = builtinModules.filter((m) => !m.startsWith('_'));
const builtinBan = {
  paths: nodeBuiltins.filter((name) => !name.startsWith('node:')).map((name) => ({
    name,
    message: 'Deterministic code (workflows, core, spec) must not use Node built-ins.',
  })),
  patterns: [{ group: ['node:*'], message: 'Deterministic code (workflows, core, spec) must not use Node built-ins.' }],
};

// src/ is what ships (tsconfig.build.json compiles only src/ into dist/).
const productBan = [
  {
    group: ['**/devkit', '**/devkit/**', '**/test/**', '**/bench/**', '**/scripts/**'],
    message: 'src/ ships: it may not import the development kit (devkit/), tests, benchmarks or scripts.',
  },
];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.tools/', '.stack/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { languageOptions: { globals: { ...globals.node } } },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: productBan }],
      // one union of failure types (src/core/failures.ts): every failure is raised through failure()
      'no-restricted-properties': ['error', ...['nonRetryable', 'retryable', 'create', 'fromError'].map((property) => ({
        object: 'ApplicationFailure',
        property,
        message: 'Raise failures with failure(type, message) from src/core/failures.ts, whose types are one union.',
      }))],
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='ApplicationFailure']", message: 'Raise failures with failure(type, message) from src/core/failures.ts.' }],
    },
  },
  {
    files: ['src/core/failures.ts'],
    rules: { 'no-restricted-properties': 'off', 'no-restricted-syntax': 'off' },
  },
  {
    files: ['src/core/**/*.ts', 'src/spec/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: builtinBan.paths, patterns: [...builtinBan.patterns, ...productBan] }] },
  },
  {
    files: ['src/workflows/**/*.ts', 'test/stack/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: builtinBan.paths,
          patterns: [
            ...builtinBan.patterns,
            ...productBan,
            {
              group: ['**/activities', '**/activities/*', '**/activities/**'],
              allowTypeImports: true,
              message: 'Workflows import activities type-only (proxyActivities<...>).',
            },
            {
              // the OpenTelemetry workflow interceptors are workflow-safe code of the SDK (src/workflows/tracing-interceptors.ts)
              group: ['@temporalio/*', '!@temporalio/workflow', '!@temporalio/common', '!@temporalio/interceptors-opentelemetry', '!@temporalio/interceptors-opentelemetry/lib/workflow/index.js'],
              message: 'Workflows may import only @temporalio/workflow, @temporalio/common and the OpenTelemetry workflow interceptors.',
            },
          ],
        },
      ],
    },
  },
);
