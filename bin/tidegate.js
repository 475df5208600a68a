#!/usr/bin/env node
// The `tidegate` command: runs the compiled CLI (npm run build), or the TypeScript sources through
// tsx when working from a checkout without dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = fileURLToPath(new URL('../dist/client/cli.js', import.meta.url));
if (existsSync(compiled)) {
  const { main } = await import(compiled);
  await main();
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import(fileURLToPath(new URL('../src/client/cli.ts', import.meta.url)));
  await main();
}
