/** Terminal niceties: a per-epoch progress bar and a gentle Ctrl-C for training, a counting bar for long scoring. */
import * as cliProgress from 'cli-progress';
import { onInterrupt } from '../interrupt';
import type { Callback, TrainingContext } from '../train/callbacks';

/** A bar over each epoch's batches, on stderr, only when stderr is a terminal. */
export class BatchProgressBar implements Callback {
  private bar: cliProgress.SingleBar | null = null;
  private epoch = 0;

  onBatchEnd(step: number, logs: { loss: number }, ctx: TrainingContext): void {
    if (!process.stderr.isTTY) return;
    if (step === 0) {
      this.epoch++;
      this.bar = new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: `epoch ${this.epoch}/${ctx.epochs} [{bar}] {value}/{total} batches  loss {loss}  eta {eta_formatted}`,
          clearOnComplete: true,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      );
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

/** A bar counting `what` up to `total`, on stderr, only when stderr is a terminal (else null). */
export function countBar(what: string, total: number): cliProgress.SingleBar | null {
  if (!process.stderr.isTTY) return null;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `[{bar}] {value}/{total} ${what}  eta {eta_formatted}`,
      clearOnComplete: true,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return bar;
}

/**
 * First Ctrl-C: finish the current epoch (its checkpoint and history are written), then stop; the command
 * exits 130. Second Ctrl-C: quit at once (lib/interrupt.ts); the best checkpoint on disk is complete either way.
 */
export class GracefulInterrupt implements Callback {
  private unregister: (() => void) | null = null;

  onTrainBegin(ctx: TrainingContext): void {
    this.unregister = onInterrupt(() => {
      ctx.stopTraining = true;
      ctx.stopReason = 'interrupted (Ctrl-C) after this epoch';
    });
  }

  onTrainEnd(): void {
    this.unregister?.();
    this.unregister = null;
  }
}
