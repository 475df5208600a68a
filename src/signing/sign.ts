// Signs a statement the way git signs commits with SSH keys: by running the user's own
// `ssh-keygen -Y sign`, so a passphrase prompt, a key held by ssh-agent (pass the .pub file) and FIDO
// keys all work as they do for git, and no private key is ever read by tidegate.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Signs a message, returning the armored SSHSIG signature. */
export type Signer = (message: string, namespace: string) => Promise<string>;

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
