/**
 * Ctrl-C, one path for every command, backend and worker count.
 *
 * First SIGINT (or SIGTERM): every registered graceful stopper is told (training finishes its epoch and saves,
 * preprocessing stops starting files, a download stops and keeps its .part); the command then ends with
 * InterruptedError and exit code 130. When nothing is registered there is nothing to finish, so the process
 * stops at once. Second signal: stop now, exit 130. Temporary files in flight are removed on every exit
 * (lib/files.ts), and stale ones from killed runs are removed when the next run starts.
 *
 * Signals are delivered by the event loop: code that never yields to it (a training loop whose awaits all
 * resolve as microtasks) never sees them. lib/train/train.ts yields once per step for that reason.
 */

/** The conventional exit code of a process stopped by SIGINT (128 + 2). */
export const INTERRUPTED_EXIT_CODE = 130;

/** Thrown by a command that stopped early because the user asked it to. The message says what was kept. */
export class InterruptedError extends Error {}

type Stopper = () => void;
const stoppers = new Set<Stopper>();
let signals = 0;
let installed = false;
let write: (line: string) => void = (line) => void process.stderr.write(`${line}\n`);

/** True once the user has pressed Ctrl-C (or the process got SIGTERM). */
export function interruptRequested(): boolean {
  return signals > 0;
}

/**
 * Registers `stop`, called on the first signal (at once if one already arrived). Returns the unregister
 * function. While at least one stopper is registered, the first signal does not end the process.
 */
export function onInterrupt(stop: Stopper): () => void {
  stoppers.add(stop);
  if (signals > 0) stop();
  return () => void stoppers.delete(stop);
}

function handle(signal: NodeJS.Signals): void {
  signals++;
  if (signals === 1 && stoppers.size > 0) {
    write(
      `\n${signal === 'SIGINT' ? 'Ctrl-C' : signal}: finishing what is in progress, then stopping (Ctrl-C again to stop now)`,
    );
    for (const stop of [...stoppers]) stop();
    return;
  }
  write(`\ninterrupted (${signal}); completed files are kept, partial ones removed`);
  process.exit(INTERRUPTED_EXIT_CODE);
}

/** Installs the SIGINT/SIGTERM handlers once per process (the CLI does; library users may not want it). */
export function installInterruptHandlers(log?: (line: string) => void): void {
  if (log) write = log;
  if (installed) return;
  installed = true;
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
}

/** Throws InterruptedError(message) when the user asked to stop. */
export function throwIfInterrupted(message: string): void {
  if (interruptRequested()) throw new InterruptedError(message);
}
