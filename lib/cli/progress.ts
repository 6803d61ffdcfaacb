/** Terminal niceties for training: a per-epoch progress bar and a gentle Ctrl-C. */
import * as cliProgress from 'cli-progress';
import type { Callback, TrainingContext } from '../train/callbacks';

/** A bar over each epoch's batches, on stderr, only when stderr is a terminal. */
export class BatchProgressBar implements Callback {
  private bar: cliProgress.SingleBar | null = null;
  private epoch = 0;

  onBatchEnd(step: number, logs: { loss: number }, ctx: TrainingContext): void {
    if (!process.stderr.isTTY) return;
    if (step === 0) {
      this.epoch++;
      this.bar = new cliProgress.SingleBar({
        stream: process.stderr,
        format: `epoch ${this.epoch}/${ctx.epochs} [{bar}] {value}/{total} batches  loss {loss}  eta {eta_formatted}`,
        clearOnComplete: true,
        hideCursor: true,
      }, cliProgress.Presets.shades_classic);
      this.bar.start(ctx.stepsPerEpoch, 0, { loss: 'n/a' });
    }
    this.bar?.update(step + 1, { loss: logs.loss.toFixed(4) });
    if (step + 1 === ctx.stepsPerEpoch) {
      this.bar?.stop();
      this.bar = null;
    }
  }

  onTrainEnd(): void {
    this.bar?.stop();
  }
}

/**
 * First Ctrl-C: finish the current epoch (its checkpoint and history are written), then stop.
 * Second Ctrl-C: quit at once; the best checkpoint on disk is complete either way (atomic saves).
 */
export class GracefulInterrupt implements Callback {
  private handler: (() => void) | null = null;

  onTrainBegin(ctx: TrainingContext): void {
    let pressed = false;
    this.handler = () => {
      if (pressed) {
        process.stderr.write('\ninterrupted; the best checkpoint saved so far is intact\n');
        process.exit(130);
      }
      pressed = true;
      ctx.stopTraining = true;
      ctx.stopReason = 'interrupted (Ctrl-C) after this epoch';
      process.stderr.write('\nstopping after this epoch (Ctrl-C again to quit now)\n');
    };
    process.on('SIGINT', this.handler);
  }

  onTrainEnd(): void {
    if (this.handler) process.off('SIGINT', this.handler);
  }
}
