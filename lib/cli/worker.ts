/** `realfake worker`: scores `predict --queue` jobs taken from Redis until stopped (logic in lib/queue/worker.ts). */
import { Command } from 'commander';
import { initBackend } from '../backend/backend';
import { onInterrupt } from '../interrupt';
import { redisOptions, safeUrl } from '../queue/connection';
import { DEFAULT_LOCK, QUEUE_NAME } from '../queue/jobs';
import { ScoringWorker } from '../queue/worker';
import { action, parseInteger, UsageError } from './common';

interface WorkerFlags {
  queue: string;
  run?: string;
  concurrency: number;
  lockMs: number;
  stalledIntervalMs: number;
}

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description(
      'take scoring jobs from `realfake predict --queue` off Redis and score them, until Ctrl-C or SIGTERM; run one per machine (or per 2 cores)',
    )
    .requiredOption('--queue <url>', 'the Redis that predict --queue uses: redis://HOST:PORT')
    .option(
      '--run <dir>',
      "score every job with this run (its folder name must match the job's run); default: the job's run path",
    )
    .option('--concurrency <n>', 'jobs at once (one inference already uses every core)', parseInteger, 1)
    .option(
      '--lock-ms <n>',
      "a job's lock; a worker that dies loses its jobs to the others after about this plus two stalled intervals",
      parseInteger,
      DEFAULT_LOCK.lockMs,
    )
    .option(
      '--stalled-interval-ms <n>',
      'how often to look for jobs of dead workers',
      parseInteger,
      DEFAULT_LOCK.stalledIntervalMs,
    )
    .action(
      action(async (flags: WorkerFlags) => {
        try {
          redisOptions(flags.queue);
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
        for (const [name, value] of [
          ['--concurrency', flags.concurrency],
          ['--lock-ms', flags.lockMs],
          ['--stalled-interval-ms', flags.stalledIntervalMs],
        ] as const)
          if (!(value >= 1)) throw new UsageError(`${name} ${value}: expected 1 or more`);
        await initBackend();
        const note = (line: string) => process.stderr.write(line + '\n');
        const worker = new ScoringWorker({
          url: flags.queue,
          run: flags.run,
          concurrency: flags.concurrency,
          lockMs: flags.lockMs,
          stalledIntervalMs: flags.stalledIntervalMs,
          onNote: note,
        });
        // Graceful, through lib/interrupt.ts: the first SIGINT/SIGTERM stops taking jobs and finishes the ones in
        // flight (or, past the lock time, leaves them to another worker); exit 0. A second one quits at once.
        const stopped = new Promise<void>((resolve) => {
          const unregister = onInterrupt(() => {
            note('finishing the jobs in flight, then stopping');
            worker.close(flags.lockMs).finally(() => (unregister(), resolve()));
          });
        });
        const first = await Promise.race([worker.waitUntilReady().then(() => 'ready'), stopped]);
        if (first === 'ready')
          process.stdout.write(
            `realfake worker ${worker.name}: taking jobs from ${safeUrl(flags.queue)} (queue ${QUEUE_NAME}, concurrency ${flags.concurrency}${flags.run ? `, run ${flags.run}` : ''}); Ctrl-C or SIGTERM stops\n`,
          );
        await stopped;
      }),
    );
}
