// Signs a statement the way git signs commits with SSH keys: by running the user's own
// `ssh-keygen -Y sign`, so a passphrase prompt, a key held by ssh-agent (pass the .pub file) and FIDO
// keys all work as they do for git, and no private key is ever read by tidegate. Or proves it with an
// OIDC ID token from the user's own sign-in command, bound to the statement by its nonce.
import { spawn } from 'node:child_process';
import { statementNonce } from './oidc.js';
import { existsSync } from 'node:fs';

/** Signs a message, returning the armored SSHSIG signature — or, for kind 'oidc', an ID token for it. */
export type Signer = ((message: string, namespace: string) => Promise<string>) & { readonly kind?: 'oidc' };

export class SigningError extends Error {}

/**
 * A signer using `ssh-keygen -Y sign -f <key> -n <namespace>` (`program` for tests or another path).
 * The key is a private key file, or a public key (.pub) whose private half ssh-agent holds.
 */
export function sshKeygenSigner(keyPath: string, program = 'ssh-keygen'): Signer {
  return (message, namespace) =>
    new Promise((resolve, reject) => {
      if (!existsSync(keyPath)) return reject(new SigningError(`no key file ${keyPath} (--key takes an SSH private key, or a .pub whose key ssh-agent holds)`));
      const child = spawn(program, ['-Y', 'sign', '-n', namespace, '-f', keyPath], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
      child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
      child.on('error', (e: NodeJS.ErrnoException) =>
        reject(new SigningError(e.code === 'ENOENT' ? `cannot sign: ${program} is not installed (OpenSSH 8.1 or later signs with -Y sign)` : `cannot run ${program}: ${e.message}`)),
      );
      child.on('close', (code) => {
        if (code === 0 && out.includes('BEGIN SSH SIGNATURE')) return resolve(out.trim());
        reject(new SigningError(`${program} -Y sign with ${keyPath} failed${code !== null ? ` (exit ${code})` : ''}: ${err.trim().split('\n').filter((l) => !/^Signing data on standard input/.test(l)).join('; ') || 'no signature written'}`));
      });
      child.stdin.end(message);
    });
}

/** How long an ID-token command may take (a browser or device sign-in is interactive). */
const ID_TOKEN_COMMAND_MS = 5 * 60_000;

/**
 * A signer that proves a statement with an OIDC ID token: it runs `command` in the shell with
 * TIDEGATE_NONCE (statementNonce of the statement, which the sign-in must request as its nonce) and
 * TIDEGATE_STATEMENT in its environment, and reads the ID token from its standard output. The command
 * is the user's own sign-in (a device-code flow, a cloud CLI that mints ID tokens with a nonce, …).
 *
 *   idTokenSigner('my-idp-login --nonce "$TIDEGATE_NONCE"') → a signer whose "signature" is the JWT the command printed
 */
export function idTokenSigner(command: string): Signer {
  const sign = (message: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const child = spawn('sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TIDEGATE_NONCE: statementNonce(message), TIDEGATE_STATEMENT: message } });
      let out = '';
      let err = '';
      const timer = setTimeout(() => child.kill('SIGTERM'), ID_TOKEN_COMMAND_MS);
      child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
      child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(new SigningError(`cannot run the ID token command: ${e.message}`));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const token = out.trim();
        if (code !== 0) return reject(new SigningError(`the ID token command failed (${signal ? `killed by ${signal}` : `exit ${code}`}): ${err.trim().split('\n').slice(-3).join('; ') || 'no message'}`));
        if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) return reject(new SigningError('the ID token command did not print an ID token (a JWT: header.payload.signature) on its standard output'));
        resolve(token);
      });
    });
  return Object.assign(sign, { kind: 'oidc' as const });
}
