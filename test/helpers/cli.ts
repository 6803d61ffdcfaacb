/** The realfake CLI run as a child process, the way a user runs it (tests force the wasm backend for speed parity). */
import { spawnSync } from 'child_process';
import * as path from 'path';

export const BIN = path.join(__dirname, '..', '..', '..', 'bin', 'realfake.js');

export function realfake(args: string[], cwd: string, timeout = 300_000) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, REALFAKE_BACKEND: 'wasm' },
    timeout,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
