/**
 * Data laid out as sources: one folder per source, linked (never copied: the shared images may not be
 * redistributed) into a data root as <root>/real/<source>/ and <root>/fake/<source>/, the layout `npm start`,
 * `realfake crossval` and the notebooks read (lib/data/dataset.ts sourceOf). The shared development faces are one
 * such layout; two synthetic sets made with other seeds and difficulties are another (smoke runs and tests).
 *
 * Where the shared folders are: REALFAKE_SHARED, else `shared/` beside the project folder (a developer's and CI's
 * checkout sits next to it). The tests use the same setting.
 */
import * as fs from 'fs';
import * as path from 'path';
import { projectRoot } from '../files';
import { ensureSynthData } from './sources';
import type { SynthOptions } from './synth';

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

/** Folders by class and source name: { real: { ffhq: '/x/faces-dev/real' }, fake: { ... } }. */
export type SourceLayout = Record<'real' | 'fake', Record<string, string>>;

/**
 * Links each folder of `layout` as dataRoot/<class>/<source> (a link already there is replaced; a real folder of
 * that name is an error, never overwritten); returns the links.
 */
export function linkSources(dataRoot: string, layout: SourceLayout): string[] {
  const links: string[] = [];
  for (const [cls, sources] of Object.entries(layout)) {
    fs.mkdirSync(path.join(dataRoot, cls), { recursive: true });
    for (const [name, dir] of Object.entries(sources)) {
      const link = path.join(dataRoot, cls, name);
      const existing = fs.lstatSync(link, { throwIfNoEntry: false });
      if (existing && !existing.isSymbolicLink()) throw new Error(`${link}: already exists and is not a link; move it away first`);
      if (existing) fs.unlinkSync(link);
      fs.symlinkSync(path.resolve(dir), link, 'dir');
      links.push(link);
    }
  }
  return links;
}

/** Links every shared source into dataRoot; throws one line naming the missing folders when some are absent. */
export function linkSharedSources(dataRoot: string, shared = sharedRoot()): string[] {
  const missing = missingSharedSources(shared);
  if (missing.length) throw new Error(`${missing.join(', ')}: not found (set REALFAKE_SHARED to the folder holding faces-dev and faces-diffusion-dev)`);
  const layout = Object.fromEntries(
    Object.entries(SHARED_SOURCES).map(([cls, sources]) => [cls, Object.fromEntries(Object.entries(sources).map(([name, dir]) => [name, path.join(shared, dir)]))]),
  ) as SourceLayout;
  return linkSources(dataRoot, layout);
}

/**
 * Two synthetic sets as two sources per class (real/a, real/b, fake/a, fake/b): set a with the strongest
 * generator traces, set b fainter and drawn from another seed, so a model trained on one source meets a
 * different one when tested. Generated once into dataRoot/synth-a and synth-b (lib/data/sources.ts).
 */
export async function linkSynthSources(dataRoot: string, params: Omit<SynthOptions, 'out' | 'difficulty' | 'seed'> & { seed: number }, log: (line: string) => void): Promise<string[]> {
  const layout: SourceLayout = { real: {}, fake: {} };
  for (const [name, seed, difficulty] of [['a', params.seed, 0], ['b', params.seed + 1, 0.3]] as const) {
    const made = await ensureSynthData(path.join(dataRoot, 'sets'), { ...params, seed, difficulty }, log, `synth-${name}`);
    layout.real[name] = made.realDir;
    layout.fake[name] = made.fakeDir;
  }
  return linkSources(dataRoot, layout);
}
