/**
 * The shared development faces as sources: one folder per source, linked (never copied: the images may not be
 * redistributed) into a data root as data/real/<source>/ and data/fake/<source>/, the layout `npm start`,
 * `realfake crossval` and the notebooks read (lib/data/dataset.ts sourceOf).
 *
 * Where the shared folders are: REALFAKE_SHARED, else `shared/` beside the project folder (a developer's and CI's
 * checkout sits next to it). The tests use the same setting.
 */
import * as fs from 'fs';
import * as path from 'path';
import { projectRoot } from '../files';

/** Each source of the shared development sets: its folder inside the shared root. Read each set's README. */
export const SHARED_SOURCES = {
  real: {
    ffhq: 'faces-dev/real',
    unsplash_men: 'faces-diffusion-dev/real/unsplash_men',
    amfd_lab: 'faces-diffusion-dev/real/amfd_lab',
  },
  fake: {
    stylegan: 'faces-dev/fake',
    sd14_blonde_woman: 'faces-diffusion-dev/fake/sd14_blonde_woman',
    sd1_eyewear: 'faces-diffusion-dev/fake/sd1_eyewear',
  },
} as const;

/** REALFAKE_SHARED, else ../shared beside the project folder. */
export function sharedRoot(): string {
  return path.resolve(process.env.REALFAKE_SHARED || path.join(projectRoot(), '..', 'shared'));
}

/** The shared sources' folders that are missing (empty when all are there). */
export function missingSharedSources(shared = sharedRoot()): string[] {
  return Object.values(SHARED_SOURCES)
    .flatMap((sources) => Object.values(sources))
    .map((dir) => path.join(shared, dir))
    .filter((dir) => !fs.existsSync(dir));
}

/**
 * Links every shared source into dataRoot/<class>/<source> (a link already there is replaced; a real folder of
 * that name is an error, never overwritten). Throws one line naming the missing folders when some are absent.
 */
export function linkSharedSources(dataRoot: string, shared = sharedRoot()): string[] {
  const missing = missingSharedSources(shared);
  if (missing.length) throw new Error(`${missing.join(', ')}: not found (set REALFAKE_SHARED to the folder holding faces-dev and faces-diffusion-dev)`);
  const links: string[] = [];
  for (const [cls, sources] of Object.entries(SHARED_SOURCES)) {
    fs.mkdirSync(path.join(dataRoot, cls), { recursive: true });
    for (const [name, dir] of Object.entries(sources)) {
      const link = path.join(dataRoot, cls, name);
      const existing = fs.lstatSync(link, { throwIfNoEntry: false });
      if (existing && !existing.isSymbolicLink()) throw new Error(`${link}: already exists and is not a link; move it away first`);
      if (existing) fs.unlinkSync(link);
      fs.symlinkSync(path.join(shared, dir), link, 'dir');
      links.push(link);
    }
  }
  return links;
}
