// Given the machine-wide lock cluster creation runs under (flock on a file), the daemons a command
// leaves running never hold it, and a process that waits for it longer than its bound fails naming
// the holder — instead of waiting until a jest hook times out with nothing said.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { LockTimeoutError, readHolder, runExclusive, type ExclusiveOptions } from '../../devkit/stack/lock.js';
import { processesHolding, running } from '../../devkit/stack/procfs.js';
import { tempDir } from '../../devkit/testing/servers.js';

const dir = tempDir('lock');
const lockFile = join(dir, 'test.lock');
const options: ExclusiveOptions = { lockFile, name: 'test', purpose: 'the test\'s first command', waitMs: 10_000, timeoutMs: 30_000 };
const daemons: number[] = [];

afterAll(() => {
  for (const pid of daemons) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

test('a daemon started under the lock does not hold it, so the next holder gets it at once', async () => {
  // like kwokctl: start a server in the background and return while it runs
  const { stdout } = await runExclusive('sh', ['-c', 'sleep 300 >/dev/null 2>&1 & echo $!'], options);
  const daemon = Number(stdout.trim());
  daemons.push(daemon);
  expect(running(daemon)).toBe(true);
  expect(processesHolding(lockFile)).not.toContain(daemon);
  expect(processesHolding(lockFile)).toEqual([]);

  const started = Date.now();
  await runExclusive('true', [], { ...options, waitMs: 2_000 });
  expect(Date.now() - started).toBeLessThan(2_000);
});

test('a wait longer than the bound fails naming the holder, and the lock is free once the holder ends', async () => {
  const holder = runExclusive('sleep', ['4'], options);
  // the holder has the lock once it recorded itself
  const deadline = Date.now() + 5_000;
  while (readHolder(lockFile)?.purpose !== options.purpose || processesHolding(lockFile).length === 0) {
    if (Date.now() > deadline) throw new Error('the first command never took the lock');
    await new Promise((r) => setTimeout(r, 50));
  }

  const refused = await runExclusive('true', [], { ...options, purpose: 'waiting in the test', waitMs: 1_000 }).catch((err: unknown) => err);
  expect(refused).toBeInstanceOf(LockTimeoutError);
  expect((refused as Error).message).toMatch(new RegExp(`^waiting for the test lock held by pid ${process.pid} \\(.+: the test's first command, holding it for \\d+s\\) for [12]s; gave up`));

  await holder;
  const started = Date.now();
  await runExclusive('true', [], { ...options, waitMs: 2_000 });
  expect(Date.now() - started).toBeLessThan(2_000);
});
