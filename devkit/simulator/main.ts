// Entry point of the traffic simulator process, started by the local stack:
//   node --import tsx devkit/simulator/main.ts --config FILE --port N [--kubeconfig FILE]
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { loadSimulatorConfig } from './config.js';
import { startSimulator } from './simulator.js';

const { values } = parseArgs({
  options: { config: { type: 'string' }, port: { type: 'string' }, kubeconfig: { type: 'string' }, 'tick-ms': { type: 'string' } },
  strict: true,
});
if (!values.config || !values.port) {
  console.error('usage: sim --config FILE --port N [--kubeconfig FILE] [--tick-ms 100]');
  process.exit(2);
}
const kc = new KubeConfig();
if (values.kubeconfig) kc.loadFromFile(values.kubeconfig);
else kc.loadFromDefault();
const sim = await startSimulator({
  config: loadSimulatorConfig(values.config),
  kubeconfig: kc,
  port: Number(values.port),
  ...(values['tick-ms'] ? { tickMs: Number(values['tick-ms']) } : {}),
});
console.error(`tidegate traffic simulator on ${sim.url}`);
const stop = (): void => {
  void sim.stop().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
