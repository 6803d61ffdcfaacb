/**
 * Every read of a user's path goes through here, so every failure carries its true reason: the errno that
 * the system gave, in words ("permission denied", "symbolic link loop"), never a guess downstream such as
 * "not an image" for a file the user may not read, or "no such file" for one that exists behind a locked folder.
 */
import * as fs from 'fs';

/** "<path>: <reason>", with the errno kept for callers that branch on it. */
export class FileAccessError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
    readonly code?: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

const REASONS: Record<string, string> = {
  ENOENT: 'not found',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ELOOP: 'symbolic link loop (too many levels of links)',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'is a folder, not a file',
  ENAMETOOLONG: 'name too long',
  EIO: 'input/output error (failing disk or network share?)',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  ENOMEM: 'out of memory',
  ESTALE: 'stale network file handle',
  EBUSY: 'busy',
  ETIMEDOUT: 'timed out',
  ENXIO: 'no such device',
  EOVERFLOW: 'too large for this system',
};

/** The one-line reason for a file-system error: its errno in words, with the code in brackets. */
export function accessReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code && REASONS[code]) return `${REASONS[code]} (${code})`;
  return `cannot access (${code ?? (err instanceof Error ? err.message : String(err))})`;
}

function mapped(path: string, err: unknown): FileAccessError {
  return new FileAccessError(path, accessReason(err), (err as NodeJS.ErrnoException)?.code);
}

export type PathKind = 'file' | 'folder' | 'other';

export interface PathInfo {
  kind: PathKind;
  size: number;
  mtimeMs: number;
  dev: number;
  ino: number;
}

function infoOf(stat: fs.Stats): PathInfo {
  const kind: PathKind = stat.isFile() ? 'file' : stat.isDirectory() ? 'folder' : 'other';
  return { kind, size: stat.size, mtimeMs: stat.mtimeMs, dev: stat.dev, ino: stat.ino };
}

/**
 * What `p` is, following symbolic links. Throws FileAccessError with the true reason; a link whose target
 * is missing says so ("broken symbolic link") instead of "not found".
 */
export function inspectPath(p: string): PathInfo {
  try {
    return infoOf(fs.statSync(p));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && isSymlink(p))
      throw new FileAccessError(p, 'broken symbolic link (its target does not exist)', 'ENOENT');
    throw mapped(p, err);
  }
}

/** inspectPath, or null with the error kept for the caller. */
export function tryInspectPath(p: string): PathInfo | FileAccessError {
  try {
    return inspectPath(p);
  } catch (err) {
    return err instanceof FileAccessError ? err : mapped(p, err);
  }
}

function isSymlink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** A folder's entries (not sorted). Throws FileAccessError: "not found", "permission denied", "not a folder" ... */
export function readFolder(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new FileAccessError(dir, 'not a folder', code);
    if (code === 'ENOENT') throw new FileAccessError(dir, 'folder not found', code);
    throw mapped(dir, err);
  }
}

/**
 * The first `bytes` bytes of a regular file, and its size. Checks the kind first (opening a FIFO would block),
 * then opens: opening, not stat, is what tells a readable file from one the user may not read.
 */
export async function readFileHead(file: string, bytes: number): Promise<{ head: Buffer; size: number }> {
  const info = inspectPath(file);
  if (info.kind !== 'file')
    throw new FileAccessError(file, 'not a regular file', info.kind === 'folder' ? 'EISDIR' : undefined);
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, 'r');
  } catch (err) {
    throw mapped(file, err);
  }
  try {
    const head = Buffer.alloc(Math.min(bytes, info.size));
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return { head: head.subarray(0, bytesRead), size: info.size };
  } catch (err) {
    throw mapped(file, err);
  } finally {
    await handle.close();
  }
}
