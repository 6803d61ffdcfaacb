/**
 * Hostile folders, through the real `realfake` command line: link loops and cycles, broken links, subfolders,
 * an SVG named .png, a newline in a file name, the same folder for both classes, and (as an unprivileged user,
 * since tests run as root) files and folders the user may not read. Every one gets its true reason, a batch
 * goes on past it, and every command applies the same rules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, SpawnSyncOptions } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../lib/backend/backend';
import { readManifest } from '../lib/data/dataset';
import { goodImageFiles, writeFiles } from './fixtures/images';
import { skipForMissingTool } from './helpers/tools';
import { createUntrainedRun } from './fixtures/runs';

const ROOT = path.join(__dirname, '..', '..');
const SVG = Buffer.from(
  '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="red"/></svg>\n',
);

function realfake(args: string[], cwd: string, options: { root?: string; prefix?: string[] } = {}) {
  const bin = path.join(options.root ?? ROOT, 'bin', 'realfake.js');
  const [cmd, ...rest] = [...(options.prefix ?? []), process.execPath, bin, ...args];
  const spawnOptions: SpawnSyncOptions = {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, REALFAKE_BACKEND: 'wasm' },
    timeout: 300_000,
  };
  const r = spawnSync(cmd, rest, spawnOptions);
  return { code: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** A run folder holding an untrained 64 px model: enough for predict, which only needs the files. */
async function makeRun(root: string): Promise<string> {
  await initBackend('cpu');
  return createUntrainedRun(root);
}

/** real/ with every awkward kind of entry; fake/ plain. */
async function hostileFolders(root: string) {
  const good = await goodImageFiles(24, 20, 1);
  const real = path.join(root, 'real');
  const fake = path.join(root, 'fake');
  writeFiles(real, {
    'a.png': good['rgb.png'],
    'b.jpg': good['photo.jpg'],
    'vector.png': SVG,
    'drawing.svg.png': SVG,
    'new\nline.png': good['grey.png'],
  });
  writeFiles(path.join(real, 'sub', 'deeper'), { 'c.png': good['palette.png'] });
  writeFiles(path.join(real, '.hidden'), { 'd.png': good['rgb.png'] });
  fs.symlinkSync('loop.png', path.join(real, 'loop.png')); // ELOOP
  fs.symlinkSync('.', path.join(real, 'cycle')); // a folder cycle
  fs.symlinkSync('nowhere.png', path.join(real, 'dangling.png'));
  writeFiles(fake, { 'x.png': good['rgba.png'], 'y.jpg': good['photo.jpg'] });
  return { real, fake };
}

test('preprocess: loops, cycles, broken links and SVGs are skipped with their reason; subfolders are read', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rf-hostile-'));
  const { real, fake } = await hostileFolders(root);
  const r = realfake(['preprocess', '--real', real, '--fake', fake, '--out', 'out', '--size', '16'], root);
  assert.equal(r.code, 0, r.stderr);
  const rows = readManifest(path.join(root, 'out', 'manifest.csv'));
  const row = (rel: string) => rows.find((x) => x.relativePath === rel);
  assert.equal(row('a.png')?.status, 'ok');
  assert.equal(
    row(path.join('sub', 'deeper', 'c.png'))?.status,
    'ok',
    'subfolders are read, with their relative path recorded',
  );
  assert.equal(row('new\nline.png')?.status, 'ok');
  assert.equal(
    rows.some((x) => x.path.includes('.hidden')),
    false,
    'hidden folders are not read',
  );
  assert.match(row('loop.png')?.reason ?? 'missing', /symbolic link loop/);
  assert.match(row('dangling.png')?.reason ?? 'missing', /broken symbolic link/);
  assert.match(row('cycle')?.reason ?? 'missing', /symbolic link cycle/);
  for (const svg of ['vector.png', 'drawing.svg.png'])
    assert.match(row(svg)?.reason ?? 'missing', /^not a raster image \(SVG is a vector/, svg);
  assert.deepEqual(
    rows.filter((x) => x.status === 'ok').map((x) => x.relativePath),
    ['a.png', 'b.jpg', 'new\nline.png', path.join('sub', 'deeper', 'c.png'), 'x.png', 'y.jpg'],
  );
  // Every skipped entry is reported on stderr, one line each, newline escaped.
  assert.match(r.stderr, /skipped .*new\\nline\.png|skipped .*loop\.png/);
  assert.ok(r.stderr.split('\n').filter((l) => l.startsWith('skipped ')).length >= 5, r.stderr);
});

test('preprocess refuses the same or overlapping folders for --real and --fake (exit 2)', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rf-overlap-'));
  const { real, fake } = await hostileFolders(root);
  fs.symlinkSync(fake, path.join(root, 'fake-link'));
  const cases: Array<[string, string, RegExp]> = [
    [real, real, /same folder/],
    [fake, path.join(root, 'fake-link'), /same folder/],
    [real, path.join(real, 'sub'), /--fake .* is inside --real/],
    [path.join(real, 'sub'), real, /--real .* is inside --fake/],
  ];
  for (const [r, f, reason] of cases) {
    const result = realfake(['preprocess', '--real', r, '--fake', f, '--out', 'out'], root);
    assert.equal(result.code, 2, `${r} / ${f}: ${result.stderr}`);
    assert.match(result.stderr, reason);
    assert.equal(result.stderr.trim().split('\n').length, 1);
  }
  assert.equal(fs.existsSync(path.join(root, 'out')), false);
});

test('predict: the same folder rules and reasons; a newline in a name does not split the text output', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rf-hostile-predict-'));
  const { real } = await hostileFolders(root);
  const run = await makeRun(path.join(root, 'runs'));
  const r = realfake(['predict', '--run', run, real], root);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  const names = lines.map((l) => path.relative(real, l.split('\t')[0]));
  assert.deepEqual(names, ['a.png', 'b.jpg', 'new\\nline.png', path.join('sub', 'deeper', 'c.png')]);
  assert.ok(
    lines.every((l) => /\t(Real|Fake \(AI-generated\))\t\d+\.\d%\tpFake=/.test(l)),
    r.stdout,
  );
  assert.match(r.stderr, /skipped .*vector\.png: not a raster image \(SVG is a vector/);
  assert.match(r.stderr, /skipped .*loop\.png: symbolic link loop/);
  assert.match(r.stderr, /skipped .*cycle: symbolic link cycle/);
  // An SVG given by name is refused too, with the same reason.
  const one = realfake(
    ['predict', '--run', run, '--json', path.join(real, 'vector.png'), path.join(real, 'a.png')],
    root,
  );
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stderr, /vector\.png: not a raster image \(SVG is a vector/);
  assert.equal(one.stdout.trim().split('\n').length, 1);
});

/** setpriv to `nobody`, and a copy of the package nobody can reach when the checkout is not (e.g. under /root). */
function unprivileged(): { prefix: string[]; root: string } | string {
  if (process.getuid?.() !== 0) return 'not running as root, so there is no other user to switch to';
  if (spawnSync('setpriv', ['--version']).status !== 0) return 'setpriv (util-linux) is not installed';
  const prefix = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
  const reachable = (dir: string) =>
    spawnSync(prefix[0], [...prefix.slice(1), 'test', '-r', path.join(dir, 'dist', 'lib', 'cli', 'main.js')]).status ===
    0;
  if (reachable(ROOT)) return { prefix, root: ROOT };
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'rf-nobody-pkg-'));
  fs.chmodSync(copy, 0o755);
  for (const part of ['bin', 'dist', 'node_modules', 'package.json']) {
    // Hard links are instant on one file system; a plain copy otherwise.
    const linked = spawnSync('cp', ['-al', path.join(ROOT, part), copy]).status === 0;
    if (!linked) assert.equal(spawnSync('cp', ['-r', path.join(ROOT, part), copy]).status, 0, `copying ${part}`);
  }
  spawnSync('chmod', ['-R', 'a+rX', copy]);
  assert.ok(reachable(copy), `nobody cannot read ${copy}`);
  return { prefix, root: copy };
}

test('as an unprivileged user: unreadable files and folders get "permission denied", never another reason', async (t) => {
  const who = unprivileged();
  if (typeof who === 'string') return void skipForMissingTool(t, who);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rf-nobody-'));
  fs.chmodSync(root, 0o777);
  const good = await goodImageFiles(24, 20, 3);
  const real = path.join(root, 'real');
  const fake = path.join(root, 'fake');
  const locked = path.join(root, 'locked');
  writeFiles(real, { 'a.png': good['rgb.png'], 'secret.jpg': good['photo.jpg'] });
  writeFiles(path.join(real, 'private'), { 'p.png': good['rgb.png'] });
  writeFiles(fake, { 'x.png': good['rgba.png'], 'y.jpg': good['photo.jpg'] });
  writeFiles(locked, { 'in.jpg': good['photo.jpg'] });
  fs.symlinkSync(path.join(locked, 'in.jpg'), path.join(real, 'into-locked.jpg'));
  fs.symlinkSync(locked, path.join(real, 'locked-folder'));
  for (const dir of [root, real, fake]) fs.chmodSync(dir, 0o777);
  fs.chmodSync(path.join(real, 'secret.jpg'), 0o600); // a valid JPEG only root may read
  fs.chmodSync(path.join(real, 'private'), 0o700);
  fs.chmodSync(locked, 0o700);
  const run = await makeRun(path.join(root, 'runs'));
  spawnSync('chmod', ['-R', 'a+rX', path.join(root, 'runs')]);

  const pre = realfake(
    ['preprocess', '--real', real, '--fake', fake, '--out', path.join(root, 'out'), '--size', '16'],
    root,
    who,
  );
  assert.equal(pre.code, 0, pre.stderr);
  const rows = readManifest(path.join(root, 'out', 'manifest.csv'));
  const reason = (rel: string) => rows.find((x) => x.relativePath === rel)?.reason ?? `no row for ${rel}`;
  assert.match(reason('secret.jpg'), /^permission denied \(EACCES\)$/);
  assert.match(reason('into-locked.jpg'), /^permission denied \(EACCES\)$/);
  assert.match(reason('private'), /^folder not listed: permission denied \(EACCES\)$/);
  assert.match(reason('locked-folder'), /permission denied \(EACCES\)$/);
  assert.equal(rows.filter((x) => x.status === 'ok').length, 3);

  // A path that exists but cannot be looked at is not "no such file".
  const hidden = realfake(['predict', '--run', run, path.join(locked, 'in.jpg')], root, who);
  assert.equal(hidden.code, 2, hidden.stderr);
  assert.match(hidden.stderr, /locked\/in\.jpg: permission denied \(EACCES\)$/m);
  const secret = realfake(
    ['predict', '--run', run, path.join(real, 'secret.jpg'), path.join(real, 'a.png')],
    root,
    who,
  );
  assert.equal(secret.code, 0, secret.stderr);
  assert.match(secret.stderr, /skipped .*secret\.jpg: permission denied \(EACCES\)/);
  assert.equal(secret.stdout.trim().split('\n').length, 1);
});
