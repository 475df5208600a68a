// The `tidegate` CLI: a thin layer over the client library. One top-level handler maps
// typed errors to exit codes: 2 invalid input, 3 refused, 1 anything else; `--wait` exits with the
// release's own code (0 released, 10 rolled back by analysis, 11 rejected, 12 aborted, 13 timed out).
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { pathToFileURL } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ServiceError, type Client } from '@temporalio/client';
import { EXIT_CODES, type ReleaseResult, type ReleaseStatus } from '../core/status.js';
import { formatProblem, parseSpec, type ReleaseSpec, type SpecOverrides } from '../spec/index.js';
import { configLabel, fetchReleaseHistory, readHistoryFile, recordedRelease, renderReplay, replayReport } from './analysis-replay.js';
import { attest, renderAttestation } from './verify.js';
import { connectClient, temporalSettings } from '../temporal/connection.js';
import { InvalidInputError, RefusedError } from './errors.js';
import { exitCodeOf, renderList, renderStatus } from './render.js';
import { Releases } from './releases.js';
import { liftGlobalFreeze, startGlobalFreeze } from './freeze.js';
import { createSchedule, deleteSchedule, listSchedules, pauseSchedule, renderSchedule, resumeSchedule } from './schedules.js';
import { parseVersion, type VersionSource } from '../core/versions.js';
import { isTimeZone } from '../core/windows.js';
import { readGlobalFreeze } from '../temporal/freeze.js';
import { TASK_QUEUE } from '../core/ids.js';
import type { JSONWebKeySet } from 'jose';
import { AesGcmCodec, PayloadKeyError, payloadKeysFromEnv } from '../temporal/codec.js';
import { startCodecServer } from '../temporal/codec-server.js';
import { idTokenSigner, SigningError, sshKeygenSigner, type Signer } from '../signing/sign.js';

export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Injected by tests; by default connects with the standard TEMPORAL_* variables. */
  connect?: () => Promise<{ client: Client; close: () => Promise<void> }>;
  /** Polling interval of --watch / --wait. */
  pollMs?: number;
}

const USAGE = `usage: tidegate <command> [options]

  validate -f FILE                         check a release spec (exit 0 valid, 2 invalid)
  start -f FILE [--version V] [--image I] [--sha S] [--as NAME] [--key SSH_KEY] [--wait] [--supersede] [--json]
  status RELEASE [--json] [--watch] [--wait]
  list [--service S] [--running] [--json]
  analysis replay RELEASE [-f FILE] [--history FILE] [--json]
                                           re-judge a finished release's recorded samples under its own config
                                           and FILE's; --history reads an exported history instead of the server
  approve RELEASE [--as NAME] [--comment TEXT] [--key SSH_KEY]
  reject RELEASE [--as NAME] --reason TEXT [--key SSH_KEY]
  promote RELEASE [--full] [--as NAME] [--key SSH_KEY]
  abort RELEASE --reason TEXT [--as NAME] [--key SSH_KEY]
  abort --all [--service S] --reason TEXT [--as NAME] [--key SSH_KEY]
                                           abort every running release (of S: a service, or a multi-service
                                           release's name), found through the search attributes
                                           --key (or TIDEGATE_SIGNING_KEY) signs the decision with ssh-keygen -Y sign:
                                           a private key, or a .pub whose key ssh-agent holds;
                                           --id-token-command CMD (or TIDEGATE_ID_TOKEN_COMMAND) proves it with
                                           the OIDC ID token CMD prints, signed in with nonce $TIDEGATE_NONCE
  freeze --reason TEXT [--as NAME]         hold every running release at its next stage boundary (approvals are
                                           still collected) and every new one before its first change
  freeze                                   show the freeze in force, if any
  unfreeze [--as NAME]                     lift the freeze: waiting releases go on at once
  schedule create ID -f FILE --cron EXPR [--time-zone TZ] (--from-tags [--pre-releases] | --versions V1,V2…) [--paused] [--as NAME]
                                           a release train: on each firing, release the spec at the newest tag of
                                           source.repo (or the next listed version not yet released); overlap: skip
  schedule list [--json]                   each train's cron, next firing and what its newest firing did
  schedule pause ID --reason TEXT | resume ID | delete ID [--as NAME]
  verify RELEASE --allowed-signers FILE [--jwks FILE] [--history FILE] [--json]
                                           re-verify every recorded decision of a release against FILE, offline
  worker [--check]                         run a worker (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, …)
  codec-server [--host H] [--port P] [--origin UI_URL]…
                                           serve /encode and /decode for the Temporal UI and CLI with the payload
                                           keys (TIDEGATE_PAYLOAD_KEYS); a bearer token TIDEGATE_CODEC_TOKEN
                                           is required unless it listens on 127.0.0.1 (the default)

in a checkout of tidegate, the development kit adds: npm run dev (local stack + worker), npm run demo

exit codes: 0 released/ok, 1 error, 2 invalid input, 3 refused,
            10 rolled back by analysis, 11 rejected, 12 aborted, 13 timed out`;

const OPTIONS = {
  file: { type: 'string', short: 'f' },
  version: { type: 'string' },
  image: { type: 'string' },
  sha: { type: 'string' },
  as: { type: 'string' },
  comment: { type: 'string' },
  key: { type: 'string' },
  'id-token-command': { type: 'string' },
  'allowed-signers': { type: 'string' },
  jwks: { type: 'string' },
  reason: { type: 'string' },
  service: { type: 'string' },
  wait: { type: 'boolean' },
  watch: { type: 'boolean' },
  json: { type: 'boolean' },
  supersede: { type: 'boolean' },
  running: { type: 'boolean' },
  full: { type: 'boolean' },
  all: { type: 'boolean' },
  history: { type: 'string' },
  check: { type: 'boolean' },
  host: { type: 'string' },
  port: { type: 'string' },
  origin: { type: 'string', multiple: true },
  cron: { type: 'string' },
  'time-zone': { type: 'string' },
  'from-tags': { type: 'boolean' },
  'pre-releases': { type: 'boolean' },
  versions: { type: 'string' },
  paused: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsConfig['options'];

type Flags = ReturnType<typeof parse>['values'];

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new InvalidInputError(err instanceof Error ? err.message : String(err));
  }
}

function identity(flags: Flags, env: NodeJS.ProcessEnv): string {
  return flags.as || env.TIDEGATE_USER || userInfo().username;
}

/**
 * The signer of --key / --id-token-command, else of TIDEGATE_SIGNING_KEY / TIDEGATE_ID_TOKEN_COMMAND,
 * if any is given; a flag wins over the environment, and two flags are refused.
 */
function signerOf(flags: Flags, env: NodeJS.ProcessEnv): Signer | undefined {
  if (flags.key && flags['id-token-command']) throw new InvalidInputError('give --key or --id-token-command, not both: a decision is proven one way');
  if (flags.key) return sshKeygenSigner(flags.key);
  if (flags['id-token-command']) return idTokenSigner(flags['id-token-command']);
  if (env.TIDEGATE_SIGNING_KEY && env.TIDEGATE_ID_TOKEN_COMMAND) throw new InvalidInputError('TIDEGATE_SIGNING_KEY and TIDEGATE_ID_TOKEN_COMMAND are both set: unset one, or pass --key or --id-token-command');
  if (env.TIDEGATE_SIGNING_KEY) return sshKeygenSigner(env.TIDEGATE_SIGNING_KEY);
  if (env.TIDEGATE_ID_TOKEN_COMMAND) return idTokenSigner(env.TIDEGATE_ID_TOKEN_COMMAND);
  return undefined;
}

function releaseArg(positionals: string[], command: string): string {
  const id = positionals[1];
  if (!id) throw new InvalidInputError(`${command} needs a release id, like checkout@1.4.2`);
  if (!/^[^@\s]+@[^@\s]+$/.test(id)) throw new InvalidInputError(`"${id}" is not a release id (expected <service>@<version>)`);
  return id;
}

function loadSpec(flags: Flags, overridable = true): ReturnType<typeof parseSpec> {
  if (!flags.file) throw new InvalidInputError('missing -f FILE (the release spec)');
  let text: string;
  try {
    text = readFileSync(flags.file, 'utf8');
  } catch (err) {
    throw new InvalidInputError(`cannot read ${flags.file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (!overridable) return parseSpec(text);
  const overrides: SpecOverrides = {
    ...(flags.version ? { version: flags.version } : {}),
    ...(flags.image ? { image: flags.image } : {}),
    ...(flags.sha ? { sha: flags.sha } : {}),
  };
  return parseSpec(text, overrides);
}

const COMMANDS = ['validate', 'start', 'status', 'list', 'analysis', 'verify', 'approve', 'reject', 'promote', 'abort', 'freeze', 'unfreeze', 'schedule', 'worker', 'codec-server'];
/** Commands of the development kit (devkit/cli.ts), which the installed CLI does not ship. */
const DEVKIT_COMMANDS = ['dev', 'demo'];

function unknownCommand(command: string): InvalidInputError {
  if (DEVKIT_COMMANDS.includes(command)) {
    return new InvalidInputError(`"${command}" belongs to the development kit, not to the installed CLI: run \`npm run ${command}\` in a checkout of tidegate`);
  }
  return new InvalidInputError(`unknown command "${command}"`);
}

/**
 * What `tidegate <argv>` would run, checked without running it or reading any file: an unknown
 * command or option, or a missing argument, throws the InvalidInputError the CLI would exit 2 with.
 * Keeps command lines written elsewhere (examples/ci/) honest.
 */
export function parseInvocation(argv: string[]): { command: string; flags: Flags; positionals: string[] } {
  if (DEVKIT_COMMANDS.includes(argv[0] ?? '')) throw unknownCommand(argv[0] ?? '');
  const { values: flags, positionals } = parse(argv);
  const command = positionals[0] ?? '';
  if (!COMMANDS.includes(command)) throw unknownCommand(command);
  if ((command === 'validate' || command === 'start') && !flags.file) throw new InvalidInputError('missing -f FILE (the release spec)');
  checkAbortAll(command, flags, positionals);
  if (['status', 'approve', 'reject', 'promote'].includes(command) || (command === 'abort' && !flags.all)) releaseArg(positionals, command);
  if ((command === 'reject' || command === 'abort') && !flags.reason?.trim()) throw new InvalidInputError(`${command} needs --reason TEXT`);
  return { command, flags, positionals };
}

/** --all belongs to abort, and takes no release id; --service narrows list and abort --all only. */
function checkAbortAll(command: string, flags: Flags, positionals: string[]): void {
  if (flags.all && command !== 'abort') throw new InvalidInputError('--all applies to abort only');
  if (flags.all && positionals[1]) throw new InvalidInputError(`give a release id or --all, not both (got "${positionals[1]}")`);
  if (command === 'abort' && flags.service && !flags.all) throw new InvalidInputError('--service applies to abort --all; to abort one release, name it');
}

/** Runs one CLI invocation and returns its exit code. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  try {
    return await dispatch(argv, io);
  } catch (err) {
    if (err instanceof SigningError || err instanceof PayloadKeyError) {
      io.stderr(`error: ${err.message}\n`);
      return EXIT_CODES.invalid;
    }
    if (err instanceof InvalidInputError) {
      io.stderr(`error: ${err.message}\n${err.problems.map((p) => `  ${p}\n`).join('')}`);
      return EXIT_CODES.invalid;
    }
    if (err instanceof RefusedError) {
      io.stderr(`refused: ${err.message}\n`);
      return EXIT_CODES.refused;
    }
    io.stderr(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_CODES.error;
  }
}

async function dispatch(argv: string[], io: CliIO): Promise<number> {
  // before the options, which are the development kit's
  if (DEVKIT_COMMANDS.includes(argv[0] ?? '')) throw unknownCommand(argv[0] ?? '');
  const { values: flags, positionals } = parse(argv);
  const command = positionals[0];
  if (flags.help || !command) {
    (command ? io.stdout : io.stderr)(`${USAGE}\n`);
    return command || flags.help ? 0 : EXIT_CODES.invalid;
  }
  // The human form is computed only when it is printed: --json never depends on the renderer.
  const print = (human: () => string, json: unknown): void => io.stdout(flags.json ? `${JSON.stringify(json, null, 2)}\n` : `${rendered(human)}\n`);

  if (command === 'validate') {
    const result = loadSpec(flags);
    if (!result.ok) throw new InvalidInputError(`${flags.file} is not a valid release spec:`, result.problems.map(formatProblem));
    const { spec } = result;
    print(() => `${flags.file}: valid — ${spec.name}@${spec.version}, ${spec.services.map((s) => s.service).join(', ')}`, { valid: true, spec });
    return 0;
  }
  if (command === 'worker') {
    const { runWorker, workflowsPath } = await import('../workers/main.js');
    if (flags.check) {
      const { preflight } = await import('../workers/preflight.js');
      io.stdout(`${JSON.stringify(await preflight(workflowsPath))}\n`);
      return 0;
    }
    await runWorker();
    return 0;
  }

  if (command === 'codec-server') return codecServer(flags, io);
  if (command === 'analysis') return analysis(positionals, flags, io, print);
  if (command === 'verify') return verify(positionals, flags, io, print);
  if (command === 'schedule') return schedule(positionals, flags, io, print);

  if (!COMMANDS.includes(command)) throw new InvalidInputError(`${unknownCommand(command).message}\n${USAGE}`);

  // Validate everything that needs no server before connecting.
  let startSpec: ReturnType<typeof parseSpec> | undefined;
  if (command === 'start') {
    startSpec = loadSpec(flags);
    if (!startSpec.ok) throw new InvalidInputError(`${flags.file} is not a valid release spec; nothing was started:`, startSpec.problems.map(formatProblem));
  }
  checkAbortAll(command, flags, positionals);
  const id = ['start', 'list', 'freeze', 'unfreeze'].includes(command) || (command === 'abort' && flags.all) ? '' : releaseArg(positionals, command);
  if (command === 'reject' && !flags.reason?.trim()) throw new InvalidInputError('reject needs --reason TEXT');
  if (command === 'freeze' && flags.reason !== undefined && !flags.reason.trim()) throw new InvalidInputError('freeze needs a non-empty --reason TEXT: it is shown to everyone whose release waits');
  if (command === 'abort' && !flags.reason?.trim()) throw new InvalidInputError('abort needs --reason TEXT');

  const { client, close } = await (io.connect ?? (() => connectClient(temporalSettings(io.env), io.env, (message) => io.stderr(`tidegate: ${message}\n`))))();
  try {
    const releases = new Releases(client, io.env.TIDEGATE_TASK_QUEUE || undefined);
    const by = identity(flags, io.env);
    switch (command) {
      case 'start': {
        if (!startSpec?.ok) return EXIT_CODES.invalid;
        const signer = signerOf(flags, io.env);
        const started = await releases.start(startSpec.spec, { initiator: by, supersede: flags.supersede ?? false, ...(signer ? { signer } : {}) });
        const what = started.created ? 'started' : started.ended ? `already ended (${started.ended.outcome})` : 'already running';
        if (!flags.wait) {
          print(() => `${started.releaseId} ${what}`, started);
          return started.ended ? exitCodeOf(started.ended) : 0;
        }
        if (!flags.json) io.stderr(`${started.releaseId} ${what}; waiting for it to end…\n`);
        return finish(await releases.result(started.releaseId), flags, io);
      }
      case 'status': {
        if (flags.wait || flags.watch) return await watch(releases, id, flags, io);
        const status = await releases.status(id);
        print(() => renderStatus(status), status);
        return 0;
      }
      case 'list': {
        const list = await releases.list({ ...(flags.service ? { service: flags.service } : {}), ...(flags.running ? { running: true } : {}) });
        print(() => renderList(list), list);
        return 0;
      }
      case 'approve': {
        const signer = signerOf(flags, io.env);
        const r = await releases.approve(id, by, flags.comment, signer);
        print(() => `${id}: approved by ${by}${signer ? ' (signed)' : ' (unsigned)'} (${r.approvals} approvals, ${r.needed} more needed)`, r);
        return 0;
      }
      case 'reject': {
        const r = await releases.reject(id, by, flags.reason ?? '', signerOf(flags, io.env));
        print(() => `${id}: ${r.service} rejected by ${by}; rolling back`, r);
        return 0;
      }
      case 'promote': {
        const signer = signerOf(flags, io.env);
        const r = await releases.promote(id, by, flags.full ?? false, signer);
        print(() => `${id}: promoted by ${by}${signer ? ' (signed)' : ' (unsigned)'} (${r.promoted})`, r);
        return 0;
      }
      case 'abort': {
        const signer = signerOf(flags, io.env);
        if (flags.all) return await abortAll(releases, by, flags, signer, io, print);
        const r = await releases.abort(id, by, flags.reason ?? '', signer);
        const text = (): string =>
          !r.accepted
            ? `${id}: already being aborted (requested by ${r.abortedBy}); nothing changed`
            : r.queued
              ? `${id}: abort requested by ${by} (unsigned); no worker answered yet: the release rolls back when one runs${r.warning ? ` — note: ${r.warning}` : ''}`
              : `${id}: abort requested by ${by}${signer ? ' (signed)' : ' (unsigned)'}; the release rolls back`;
        print(text, { releaseId: id, ...r });
        return 0;
      }
      case 'freeze': {
        if (flags.reason === undefined) {
          const current = await readGlobalFreeze(client);
          print(() => (current ? `frozen by ${current.by} since ${current.since}: ${current.reason}` : 'no freeze in force (set one with tidegate freeze --reason TEXT)'), { frozen: current ?? null });
          return 0;
        }
        const r = await startGlobalFreeze(client, { by, reason: flags.reason.trim() }, io.env.TIDEGATE_TASK_QUEUE || TASK_QUEUE);
        print(
          () =>
            r.started
              ? `frozen by ${by}: ${r.freeze.reason}\nrunning releases stop at their next stage boundary (approvals are still collected); tidegate unfreeze lifts it`
              : `already frozen by ${r.freeze.by} since ${r.freeze.since}: ${r.freeze.reason}; nothing changed`,
          { started: r.started, frozen: r.freeze },
        );
        return 0;
      }
      case 'unfreeze': {
        const r = await liftGlobalFreeze(client, by);
        print(
          () => (r.lifted ? `unfrozen by ${by} (frozen by ${r.lifted.by} since ${r.lifted.since}: ${r.lifted.reason}); told ${r.told} running release${r.told === 1 ? '' : 's'}` : `no freeze was in force; told ${r.told} running release${r.told === 1 ? '' : 's'} to check their calendar again`),
          { lifted: r.lifted ?? null, told: r.told },
        );
        return 0;
      }
    }
    return EXIT_CODES.error;
  } finally {
    await close();
  }
}

/**
 * `abort --all [--service S]`: every running release (of S) found through the search attributes is
 * asked to abort, one after another, each as `abort RELEASE` would. Exit 0 when every one accepted,
 * 3 when one refused (a release that requires a signed abort), 1 when one could not be asked.
 */
async function abortAll(releases: Releases, by: string, flags: Flags, signer: Signer | undefined, io: CliIO, print: (human: () => string, json: unknown) => void): Promise<number> {
  const reason = flags.reason ?? '';
  const running = await releases.list({ running: true, ...(flags.service ? { service: flags.service } : {}) }, 10_000);
  const results: { releaseId: string; outcome: 'accepted' | 'queued' | 'already-aborting' | 'refused' | 'error'; detail?: string }[] = [];
  for (const { releaseId } of running) {
    try {
      const r = await releases.abort(releaseId, by, reason, signer);
      results.push({ releaseId, outcome: !r.accepted ? 'already-aborting' : r.queued ? 'queued' : 'accepted', ...(r.accepted ? {} : { detail: `requested by ${r.abortedBy}` }) });
    } catch (err) {
      results.push({ releaseId, outcome: err instanceof RefusedError ? 'refused' : 'error', detail: err instanceof Error ? err.message : String(err) });
    }
  }
  const scope = flags.service ? ` of ${flags.service}` : '';
  print(
    () =>
      results.length === 0
        ? `no running release${scope}; nothing to abort`
        : [`abort requested by ${by} for ${results.length} running release${results.length === 1 ? '' : 's'}${scope}:`, ...results.map((r) => `  ${r.releaseId}: ${r.outcome}${r.detail ? ` (${r.detail})` : ''}`)].join('\n'),
    { aborted: results },
  );
  if (results.some((r) => r.outcome === 'error')) return EXIT_CODES.error;
  if (results.some((r) => r.outcome === 'refused')) return EXIT_CODES.refused;
  return 0;
}

/**
 * The human form of something, or — should rendering ever fail — a line saying so: what a command
 * prints must never change its exit code (CI tells a rollback from a crash by it).
 */
function rendered(human: () => string): string {
  try {
    return human();
  } catch (err) {
    return `(could not render this as text: ${err instanceof Error ? err.message : String(err)}; --json shows everything)`;
  }
}

/** The end of `--wait` / `--watch` / `start --wait`: the exit code comes from the result, never from printing it. */
function finish(result: ReleaseResult, flags: Flags, io: CliIO): number {
  const code = exitCodeOf(result);
  io.stdout(flags.json ? `${JSON.stringify(result, null, 2)}\n` : `${rendered(() => renderStatus(result?.status))}\n`);
  return code;
}

/**
 * `analysis replay RELEASE [-f FILE] [--history FILE]`: re-judges a finished release's recorded
 * samples. Everything that needs no server (the other spec, the history file) is checked first.
 */
async function analysis(positionals: string[], flags: Flags, io: CliIO, print: (human: () => string, json: unknown) => void): Promise<number> {
  const sub = positionals[1];
  if (sub !== 'replay') throw new InvalidInputError(sub ? `unknown analysis command "${sub}" (expected: analysis replay RELEASE)` : 'analysis needs a command: analysis replay RELEASE');
  const id = positionals[2];
  if (id !== undefined && !/^[^@\s]+@[^@\s]+$/.test(id)) throw new InvalidInputError(`"${id}" is not a release id (expected <service>@<version>)`);
  if (positionals.length > 3) throw new InvalidInputError(`unexpected arguments: ${positionals.slice(3).join(' ')}`);
  let other: { label: string; spec: ReleaseSpec } | undefined;
  if (flags.file) {
    const parsed = loadSpec(flags, false);
    if (!parsed.ok) throw new InvalidInputError(`${flags.file} is not a valid release spec:`, parsed.problems.map(formatProblem));
    other = { label: configLabel(flags.file), spec: parsed.spec };
  }
  let recorded;
  if (flags.history) {
    recorded = recordedRelease(readHistoryFile(flags.history), flags.history, codecFromEnv(io.env));
    if (id && id !== recorded.releaseId) throw new InvalidInputError(`${flags.history} is the history of ${recorded.releaseId}, not ${id}`);
  } else {
    if (!id) throw new InvalidInputError('analysis replay needs a release id, like checkout@1.4.2 (or --history FILE)');
    const { client, close } = await (io.connect ?? (() => connectClient(temporalSettings(io.env), io.env, (message) => io.stderr(`tidegate: ${message}\n`))))();
    try {
      recorded = recordedRelease(await fetchReleaseHistory(client, id), id, codecFromEnv(io.env));
    } finally {
      await close();
    }
  }
  const report = replayReport(recorded, other);
  print(() => renderReplay(report), report);
  return 0;
}

/**
 * `verify RELEASE --allowed-signers FILE [--history FILE]`: re-verifies every recorded decision of a
 * release against the auditor's allowed signers; exit 0 when every accepted signed decision verifies,
 * 1 when one does not. The file and the history file are read before any server is asked.
 */
async function verify(positionals: string[], flags: Flags, io: CliIO, print: (human: () => string, json: unknown) => void): Promise<number> {
  const id = positionals[1];
  if (id !== undefined && !/^[^@\s]+@[^@\s]+$/.test(id)) throw new InvalidInputError(`"${id}" is not a release id (expected <service>@<version>)`);
  if (!flags['allowed-signers']) throw new InvalidInputError('verify needs --allowed-signers FILE (principals and keys, as ssh-keygen -Y verify reads them)');
  let signersText: string;
  try {
    signersText = readFileSync(flags['allowed-signers'], 'utf8');
  } catch (err) {
    throw new InvalidInputError(`cannot read ${flags['allowed-signers']}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let jwks: JSONWebKeySet | undefined;
  if (flags.jwks) {
    try {
      jwks = JSON.parse(readFileSync(flags.jwks, 'utf8')) as JSONWebKeySet;
    } catch (err) {
      throw new InvalidInputError(`cannot read ${flags.jwks} as a JSON Web Key Set: ${(err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err))}`);
    }
    if (!Array.isArray(jwks.keys)) throw new InvalidInputError(`${flags.jwks} is not a JSON Web Key Set ({"keys": [ … ]})`);
  }
  let history;
  let where: string;
  if (flags.history) {
    history = readHistoryFile(flags.history);
    where = flags.history;
  } else {
    if (!id) throw new InvalidInputError('verify needs a release id, like checkout@1.4.2 (or --history FILE)');
    where = id;
    const { client, close } = await (io.connect ?? (() => connectClient(temporalSettings(io.env), io.env, (message) => io.stderr(`tidegate: ${message}\n`))))();
    try {
      history = await client.workflow.getHandle(id).fetchHistory();
    } catch (err) {
      if (err instanceof Error && err.name === 'WorkflowNotFoundError') throw new InvalidInputError(`no release ${id} (ids look like checkout@1.4.2; see \`tidegate list\`)`);
      throw err;
    } finally {
      await close();
    }
  }
  const codec = codecFromEnv(io.env);
  const attestation = await attest(history, signersText, where, { ...(jwks ? { jwks } : {}), ...(codec ? { codec } : {}) });
  if (id && flags.history && attestation.releaseId !== id) throw new InvalidInputError(`${flags.history} is the history of ${attestation.releaseId}, not ${id}`);
  print(() => renderAttestation(attestation), attestation);
  return attestation.ok ? 0 : EXIT_CODES.error;
}

async function watch(releases: Releases, id: string, flags: Flags, io: CliIO): Promise<number> {
  // --wait alone waits on the release's history, which the server answers with no worker: a worker
  // restarting (a rolling update, a crash) must not fail the CI job waiting for the release
  if (!flags.watch) return finish(await releases.result(id), flags, io);
  let last = '';
  let lastSaid = 0;
  for (;;) {
    let status: ReleaseStatus | undefined;
    try {
      status = await releases.status(id);
    } catch (err) {
      // the live status is a query a worker answers: while none does, the release still runs; say so and go on watching
      if (!(err instanceof ServiceError)) throw err;
      if (Date.now() - lastSaid >= 30_000) {
        lastSaid = Date.now();
        io.stderr(`tidegate: no worker answered for ${id}'s status (${err.message}${err.cause instanceof Error ? `: ${err.cause.message}` : ''}); still watching\n`);
      }
    }
    if (status?.outcome) return finish(await releases.result(id), flags, io);
    if (status && !flags.json) {
      const text = rendered(() => renderStatus(status));
      if (text !== last) io.stdout(`${text}\n\n`);
      last = text;
    }
    await new Promise((r) => setTimeout(r, io.pollMs ?? 2_000));
  }
}

export async function main(argv = process.argv.slice(2)): Promise<void> {
  const code = await runCli(argv, {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
  });
  process.exitCode = code;
}

/** The payload codec of the CLI's environment (TIDEGATE_PAYLOAD_KEYS), to read encrypted histories. */
function codecFromEnv(env: NodeJS.ProcessEnv): AesGcmCodec | undefined {
  const keys = payloadKeysFromEnv(env);
  return keys ? new AesGcmCodec(keys) : undefined;
}

/** `codec-server`: runs until SIGINT / SIGTERM. */
async function codecServer(flags: Flags, io: CliIO): Promise<number> {
  const codec = codecFromEnv(io.env);
  if (!codec) throw new InvalidInputError('codec-server needs the payload keys: TIDEGATE_PAYLOAD_KEYS (id:base64, the first encrypts) or TIDEGATE_PAYLOAD_KEYS_FILE');
  const port = flags.port === undefined ? 8081 : Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new InvalidInputError(`--port must be a port number, got "${flags.port}"`);
  const host = flags.host ?? '127.0.0.1';
  const token = io.env.TIDEGATE_CODEC_TOKEN || undefined;
  let server;
  try {
    server = await startCodecServer({ codec, host, port, origins: flags.origin ?? [], ...(token ? { token } : {}) });
  } catch (err) {
    throw new InvalidInputError(err instanceof Error ? err.message : String(err));
  }
  io.stderr(`tidegate codec server: ${server.url} (encrypts with key ${codec.currentKeyId}; decodes with ${codec.keys.map((k) => k.id).join(', ')}; ${token ? 'bearer token required' : 'loopback only, no token'}; CORS for ${flags.origin?.join(', ') || 'no browser origin'})\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.stop();
  return 0;
}

const SCHEDULE_ACTIONS = ['create', 'list', 'pause', 'resume', 'delete'];

/** The version source of `schedule create`, checked before connecting. */
function versionSource(flags: Flags): VersionSource {
  if (flags['from-tags'] && flags.versions) throw new InvalidInputError('give --from-tags or --versions, not both');
  if (flags['pre-releases'] && !flags['from-tags']) throw new InvalidInputError('--pre-releases applies to --from-tags');
  if (flags['from-tags']) return { from: 'tags', ...(flags['pre-releases'] ? { preReleases: true } : {}) };
  if (flags.versions) {
    const versions = flags.versions.split(',').map((v) => v.trim()).filter(Boolean);
    const bad = versions.filter((v) => !parseVersion(v));
    if (bad.length) throw new InvalidInputError(`--versions: ${bad.join(', ')} ${bad.length === 1 ? 'is not a version' : 'are not versions'} (X.Y.Z)`);
    return { from: 'list', versions: versions.map((v) => v.replace(/^v/, '')) };
  }
  throw new InvalidInputError('schedule create needs --from-tags (the newest tag of source.repo) or --versions V1,V2…');
}

/** `tidegate schedule …`: release trains on Temporal Schedules (src/client/schedules.ts). */
async function schedule(positionals: string[], flags: Flags, io: CliIO, print: (human: () => string, json: unknown) => void): Promise<number> {
  const action = positionals[1] ?? '';
  if (!SCHEDULE_ACTIONS.includes(action)) throw new InvalidInputError(`schedule needs one of ${SCHEDULE_ACTIONS.join(', ')} (got "${action}")`);
  const id = positionals[2] ?? '';
  if (action !== 'list' && !id) throw new InvalidInputError(`schedule ${action} needs the schedule's id`);
  let created: { spec: ReleaseSpec; cron: string; version: VersionSource } | undefined;
  if (action === 'create') {
    if (!flags.cron?.trim()) throw new InvalidInputError('schedule create needs --cron EXPR (for example "0 9 * * 1-5")');
    if (flags['time-zone'] && !isTimeZone(flags['time-zone'])) throw new InvalidInputError(`--time-zone ${flags['time-zone']} is not an IANA time zone (for example Europe/Berlin)`);
    const version = versionSource(flags);
    const loaded = loadSpec(flags);
    if (!loaded.ok) throw new InvalidInputError(`${flags.file ?? '-f FILE'} is not a valid release spec; no schedule was created:`, loaded.problems.map(formatProblem));
    created = { spec: loaded.spec, cron: flags.cron.trim(), version };
  }
  if (action === 'pause' && !flags.reason?.trim()) throw new InvalidInputError('schedule pause needs --reason TEXT');
  const { client, close } = await (io.connect ?? (() => connectClient(temporalSettings(io.env), io.env, (message) => io.stderr(`tidegate: ${message}\n`))))();
  try {
    const by = identity(flags, io.env);
    const taskQueue = io.env.TIDEGATE_TASK_QUEUE || TASK_QUEUE;
    switch (action) {
      case 'create': {
        if (!created) return EXIT_CODES.invalid;
        const s = await createSchedule(client, taskQueue, { id, ...created, ...(flags['time-zone'] ? { timeZone: flags['time-zone'] } : {}), by, paused: flags.paused ?? false });
        print(() => `schedule ${s.id} created: ${renderSchedule(s)}`, s);
        return 0;
      }
      case 'list': {
        const all = await listSchedules(client);
        print(() => (all.length ? all.map(renderSchedule).join('\n') : 'no release trains (tidegate schedule create …)'), all);
        return 0;
      }
      case 'pause': {
        const s = await pauseSchedule(client, id, by, flags.reason?.trim() ?? '');
        print(() => `schedule ${id} paused: ${renderSchedule(s)}`, s);
        return 0;
      }
      case 'resume': {
        const s = await resumeSchedule(client, id, by);
        print(() => `schedule ${id} resumed: ${renderSchedule(s)}`, s);
        return 0;
      }
      case 'delete': {
        await deleteSchedule(client, id);
        print(() => `schedule ${id} deleted (releases it started go on)`, { deleted: id });
        return 0;
      }
    }
    return EXIT_CODES.error;
  } finally {
    await close();
  }
}

// Run directly (`tsx src/client/cli.ts …`, `node dist/client/cli.js …`), last: every module-level constant above is initialised.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
