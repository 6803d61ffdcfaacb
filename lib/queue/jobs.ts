/**
 * What travels through the queue between `predict --queue` (lib/queue/client.ts) and `realfake worker`
 * (lib/queue/worker.ts): one BullMQ job scores a batch of images, and its return value carries one result per image,
 * keyed by the image's index in the client's list, so a batch scored twice (a worker killed mid-batch, its job
 * picked up by another) is counted once.
 */
import type { PhotoVerdict } from '../infer/faces';
import type { Prediction } from '../infer/predict';
import type { RunScoringOptions } from '../infer/run-predictor';

/** The BullMQ queue every client and worker of one Redis shares (sessions are told apart by job id). */
export const QUEUE_NAME = 'realfake-score';

/** Images per job: few enough that a killed worker loses little, enough that Redis round trips do not dominate. */
export const DEFAULT_JOB_IMAGES = 8;

/** Largest image sent inside a job (bytes mode); a larger one is a result row saying so. */
export const DEFAULT_MAX_JOB_IMAGE_MB = 10;

/**
 * The worker's lock on a job and how often workers look for jobs whose lock ran out (BullMQ's stalled-job check):
 * a worker killed mid-job has that job taken over within about lockMs + 2 x stalledIntervalMs. A batch takes well
 * under a second to a few seconds, and the lock is renewed every lockMs / 2 while it runs.
 */
export const DEFAULT_LOCK = { lockMs: 15_000, stalledIntervalMs: 5_000 };

/**
 * How images reach the workers: 'bytes' sends each file's bytes inside its job (no shared storage needed; up to a
 * size limit), 'paths' sends absolute paths that every worker must be able to open (shared storage).
 */
export type SendMode = 'bytes' | 'paths';
export const SEND_MODES: readonly SendMode[] = ['bytes', 'paths'];

/** How every image of a session is scored: predict's flags, with the run as a path the workers can open. */
export interface ScoreSettings extends RunScoringOptions {
  /** Absolute path of the run folder (a worker started with --run uses its own, if its folder name matches). */
  run: string;
  /** --faces: a verdict per face found. */
  faces: boolean;
  /** --max-pixels. */
  maxPixels: number;
}

export interface JobImage {
  /** Index in the client's list of files. */
  index: number;
  /** The file's extension, kept for the worker's private copy. */
  ext: string;
  /** 'bytes': the file, base64 (job data is JSON). */
  bytes?: string;
  /** 'paths': the absolute path. */
  path?: string;
}

export interface ScoreJob {
  settings: ScoreSettings;
  images: JobImage[];
}

/** One image's outcome: a prediction, the faces found (--faces), or why it could not be scored. */
export interface ImageResult {
  index: number;
  prediction?: Omit<Prediction, 'file'>;
  photo?: PhotoVerdict;
  reason?: string;
}

export interface ScoreJobResult {
  /** The worker that scored it (host-pid). */
  worker: string;
  results: ImageResult[];
}

/** Job ids are the session and the batch number, so adding a batch twice is a no-op (BullMQ ids cannot hold ':'). */
export function jobId(session: string, batch: number): string {
  return `${session}-${batch}`;
}

/** The batch number of one of this session's job ids, or -1 for another session's job. */
export function batchOf(session: string, id: string | undefined): number {
  const prefix = `${session}-`;
  if (!id?.startsWith(prefix)) return -1;
  const batch = Number(id.slice(prefix.length));
  return Number.isInteger(batch) ? batch : -1;
}
