// Omniglot from its zips on disk. Defaults: the two real "small" background splits beside the
// repository (shared/data/omniglot/images_background_small1.zip for meta-training, ..._small2.zip
// for meta-testing, found by shared-data.ts; they share the Greek and Latin alphabets, which
// loadOmniglotSplits drops from meta-testing). The full sets users download
// (images_background.zip, images_evaluation.zip) have the same layout; `omniglotSourcesIn(dir)`
// names them in a --data-dir folder. File-system access lives here; decoding is in
// omniglot-format.ts.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { omniglotFromZip, withoutAlphabetsOf, type OmniglotOptions, type OmniglotSet } from './omniglot-format.js';
import { findSharedData, sharedDataSearched } from './shared-data.js';

export * from './omniglot-format.js';

/** Where the full Omniglot sets are downloaded from (the dataset's repository). */
export const OMNIGLOT_URLS = {
  train: 'https://github.com/brendenlake/omniglot/raw/master/python/images_background.zip',
  test: 'https://github.com/brendenlake/omniglot/raw/master/python/images_evaluation.zip',
} as const;

/** The file names that `omniglotSourcesIn` expects in a --data-dir folder. */
export const OMNIGLOT_FILES = { train: 'images_background.zip', test: 'images_evaluation.zip' } as const;

/** The shared small splits, relative to shared/data/. */
const SHARED = { train: 'omniglot/images_background_small1.zip', test: 'omniglot/images_background_small2.zip' } as const;

/** How to get the full set and which flag takes it (the tail of "missing data" errors). */
export function omniglotDownloadHint(): string {
  return `download ${OMNIGLOT_URLS.train} (meta-training) and ${OMNIGLOT_URLS.test} (meta-testing) into one folder ` +
    `and pass --data-dir DIR with DIR that folder`;
}

/**
 * The default meta-training and meta-test zips: shared/data/omniglot/images_background_small1.zip
 * and images_background_small2.zip beside the checkout. Throws, saying where to get the full set,
 * when they are not found.
 */
export function defaultOmniglotSources(): { train: string; test: string } {
  const train = findSharedData(SHARED.train);
  const test = findSharedData(SHARED.test);
  if (train && test) return { train, test };
  const missing: string[] = [];
  if (!train) missing.push(SHARED.train);
  if (!test) missing.push(SHARED.test);
  throw new Error(`Omniglot: no --data-dir given and the shared splits were not found ` +
    `(${missing.map(sharedDataSearched).join('; ')}); ${omniglotDownloadHint()}`);
}

/**
 * The full sets in a --data-dir folder: DIR/images_background.zip (meta-training) and
 * DIR/images_evaluation.zip (meta-testing). Throws naming every missing file and where to get it.
 */
export function omniglotSourcesIn(dir: string): { train: string; test: string } {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new Error(`${dir}: no such folder (--data-dir takes a folder holding ${OMNIGLOT_FILES.train} and ${OMNIGLOT_FILES.test}); ${omniglotDownloadHint()}`);
  }
  const train = join(dir, OMNIGLOT_FILES.train);
  const test = join(dir, OMNIGLOT_FILES.test);
  const missing = [train, test].filter((p) => !existsSync(p));
  if (missing.length) {
    throw new Error(`${missing.join(' and ')}: no such file (--data-dir ${dir} must hold ${OMNIGLOT_FILES.train} and ${OMNIGLOT_FILES.test}); ${omniglotDownloadHint()}`);
  }
  return { train, test };
}

/**
 * Reads one Omniglot zip (see omniglot-format.ts): every character's PNGs resized to size x size
 * (default 28) by area averaging, 1 = ink, 0 = background, and with `rotations` (default true)
 * each character at 0/90/180/270 degrees as its own class. Throws if the file is missing (saying
 * where to get the full set), not a zip, corrupt, or holds a PNG that does not decode.
 */
export async function loadOmniglot(zipPath: string, options: OmniglotOptions = {}): Promise<OmniglotSet> {
  if (!existsSync(zipPath)) throw new Error(`${zipPath}: no such file; ${omniglotDownloadHint()}`);
  if (statSync(zipPath).isDirectory()) {
    throw new Error(`${zipPath}: a folder, expected an Omniglot zip (for a folder holding ${OMNIGLOT_FILES.train} and ${OMNIGLOT_FILES.test}, use omniglotSourcesIn)`);
  }
  return omniglotFromZip(readFileSync(zipPath), zipPath, options);
}

/**
 * Reads the meta-training and meta-test zips (e.g. `defaultOmniglotSources()` or
 * `omniglotSourcesIn(dir)`) and drops from the meta-test set every alphabet that meta-training also
 * holds (see `withoutAlphabetsOf`: the shared small splits overlap in Greek and Latin).
 */
export async function loadOmniglotSplits(sources: { train: string; test: string }, options: OmniglotOptions = {}): Promise<{ train: OmniglotSet; test: OmniglotSet }> {
  const train = await loadOmniglot(sources.train, options);
  const test = await loadOmniglot(sources.test, options);
  return { train, test: withoutAlphabetsOf(test, train) };
}
