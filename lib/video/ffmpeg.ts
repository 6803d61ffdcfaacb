/**
 * The ffmpeg and ffprobe programs realfake decodes video with: Debian's `ffmpeg` package (apt-get install
 * ffmpeg; .ci/run installs it), found on PATH, or REALFAKE_FFMPEG / REALFAKE_FFPROBE. Chosen over npm packages
 * that ship a binary (@ffmpeg-installer/linux-x64 carries a 2018 ffmpeg 4.1 and no ffprobe): Debian's build is
 * current, gets security fixes, and brings ffprobe.
 *
 * Every child runs with no stdin, and is killed on Ctrl-C (lib/interrupt.ts: the stopper ends it and the command
 * exits 130) and on any exit of this process, so no ffmpeg is ever left running.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import { onInterrupt } from '../interrupt';

export const ffmpegPath = () => process.env.REALFAKE_FFMPEG || 'ffmpeg';
export const ffprobePath = () => process.env.REALFAKE_FFPROBE || 'ffprobe';

/** A video realfake refuses or cannot read: the message is one line that names the file and says why. */
export class VideoError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
    /** What kind of problem, for the API's error code: unreadable, no_video, no_frames, too_large, too_long. */
    readonly code: 'unreadable' | 'no_video' | 'no_frames' | 'too_large' | 'too_long' = 'unreadable',
  ) {
    super(`${file}: ${reason}`);
  }
}

/** Why ffmpeg and ffprobe cannot be used (null when both run). */
export function ffmpegMissing(): string | null {
  for (const tool of [ffmpegPath(), ffprobePath()]) {
    const r = spawnSync(tool, ['-version'], { stdio: 'ignore', timeout: 10_000 });
    if (r.error || r.status !== 0)
      return `${tool} not found (apt-get install ffmpeg, or set REALFAKE_FFMPEG/REALFAKE_FFPROBE)`;
  }
  return null;
}

const running = new Set<ChildProcess>();
let exitHook = false;

/**
 * Starts `tool` with stdout piped and stderr kept (its last lines, for the error message). The child is killed
 * on Ctrl-C and when this process exits; `done` resolves with its exit code and stderr tail.
 */
export function startTool(
  tool: string,
  args: string[],
): { child: ChildProcess; done: Promise<{ code: number | null; stderr: string; interrupted: boolean }> } {
  const child = spawn(tool, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => running.forEach((c) => c.kill('SIGKILL')));
  }
  let interrupted = false;
  const unregister = onInterrupt(() => {
    interrupted = true;
    child.kill('SIGKILL');
  });
  let tail = '';
  child.stderr!.setEncoding('utf8');
  // The first lines say what went wrong; what follows is often ffmpeg winding down ("Conversion failed!").
  child.stderr!.on('data', (chunk: string) => (tail = (tail + chunk).slice(0, 4000)));
  const done = new Promise<{ code: number | null; stderr: string; interrupted: boolean }>((resolve) => {
    const finish = (code: number | null) => {
      running.delete(child);
      unregister();
      resolve({ code, stderr: tail, interrupted });
    };
    child.on('error', (err) => {
      tail += `\n${err.message}`;
      finish(null);
    });
    child.on('close', finish);
  });
  return { child, done };
}

/** The first line ffmpeg wrote, without its "[demuxer @ 0x...]" prefix and the file name: the reason to show. */
export function firstToolLine(stderr: string, file: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/, '').trim())
    .filter(Boolean);
  const first = lines[0] ?? 'no message';
  return first.startsWith(`${file}: `) ? first.slice(file.length + 2) : first;
}
