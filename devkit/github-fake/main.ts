// Entry point of the GitHub fake process, started by the local stack:
//   node --import tsx devkit/github-fake/main.ts --port N --token T
import { parseArgs } from 'node:util';
import { startGitHubFake } from './server.js';

const { values } = parseArgs({ options: { port: { type: 'string' }, token: { type: 'string' } }, strict: true });
if (!values.port || !values.token) {
  console.error('usage: github-fake --port N --token T');
  process.exit(2);
}
const fake = await startGitHubFake({ port: Number(values.port), token: values.token });
console.error(`GitHub fake on ${fake.url}`);
const stop = (): void => void fake.stop().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
