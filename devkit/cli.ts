// The development kit's front door (`npm run dev`, `npm run demo`, `npm run tidegate -- …` in a
// checkout): `dev` and `demo` need the local stack and its toolchain, which the installed CLI does
// not ship; every other command is the product's CLI (src/client/cli.ts), unchanged.
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { EXIT_CODES } from '../src/core/status.js';
import { runCli, type CliIO } from '../src/client/cli.js';

const USAGE = `usage: npm run dev | npm run demo -- [--auto-approve] [--keep] [--clusters 3] | npm run tidegate -- <command> …

  dev                              local stack (Temporal + UI, Kubernetes, Prometheus, simulator, GitHub fake) + a worker
  demo [--auto-approve] [--keep]   a healthy and a broken release of the sample service on the local stack
       [--clusters 3]              … across three clusters in two waves, the broken one failing in the last wave
  <anything else>                  the tidegate CLI (npm run tidegate -- --help)`;

export async function runDevkit(argv: string[], io: CliIO): Promise<number> {
  const command = argv[0];
  if (command !== 'dev' && command !== 'demo') return runCli(argv, io);
  let values: { 'auto-approve'?: boolean; keep?: boolean; clusters?: string; help?: boolean };
  try {
    const options = { 'auto-approve': { type: 'boolean' }, keep: { type: 'boolean' }, clusters: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;
    ({ values } = parseArgs({ args: argv.slice(1), options, strict: true, allowPositionals: false }));
    if (command === 'dev' && (values['auto-approve'] || values.keep || values.clusters)) throw new Error('dev takes no options but --help');
    if (values.clusters !== undefined && values.clusters !== '1' && values.clusters !== '3') throw new Error(`--clusters takes 3 (the example release across clusters, examples/checkout/release-waves.yaml, has three) or 1, not "${values.clusters}"`);
  } catch (err) {
    io.stderr(`error: ${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    return EXIT_CODES.invalid;
  }
  if (values.help) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  try {
    if (command === 'dev') {
      const { runDev } = await import('./dev.js');
      await runDev(io);
      return 0;
    }
    const { runDemo } = await import('./demo.js');
    return await runDemo(io, { autoApprove: values['auto-approve'] ?? false, keep: values.keep ?? false, clusters: Number(values.clusters ?? 1) });
  } catch (err) {
    io.stderr(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_CODES.error;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runDevkit(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
  });
}
