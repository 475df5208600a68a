// Given ports picked for servers the tests and the stack start, a server that asks the kernel for
// any port (as the Temporal dev server does for its metrics and membership ports) is not handed one
// of them before they are bound, and a server binding one by number still can. CI once lost a dev
// server to exactly that race.
import { createServer, type AddressInfo } from 'node:net';
import { freePort, reservePort } from '../../devkit/stack/ports.js';

const listenOn = (port: number): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const bound = (server.address() as AddressInfo).port;
      server.close(() => resolve(bound));
    });
  });

test('picked ports are not handed to port-0 binds, and bind by number', async () => {
  const picked = await Promise.all(Array.from({ length: 20 }, () => freePort()));
  expect(new Set(picked).size).toBe(20);
  // without the reservation, 6 and then 11 of the 20 picks came back in 3,000 port-0 binds (Linux
  // tends to hand out recently released ports); with it, none can for about a minute
  const handedOut = new Set<number>();
  for (let i = 0; i < 3_000; i++) handedOut.add(await listenOn(0));
  expect(picked.filter((port) => handedOut.has(port))).toEqual([]);
  for (const port of picked) expect(await listenOn(port)).toBe(port);
});

test('a port used before is reserved again when the stack restarts on it, and refused while something listens on it', async () => {
  // given ports a stopped server had listened on (the stack's restart reuses them)
  const before = await Promise.all(Array.from({ length: 20 }, () => listenOn(0)));
  // when they are picked again for the restart, a port-0 bind in between (the restarting dev
  // server's own metrics and membership ports) is not handed one: CI lost a restart to that
  const again = await Promise.all(before.map((port) => reservePort(port)));
  expect(again).toEqual(before);
  const handedOut = new Set<number>();
  for (let i = 0; i < 3_000; i++) handedOut.add(await listenOn(0));
  expect(before.filter((port) => handedOut.has(port))).toEqual([]);
  for (const port of before) expect(await listenOn(port)).toBe(port);
  // and a port something listens on is not reused
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  try {
    expect(await reservePort((busy.address() as AddressInfo).port)).toBeUndefined();
  } finally {
    busy.close();
  }
});
