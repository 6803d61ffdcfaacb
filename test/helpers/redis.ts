/** A redis-server of our own on a free loopback port, saving nothing: for the queue tests and `npm run bench:queue`. */
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as net from 'net';

export interface OwnRedis {
  url: string;
  process: ChildProcess;
}

/** A loopback port nothing listens on (asked of the OS, then released). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts redis-server and returns once it answers PING (or after 5 s). */
export async function startRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  for (let i = 0; i < 100; i++) {
    if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG') break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url: `redis://127.0.0.1:${port}`, process: child };
}
