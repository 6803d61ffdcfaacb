/**
 * Bounded concurrent inference: at most `concurrency` jobs run at once, at most `maxQueued` wait; beyond that a
 * job is refused at once (the server answers 503 with Retry-After) rather than piling up memory and latency.
 */
export class QueueFullError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('the server is busy (inference queue full); retry shortly');
  }
}

export class InferenceQueue {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  /** A rolling estimate of one job's time, for Retry-After. */
  private meanMs = 200;

  constructor(
    readonly concurrency: number,
    readonly maxQueued: number,
  ) {
    if (!(concurrency >= 1) || !(maxQueued >= 0))
      throw new Error(`bad queue limits (concurrency ${concurrency}, queue ${maxQueued})`);
  }

  get stats(): { running: number; queued: number; concurrency: number; maxQueued: number } {
    return {
      running: this.running,
      queued: this.waiting.length,
      concurrency: this.concurrency,
      maxQueued: this.maxQueued,
    };
  }

  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.maxQueued) {
        const seconds = Math.max(1, Math.ceil(((this.waiting.length + 1) * this.meanMs) / this.concurrency / 1000));
        throw new QueueFullError(seconds);
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    const started = Date.now();
    try {
      return await job();
    } finally {
      this.meanMs = 0.9 * this.meanMs + 0.1 * (Date.now() - started);
      // Hand the slot straight to the next waiter (running stays the same), or free it.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
