// Runs Temporal the way production runs it, so that tidegate's durability is shown where users rely on
// it: temporal-server's frontend, history, matching and worker services as four processes on a
// PostgreSQL cluster of the stack's own (initdb in its directory, a free port; schema by
// temporal-sql-tool), the Web UI server in front of the frontend, the namespace and tidegate's search
// attributes registered. Chaos tests kill and restart single services and the database through it.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { freePort, freePortBelow, listening } from './ports.js';
import { httpOk, ManagedProcess } from './process.js';
import { registerSearchAttributes, SERVER_SETTINGS } from './temporal.js';
import { toolPath } from '../toolchain/tools.js';

/** Started in this order (the worker service talks to the frontend, the frontend to history and matching). */
export const CLUSTER_SERVICES = ['history', 'matching', 'frontend', 'worker'] as const;
export type ClusterService = (typeof CLUSTER_SERVICES)[number];
export type ClusterProcess = ClusterService | 'postgres' | 'ui';

export interface ClusterPorts {
  postgres: number;
  /** gRPC port of each service (the frontend's is the address clients use). */
  grpc: Record<ClusterService, number>;
  /** Ringpop membership port of each service. */
  membership: Record<ClusterService, number>;
  frontendHttp: number;
  ui?: number;
}

export interface TemporalClusterOptions {
  /** Holds postgres/ (the database), config/, ui/ and logs/. Reused: a second start keeps the data. */
  dir: string;
  /** Ports of a previous start (kept when free: bookmarks and clients keep working). */
  ports?: Partial<ClusterPorts>;
  /** Without the Web UI server. */
  headless?: boolean;
  namespace?: string;
  /** Keep running after this process exits (the local stack). */
  detached?: boolean;
  guard?: boolean;
  /** The codec server the Web UI decodes payloads with. */
  codecEndpoint?: string;
  /** Days a closed release stays in the namespace (default 7). */
  retentionDays?: number;
  log?: (line: string) => void;
  /** Told after each process starts, so a caller can record it before the rest is up (an interrupted start leaves nothing unrecorded). */
  onStarted?: (pids: Partial<Record<ClusterProcess, number>>, ports: ClusterPorts) => void;
}

const DB_USER = 'temporal';
const DATABASES = [
  { name: 'temporal', schema: 'postgresql/v12/temporal' },
  { name: 'temporal_visibility', schema: 'postgresql/v12/visibility' },
] as const;

/**
 * The database password: made once per stack directory and kept 0600 beside the data. PostgreSQL
 * checks it on every connection (scram-sha-256): with trust, any local user could log in as the
 * superuser on the loopback port and run programs as the database's owner.
 */
function dbPassword(dir: string): string {
  const file = join(dir, 'postgres-password');
  if (!existsSync(file)) writeFileSync(file, randomBytes(18).toString('base64url'), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

function run(command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env: env ?? process.env, timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${command} ${args.join(' ')} failed: ${err.message}\n${stderr}${stdout}`.trim()));
      else resolve(`${stdout}${stderr}`);
    });
  });
}

const runningAsRoot = (): boolean => process.getuid?.() === 0;

/**
 * PostgreSQL refuses to run as root. As root (CI, containers) its programs run as the `postgres` user
 * Debian's package creates, through setpriv (which execs: the pid we keep is the server's own).
 */
function asDbUser(command: string, args: string[]): { command: string; args: string[] } {
  if (!runningAsRoot()) return { command, args };
  return { command: 'setpriv', args: ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', command, ...args] };
}

/**
 * The postgres user must get through every directory above its data: a test's mkdtemp directory is
 * 0700, so directories under the system's temporary directory get o+x (traverse, not list). Others
 * (a home directory) are left as they are; the check after initdb's mkdir says what to do.
 */
function openToDbUser(dir: string): void {
  const tmp = tmpdir();
  for (let d = resolve(dir); d.startsWith(`${tmp}/`); d = dirname(d)) {
    const mode = statSync(d).mode;
    if ((mode & 0o001) === 0) chmodSync(d, mode | 0o011);
  }
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]).catch(() => {
    throw new Error('PostgreSQL refuses to run as root and there is no `postgres` user to run it as: install Debian\'s postgresql package (npm run setup does) or run the stack as another user');
  });
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}

/** A port: the one asked for when it is free, else a new free one. */
async function keepOrPick(port: number | undefined, pick: () => Promise<number> = freePort): Promise<number> {
  if (port !== undefined && !(await listening(`127.0.0.1:${port}`))) return port;
  return pick();
}

/** Temporal stores membership ports in a smallint. */
const membershipPort = (): Promise<number> => freePortBelow(32_768);

function serverConfig(ports: ClusterPorts, dynamicConfigFile: string, password: string): string {
  const store = (db: string, maxConns: number): string => `      sql:
        pluginName: postgres12
        databaseName: ${db}
        connectAddr: "127.0.0.1:${ports.postgres}"
        connectProtocol: tcp
        user: ${DB_USER}
        password: "${password}"
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: 1h`;
  const service = (s: ClusterService): string => `  ${s}:
    rpc:
      grpcPort: ${ports.grpc[s]}
      membershipPort: ${ports.membership[s]}
      bindOnIP: 127.0.0.1${s === 'frontend' ? `\n      httpPort: ${ports.frontendHttp}` : ''}`;
  return `# Written by devkit/stack/temporal-cluster.ts: the stack's Temporal cluster on PostgreSQL.
log:
  stdout: true
  level: warn
persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: 4
  datastores:
    postgres-default:
${store('temporal', 10)}
    postgres-visibility:
${store('temporal_visibility', 4)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: 127.0.0.1
services:
${CLUSTER_SERVICES.map(service).join('\n')}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: 127.0.0.1:${ports.grpc.frontend}
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: ${dynamicConfigFile}
  pollInterval: 10s
`;
}

/**
 * As the dev server sets them (search attributes visible as soon as they are added), and the
 * settings both local servers share (SERVER_SETTINGS).
 */
const DYNAMIC_CONFIG = `system.forceSearchAttributesCacheRefreshOnRead:
  - value: true
frontend.persistenceMaxQPS:
  - value: 10000
history.persistenceMaxQPS:
  - value: 45000
${Object.entries(SERVER_SETTINGS).map(([key, value]) => `${key}:\n  - value: ${value}\n`).join('')}`;

function uiConfig(ports: ClusterPorts, namespace: string, codecEndpoint: string | undefined): string {
  return `# Written by devkit/stack/temporal-cluster.ts: the Web UI in front of the cluster's frontend.
temporalGrpcAddress: 127.0.0.1:${ports.grpc.frontend}
host: 127.0.0.1
port: ${ports.ui}
enableUi: true
defaultNamespace: ${namespace}
hideLogs: true
cors:
  cookieInsecure: true
${codecEndpoint ? `codec:\n  endpoint: ${codecEndpoint}\n` : ''}`;
}

/** Lines the log gained since `from` (a byte offset). */
function logSince(file: string, from: number): string {
  try {
    return readFileSync(file).subarray(from).toString('utf8');
  } catch {
    return '';
  }
}

const sizeOf = (file: string): number => (existsSync(file) ? statSync(file).size : 0);

export class TemporalCluster {
  readonly processes = new Map<ClusterProcess, ManagedProcess>();

  private constructor(
    private readonly options: TemporalClusterOptions,
    readonly ports: ClusterPorts,
    readonly namespace: string,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.ports.grpc.frontend}`;
  }

  get uiUrl(): string | undefined {
    return this.ports.ui === undefined ? undefined : `http://127.0.0.1:${this.ports.ui}`;
  }

  private get dir(): string {
    return this.options.dir;
  }

  private started(what: ClusterProcess, proc: ManagedProcess): void {
    this.processes.set(what, proc);
    this.options.onStarted?.(this.pids(), this.ports);
  }

  private logFile(what: ClusterProcess): string {
    return join(this.dir, 'logs', `temporal-${what}.log`);
  }

  /** The pid of each running process (the stack's state file keeps them). */
  pids(): Partial<Record<ClusterProcess, number>> {
    return Object.fromEntries([...this.processes].filter(([, p]) => p.running).map(([name, p]) => [name, p.pid]));
  }

  static async start(options: TemporalClusterOptions): Promise<TemporalCluster> {
    mkdirSync(join(options.dir, 'logs'), { recursive: true });
    const previous = options.ports ?? {};
    const pick = async (s: ClusterService, kind: 'grpc' | 'membership'): Promise<number> => keepOrPick(previous[kind]?.[s], kind === 'membership' ? membershipPort : freePort);
    const ports: ClusterPorts = {
      postgres: await keepOrPick(previous.postgres),
      grpc: { history: await pick('history', 'grpc'), matching: await pick('matching', 'grpc'), frontend: await pick('frontend', 'grpc'), worker: await pick('worker', 'grpc') },
      membership: { history: await pick('history', 'membership'), matching: await pick('matching', 'membership'), frontend: await pick('frontend', 'membership'), worker: await pick('worker', 'membership') },
      frontendHttp: await keepOrPick(previous.frontendHttp),
      ...(options.headless ? {} : { ui: await keepOrPick(previous.ui) }),
    };
    const cluster = new TemporalCluster(options, ports, options.namespace ?? 'default');
    try {
      await cluster.startPostgres();
      await cluster.setUpSchema();
      cluster.writeConfig();
      for (const service of CLUSTER_SERVICES) await cluster.startService(service);
      await cluster.registerNamespace();
      if (!options.headless) await cluster.startUi();
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  private get pgData(): string {
    return join(this.dir, 'postgres');
  }

  /** initdb once (the database outlives stops), then the server on the cluster's port, TCP only. */
  async startPostgres(): Promise<void> {
    const pgData = this.pgData;
    const log = this.logFile('postgres');
    if (!existsSync(join(pgData, 'PG_VERSION'))) {
      this.options.log?.('creating the PostgreSQL cluster (initdb)…');
      mkdirSync(pgData, { recursive: true, mode: 0o700 });
      if (runningAsRoot()) {
        const { uid, gid } = await postgresIds();
        chownSync(pgData, uid, gid);
        openToDbUser(this.dir);
        const probe = asDbUser('test', ['-w', pgData]);
        await run(probe.command, probe.args).catch(() => {
          throw new Error(`PostgreSQL runs as the postgres user (it refuses root), which cannot reach ${pgData}: make its parent directories traversable (chmod o+x) or put the stack elsewhere (TIDEGATE_STACK_DIR)`);
        });
      }
      // the superuser's password through a file only initdb reads (never a command line)
      const pwfile = join(this.dir, 'postgres-pwfile');
      writeFileSync(pwfile, `${dbPassword(this.dir)}\n`, { mode: 0o600 });
      try {
        if (runningAsRoot()) {
          const { uid, gid } = await postgresIds();
          chownSync(pwfile, uid, gid);
        }
        const initdb = asDbUser(toolPath('initdb'), ['-D', pgData, '-U', DB_USER, '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--no-instructions', '--no-sync']);
        await run(initdb.command, initdb.args);
      } finally {
        rmSync(pwfile, { force: true });
      }
    }
    const from = sizeOf(log);
    const { command, args } = asDbUser(toolPath('postgres'), [
      '-D', pgData, '-p', String(this.ports.postgres),
      '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200',
    ]);
    this.started('postgres', await ManagedProcess.start({
      name: 'PostgreSQL',
      command,
      args,
      logFile: log,
      readyTimeoutMs: 60_000,
      detachFromParent: this.options.detached ?? false,
      ...(this.options.guard === undefined ? {} : { guard: this.options.guard }),
      // it listens before it accepts queries ("the database system is starting up")
      ready: async () => (await listening(`127.0.0.1:${this.ports.postgres}`)) && /ready to accept connections/.test(logSince(log, from)),
    }));
  }

  /** Stops PostgreSQL the way an operator restarts it (SIGINT: fast shutdown), or SIGKILLs it. */
  async stopPostgres(how: 'fast' | 'kill' = 'fast'): Promise<void> {
    const pg = this.processes.get('postgres');
    if (!pg) return;
    if (how === 'kill') await pg.kill();
    else await pg.stop(30_000, 'SIGINT');
  }

  /** Creates the databases once, then brings their schema to this server's version (idempotent). */
  private async setUpSchema(): Promise<void> {
    const marker = join(this.dir, 'postgres-schema-created');
    const tool = toolPath('temporal-sql-tool');
    // the password through the tool's SQL_PASSWORD, not its command line; no --quiet (it makes a failure exit 0)
    const base = ['--plugin', 'postgres12', '--endpoint', '127.0.0.1', '--port', String(this.ports.postgres), '--user', DB_USER];
    const env = { ...process.env, SQL_PASSWORD: dbPassword(this.dir) };
    for (const db of DATABASES) {
      if (!existsSync(`${marker}.${db.name}`)) {
        this.options.log?.(`creating the ${db.name} database…`);
        await run(tool, [...base, '--database', db.name, 'create-database'], env).catch((err: unknown) => {
          if (!/already exists/.test(String(err))) throw err;
        });
        await run(tool, [...base, '--database', db.name, 'setup-schema', '--version', '0.0'], env);
        writeFileSync(`${marker}.${db.name}`, '');
      }
      await run(tool, [...base, '--database', db.name, 'update-schema', '--schema-name', db.schema], env);
    }
  }

  private writeConfig(): void {
    const configDir = join(this.dir, 'config');
    mkdirSync(configDir, { recursive: true });
    const dynamicConfig = join(configDir, 'dynamicconfig.yaml');
    writeFileSync(dynamicConfig, DYNAMIC_CONFIG);
    // it holds the database password: readable by this user only
    writeFileSync(join(configDir, 'cluster.yaml'), serverConfig(this.ports, dynamicConfig, dbPassword(this.dir)), { mode: 0o600 });
    chmodSync(join(configDir, 'cluster.yaml'), 0o600);
  }

  /** Starts one service (again, after a kill): it is up once its gRPC port listens (the worker service, which serves no gRPC, its membership port). */
  async startService(service: ClusterService): Promise<void> {
    const previous = this.processes.get(service);
    if (previous?.running) return;
    this.started(service, await ManagedProcess.start({
      name: `Temporal ${service}`,
      command: toolPath('temporal-server'),
      args: ['--root', this.dir, '--config', 'config', '--env', 'cluster', '--allow-no-auth', 'start', '--service', service],
      logFile: this.logFile(service),
      readyTimeoutMs: 120_000,
      detachFromParent: this.options.detached ?? false,
      ...(this.options.guard === undefined ? {} : { guard: this.options.guard }),
      ready: () => listening(`127.0.0.1:${service === 'worker' ? this.ports.membership.worker : this.ports.grpc[service]}`),
    }));
  }

  /** SIGKILLs one process of the cluster (chaos). */
  async kill(what: ClusterProcess): Promise<void> {
    await this.processes.get(what)?.kill();
  }

  /**
   * The namespace with its retention, and tidegate's search attributes. Then waits until the cluster
   * serves it end to end: the frontend knows the namespace, history answers for it (NOT_FOUND for
   * an execution that does not exist) and matching describes a task queue.
   */
  private async registerNamespace(): Promise<void> {
    const connection = await Connection.connect({ address: this.address, connectTimeout: 10_000 });
    try {
      const deadline = Date.now() + 120_000;
      for (let attempt = 1; ; attempt++) {
        try {
          await connection.workflowService
            .registerNamespace({ namespace: this.namespace, workflowExecutionRetentionPeriod: msToTs(`${this.options.retentionDays ?? 7} days`) })
            .catch((err: unknown) => {
              if ((err as { code?: number }).code !== 6) throw err; // ALREADY_EXISTS: a restart
            });
          await registerSearchAttributes(connection, this.namespace);
          await connection.workflowService.describeNamespace({ namespace: this.namespace });
          await connection.workflowService
            .getWorkflowExecutionHistory({ namespace: this.namespace, execution: { workflowId: 'tidegate-cluster-readiness' } })
            .catch((err: unknown) => {
              if ((err as { code?: number }).code !== 5) throw err; // NOT_FOUND: history answered
            });
          await connection.workflowService.describeTaskQueue({ namespace: this.namespace, taskQueue: { name: 'tidegate-cluster-readiness' } });
          return;
        } catch (err) {
          if (Date.now() > deadline) throw new Error(`the Temporal cluster did not serve namespace ${this.namespace} within 120 s (attempt ${attempt}): ${String(err)}`, { cause: err });
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    } finally {
      await connection.close();
    }
  }

  private async startUi(): Promise<void> {
    const uiDir = join(this.dir, 'ui');
    mkdirSync(join(uiDir, 'config'), { recursive: true });
    writeFileSync(join(uiDir, 'config', 'cluster.yaml'), uiConfig(this.ports, this.namespace, this.options.codecEndpoint));
    const url = this.uiUrl ?? '';
    this.started('ui', await ManagedProcess.start({
      name: 'Temporal Web UI',
      command: toolPath('temporal-ui-server'),
      args: ['--root', uiDir, '--config', 'config', '--env', 'cluster', 'start'],
      logFile: this.logFile('ui'),
      readyTimeoutMs: 60_000,
      detachFromParent: this.options.detached ?? false,
      ...(this.options.guard === undefined ? {} : { guard: this.options.guard }),
      ready: () => httpOk(url),
    }));
  }

  /** Stops everything: the UI and the services first, the database last. */
  async stop(): Promise<void> {
    const order: ClusterProcess[] = ['ui', 'worker', 'frontend', 'matching', 'history'];
    for (const name of order) await this.processes.get(name)?.stop();
    await this.stopPostgres();
  }
}

export const startTemporalCluster = (options: TemporalClusterOptions): Promise<TemporalCluster> => TemporalCluster.start(options);
