// Entry point of the traffic simulator process, started by the local stack:
//   node --import tsx devkit/simulator/main.ts --config FILE --port N [--kubeconfig FILE] [--context NAME]
// --context reads routing and images from that context of the kubeconfig (one simulator per cluster
// of a stack with several), not its current one.
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { loadSimulatorConfig } from './config.js';
import { startSimulator } from './simulator.js';

const { values } = parseArgs({
  options: { config: { type: 'string' }, port: { type: 'string' }, kubeconfig: { type: 'string' }, context: { type: 'string' }, 'tick-ms': { type: 'string' } },
  strict: true,
});
if (!values.config || !values.port) {
  console.error('usage: sim --config FILE --port N [--kubeconfig FILE] [--context NAME] [--tick-ms 100]');
  process.exit(2);
}
const kc = new KubeConfig();
if (values.kubeconfig) kc.loadFromFile(values.kubeconfig);
else kc.loadFromDefault();
if (values.context !== undefined) {
  if (!kc.getContextObject(values.context)) {
    console.error(`--context ${values.context}: the kubeconfig has no such context (its contexts: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`);
    process.exit(2);
  }
  kc.setCurrentContext(values.context);
}
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
