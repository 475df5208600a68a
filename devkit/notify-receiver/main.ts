// Entry point of the notification receiver process, started by the local stack:
//   TIDEGATE_WEBHOOK_SECRET=S node --import tsx devkit/notify-receiver/main.ts --port N
// (with the secret, a webhook body without its matching X-Tidegate-Signature is refused)
import { parseArgs } from 'node:util';
import { startNotifyReceiver } from './server.js';

const { values } = parseArgs({ options: { port: { type: 'string' } }, strict: true });
if (!values.port) {
  console.error('usage: notify-receiver --port N (TIDEGATE_WEBHOOK_SECRET in the environment to check signatures)');
  process.exit(2);
}
const receiver = await startNotifyReceiver({ port: Number(values.port), ...(process.env.TIDEGATE_WEBHOOK_SECRET ? { secret: process.env.TIDEGATE_WEBHOOK_SECRET } : {}) });
console.error(`notification receiver on ${receiver.url} (/slack, /webhook; /_receiver/messages lists what it got)`);
const stop = (): void => void receiver.stop().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
