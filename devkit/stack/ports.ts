// Free loopback ports for servers that tests and the local stack start, and whether one is listened on.
import { connect, createServer, type AddressInfo } from 'node:net';

/**
 * A loopback port nothing listens on, kept from being handed out again for about a minute.
 *
 * A port picked by listening on port 0 and closing is free, but the kernel may give the same
 * number to the next process that asks for any port — for example the Temporal dev server, which
 * picks its metrics, HTTP and membership ports the same way at start-up. Under load, with suites
 * starting servers side by side, both then bind it and the second dies (seen in CI: the dev
 * server exited with code 2 before it was ready). As the Temporal CLI's own GetFreePort does, this
 * connects to the port and closes the accepted side first, which leaves the port in TIME_WAIT for
 * about 60 s: Linux does not hand it out for port-0 binds while that lasts, and a server binding it
 * by number may (Go, Node, the JVM and PostgreSQL all set SO_REUSEADDR).
 */
export function freePort(): Promise<number> {
  return reservePort(0) as Promise<number>;
}

/**
 * `port` (0: any) reserved as freePort reserves it, or undefined when something listens on it.
 * A port used before (the stack's restart reuses its ports) needs the reservation most: Linux tends
 * to hand a recently released port to the next port-0 bind, which the restarting dev server makes
 * for its own metrics and membership ports before its frontend binds the reused one.
 */
export function reservePort(port: number): Promise<number | undefined> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', (err: NodeJS.ErrnoException) => (port !== 0 && err.code === 'EADDRINUSE' ? resolvePort(undefined) : reject(err)));
    server.listen(port, '127.0.0.1', () => {
      const bound = (server.address() as AddressInfo).port;
      // the accepted side closes first, so the TIME_WAIT is on 127.0.0.1:port
      server.once('connection', (accepted) => accepted.end());
      const client = connect({ host: '127.0.0.1', port: bound });
      client.on('error', (err) => server.close(() => reject(err)));
      client.on('end', () => client.end());
      client.on('close', () => server.close(() => resolvePort(bound)));
    });
  });
}

/** Something accepts TCP connections on host:port (a refused connection answers at once). */
export function listening(address: string, timeoutMs = 5_000): Promise<boolean> {
  const at = address.lastIndexOf(':');
  const [host, port] = [address.slice(0, at), Number(address.slice(at + 1))];
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

/**
 * A free loopback port below `limit`, for servers that cannot take an ephemeral one: Temporal keeps
 * a service's membership port in a PostgreSQL smallint (at most 32767), and Linux hands out
 * ephemeral ports from 32768. Ports here are never given to port-0 binds, so a random pick that
 * binds now stays free unless another pick of this kind chose the same number.
 */
export async function freePortBelow(limit: number, from = 20_000): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = from + Math.floor(Math.random() * (limit - from));
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.unref();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free loopback port in ${from}–${limit - 1}`);
}
