// `npm run stack -- up|down|status|env|reset`: the local stack of real servers.
//   up      start whatever is not answering (idempotent) and print how to reach it; `--temporal cluster`
//           runs Temporal as production does (four services on PostgreSQL) instead of the dev server;
//           `--clusters N` runs N Kubernetes control planes (contexts cluster-1..N), a simulator each
//   down    stop everything `up` started; nothing is left running
//   status  what answers where (exit 1 when something is down)
//   env     `export KEY=VALUE` lines: eval "$(npm run -s stack -- env)"
//   reset   put the sample service back in its initial state
// TIDEGATE_STACK_DIR moves the stack's files (default: .stack/ in the checkout).
import { pathToFileURL } from 'node:url';
import { COMPONENTS, defaultStackDir, readState, stackDown, stackEnv, stackReset, stackStatus, stackUp, type Component, type ComponentStatus, type TemporalKind } from './stack.js';

const USAGE = `usage: npm run stack -- <up|down|status|env|reset> [--only ${COMPONENTS.join(',')}] [--temporal dev|cluster] [--clusters N]`;

function envLines(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => `export ${k}=${/^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`}`)
    .join('\n');
}

/** One line per component, and under it one per cluster when the stack runs several. */
function statusLines(statuses: ComponentStatus[], indent = ''): string {
  const line = (name: string, up: boolean, detail: string, pad: number): string => `${name.padEnd(pad)} ${up ? 'up  ' : 'down'}  ${detail}`;
  return statuses
    .flatMap((s) => [line(`${indent}${s.component}`, s.up, s.detail, indent.length + 11), ...(s.parts ?? []).map((p) => line(`${indent}  ${p.name}`, p.up, p.detail, indent.length + 11))])
    .map((l) => `${l}\n`)
    .join('');
}

export async function stackCli(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const dir = defaultStackDir();
  const log = (line: string): void => void process.stderr.write(`[stack] ${line}\n`);
  let components: Component[] | undefined;
  let temporal: TemporalKind | undefined;
  let clusters: number | undefined;
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--clusters') {
      const n = rest[++i];
      if (n === undefined || !/^[1-9]\d*$/.test(n)) {
        process.stderr.write(`--clusters takes a whole number of Kubernetes clusters, 1 or more (default: as many as run now, else 1), not ${n ?? 'nothing'}\n`);
        return 2;
      }
      clusters = Number(n);
      continue;
    }
    if (rest[i] === '--temporal') {
      const kind = rest[++i];
      if (kind !== 'dev' && kind !== 'cluster') {
        process.stderr.write(`--temporal takes dev (the dev server, the default) or cluster (frontend, history, matching and worker on PostgreSQL), not ${kind ?? 'nothing'}\n`);
        return 2;
      }
      temporal = kind;
      continue;
    }
    if (rest[i] === '--only' && rest[i + 1]) {
      const names = (rest[++i] ?? '').split(',');
      const unknown = names.filter((n) => !(COMPONENTS as readonly string[]).includes(n));
      if (unknown.length) {
        process.stderr.write(`unknown component ${unknown.join(', ')}; known: ${COMPONENTS.join(', ')}\n`);
        return 2;
      }
      components = names as Component[];
    } else {
      process.stderr.write(`unknown option ${rest[i]}\n${USAGE}\n`);
      return 2;
    }
  }
  switch (command) {
    case 'up': {
      const started = Date.now();
      const state = await stackUp({ dir, log, ...(components ? { components } : {}), ...(temporal ? { temporal } : {}), ...(clusters ? { clusters } : {}) });
      const statuses = await stackStatus(dir);
      process.stderr.write(statusLines(statuses, '  '));
      process.stderr.write(`[stack] ready in ${((Date.now() - started) / 1000).toFixed(1)} s; files in ${dir}\n`);
      process.stdout.write(`${envLines(stackEnv(state))}\n`);
      return 0;
    }
    case 'down':
      await stackDown(dir, log);
      log('stopped');
      return 0;
    case 'status': {
      const statuses = await stackStatus(dir);
      process.stdout.write(statusLines(statuses));
      return statuses.every((s) => s.up) ? 0 : 1;
    }
    case 'env': {
      const env = stackEnv(readState(dir));
      if (Object.keys(env).length === 0) {
        process.stderr.write('the stack is not up: run `npm run stack -- up`\n');
        return 1;
      }
      process.stdout.write(`${envLines(env)}\n`);
      return 0;
    }
    case 'reset': {
      const applied = await stackReset(dir);
      log(`sample service reset (${applied.length} objects)`);
      return 0;
    }
    default:
      process.stderr.write(`${USAGE}\n`);
      return 2;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  stackCli(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      process.stderr.write(`[stack] error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
