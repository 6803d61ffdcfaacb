/**
 * Training workers run compiled JavaScript from dist/ (a worker thread cannot load TypeScript), while notebooks
 * run lib/'s TypeScript directly through tslab. After an edit to lib/, dist/ would silently run the old code in
 * the workers: before starting them, realfake checks every lib/ file against its compiled copy and, when one is
 * newer or missing, compiles the project first.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { projectRoot } from '../files';

/** The .ts files under `srcDir` whose .js under `outDir` is missing or older (declaration files excepted). */
export function staleCompiledFiles(srcDir: string, outDir: string): string[] {
  const stale: string[] = [];
  for (const entry of fs.readdirSync(srcDir, { withFileTypes: true })) {
    const source = path.join(srcDir, entry.name);
    if (entry.isDirectory()) {
      stale.push(...staleCompiledFiles(source, path.join(outDir, entry.name)));
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
      const compiled = fs.statSync(path.join(outDir, entry.name.replace(/\.ts$/, '.js')), { throwIfNoEntry: false });
      if (!compiled || compiled.mtimeMs < fs.statSync(source).mtimeMs) stale.push(source);
    }
  }
  return stale;
}

/**
 * Makes dist/lib current with lib/ (a no-op when it is, or when there is no lib/, as in an installed package).
 * Compiles with the project's TypeScript; throws one line when it cannot.
 */
export function ensureCompiledLib(root = projectRoot(), log: (line: string) => void = () => undefined): void {
  const src = path.join(root, 'lib');
  if (!fs.existsSync(src)) return;
  const stale = staleCompiledFiles(src, path.join(root, 'dist', 'lib'));
  if (stale.length === 0) return;
  const example = path.relative(root, stale[0]);
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!fs.existsSync(tsc)) {
    throw new Error(
      `${example} is newer than its compiled copy in dist/ and TypeScript is not installed: run \`npm run build\``,
    );
  }
  log(
    `lib/ changed since the last build (${stale.length} file(s), e.g. ${example}): compiling for the training workers`,
  );
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json')], {
    cwd: root,
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    const first = `${result.stdout}${result.stderr}`.trim().split('\n')[0];
    throw new Error(`compiling lib/ for the training workers failed: ${first}`);
  }
}
