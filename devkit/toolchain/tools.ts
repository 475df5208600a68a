// Finds the real server binaries that devkit/toolchain/setup.sh installed (or that the user brought), so that
// tests, the demo and `npm run dev` never try to download anything.
import { accessSync, constants, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ToolName =
  | 'temporal'
  | 'temporal-test-server'
  | 'prometheus'
  | 'kube-apiserver'
  | 'kube-controller-manager'
  | 'kube-scheduler'
  | 'kubectl'
  | 'etcd'
  | 'kwok'
  | 'kwokctl'
  | 'chromium'
  | 'temporal-server'
  | 'temporal-sql-tool'
  | 'temporal-ui-server'
  | 'postgres'
  | 'initdb';

/** Repository root: this file is devkit/toolchain/tools.ts. */
export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export function cacheDir(): string {
  return process.env.TIDEGATE_CACHE ?? join(homedir(), '.cache', 'tidegate');
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir && isExecutable(candidate)) return candidate;
  }
  return undefined;
}

const envVar: Record<ToolName, string> = {
  temporal: 'TIDEGATE_TEMPORAL_BIN',
  'temporal-test-server': 'TIDEGATE_TEST_SERVER_BIN',
  prometheus: 'TIDEGATE_PROMETHEUS_BIN',
  'kube-apiserver': 'TIDEGATE_KUBE_APISERVER_BIN',
  'kube-controller-manager': 'TIDEGATE_KUBE_CONTROLLER_MANAGER_BIN',
  'kube-scheduler': 'TIDEGATE_KUBE_SCHEDULER_BIN',
  kubectl: 'TIDEGATE_KUBECTL_BIN',
  etcd: 'TIDEGATE_ETCD_BIN',
  kwok: 'TIDEGATE_KWOK_BIN',
  kwokctl: 'TIDEGATE_KWOKCTL_BIN',
  chromium: 'TIDEGATE_CHROMIUM_BIN',
  'temporal-server': 'TIDEGATE_TEMPORAL_SERVER_BIN',
  'temporal-sql-tool': 'TIDEGATE_TEMPORAL_SQL_TOOL_BIN',
  'temporal-ui-server': 'TIDEGATE_TEMPORAL_UI_SERVER_BIN',
  postgres: 'TIDEGATE_POSTGRES_BIN',
  initdb: 'TIDEGATE_INITDB_BIN',
};

/**
 * Path of a tool: $TIDEGATE_<TOOL>_BIN, else the checkout's .tools/ link, else PATH.
 * Throws an error that says how to install it.
 */
export function toolPath(name: ToolName): string {
  const fromEnv = process.env[envVar[name]];
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`${envVar[name]}=${fromEnv} is not an executable file`);
    return fromEnv;
  }
  const linked = join(repoRoot, '.tools', name);
  if (existsSync(linked) && isExecutable(linked)) return linked;
  const found = onPath(name);
  if (found) return found;
  throw new Error(`${name} not found: run \`npm run setup\` (installs it into ${cacheDir()}) or set ${envVar[name]}`);
}
