/**
 * Small file helpers: atomic writes (an interruption never leaves a half-written file behind), JSON reading with
 * one-line errors, and paths stored relative to the file that holds them (so they resolve from any working
 * directory, and a moved project or data folder keeps working).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/*
 * Temporary files in flight, removed on every exit (also process.exit from a second Ctrl-C), so an interrupted
 * run leaves none behind. Their names carry the writer's pid, so the next run can tell stale ones (from a
 * process that was killed outright) from another live writer's, and remove them: removeStaleTempFiles.
 */
const inFlight = new Set<string>();
let exitHookInstalled = false;

/** A temporary sibling name for `file` (target.pid.time.tmp), removed at exit unless released first. */
export function tempPathFor(file: string): string {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  inFlight.add(tmp);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => inFlight.forEach((f) => fs.rmSync(f, { force: true })));
  }
  return tmp;
}

/** The temporary file was renamed into place or removed: nothing to clean up at exit. */
export function releaseTempPath(tmp: string): void {
  inFlight.delete(tmp);
}

const TEMP_NAME = /\.(\d+)\.\d+\.tmp$/;

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes temporary files left by writers that no longer run (killed mid-write) in `dir` and, up to `depth`
 * levels, its subfolders. Returns the files removed. Missing or unreadable folders are left alone.
 */
export function removeStaleTempFiles(dir: string, depth = 0): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    const match = TEMP_NAME.exec(entry.name);
    if (entry.isFile() && match && Number(match[1]) !== process.pid && !processIsAlive(Number(match[1]))) {
      fs.rmSync(full, { force: true });
      removed.push(full);
    } else if (entry.isDirectory() && depth > 0) {
      removed.push(...removeStaleTempFiles(full, depth - 1));
    }
  }
  return removed;
}

/**
 * A new private folder in the system's temp folder, named `<prefix><pid>-<random>`, for a long-lived process
 * (a queue worker) that removes it when it closes. First removes such folders of the same prefix whose process
 * no longer runs: a worker killed outright (SIGKILL, a crash) cannot clean up after itself.
 */
export function makeOwnTempDir(prefix: string): string {
  const root = os.tmpdir();
  for (const name of fs.readdirSync(root)) {
    const pid = name.startsWith(prefix) ? /^(\d+)-/.exec(name.slice(prefix.length))?.[1] : undefined;
    if (pid && Number(pid) !== process.pid && !processIsAlive(Number(pid)))
      fs.rmSync(path.join(root, name), { recursive: true, force: true });
  }
  return fs.mkdtempSync(path.join(root, `${prefix}${process.pid}-`));
}

/** Writes to a temporary sibling, then renames over the target (rename is atomic on one file system). */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = tempPathFor(file);
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  } finally {
    releaseTempPath(tmp);
  }
}

export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

/**
 * A JSON file, or one line naming the file and what is wrong: "<file>: <what> not found", "<file>: cannot read
 * <what> (<reason>)" or "<file>: not valid JSON (<reason>)".
 */
export function readJson<T>(file: string, what = 'file'): T {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`${file}: ${what} not found`);
    throw new Error(`${file}: cannot read ${what} (${code ?? (err as Error).message})`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`);
  }
}

/**
 * How a file written into `holderDir` (a manifest, dataset.json, run.json ...) records `target`: relative to
 * `holderDir`, with forward slashes. Read it back with resolveStoredPath.
 */
export function storedPath(target: string, holderDir: string): string {
  const relative = path.relative(path.resolve(holderDir), path.resolve(target));
  return (relative || '.').split(path.sep).join('/');
}

/** The absolute path a stored path stands for (absolute stored paths are kept as they are). */
export function resolveStoredPath(stored: string, holderDir: string): string {
  return path.resolve(holderDir, stored);
}

/** One CSV field, quoted when it holds a quote, comma, line break or edge space (RFC 4180). */
export function csvField(value: string | number): string {
  const text = String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

let cachedRoot: string | null = null;

/** The realfake package folder (found by walking up from this module: works from dist/, lib/ and notebooks/lib/). */
export function projectRoot(): string {
  if (cachedRoot) return cachedRoot;
  for (let dir = fs.realpathSync(__dirname); ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf8')).name === 'realfake')
      return (cachedRoot = dir);
    if (path.dirname(dir) === dir) throw new Error(`cannot find the realfake package folder above ${__dirname}`);
  }
}

/** A package's folder (from its entry point: some packages' exports hide package.json). */
export function resolvePackageDir(pkg: string): string {
  let dir = path.dirname(require.resolve(pkg));
  while (
    !fs.existsSync(path.join(dir, 'package.json')) ||
    JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name !== pkg
  ) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the folder of package ${pkg}`);
    dir = parent;
  }
  return dir;
}
