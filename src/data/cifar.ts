// CIFAR-10 and CIFAR-100 from the files users hold: an image-folder zip or folder
// (<root>/<split>/<class>/<image>.jpg|png, see image-folder.ts). The default source for CIFAR-10
// is the real subset shipped beside the repository (shared/data/cifar10/cifar10-jpeg-subset.zip,
// found by shared-data.ts); CIFAR-100 has none, and the error says what to download.
// File-system access lives here; the decoding (image-folder.ts) is pure.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { checkCifarName, type CifarName, type CifarOptions, type ImageDataset } from './cifar-format.js';
import { imageFolderDataset, imageFolderFromZip, isImagePath } from './image-folder.js';
import { findSharedData, sharedDataCandidates } from './shared-data.js';
import type { FileEntry } from './zip.js';

export * from './cifar-format.js';

/** The official downloads of the binary distributions. */
export const CIFAR_URLS: Record<CifarName, string> = {
  cifar10: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
  cifar100: 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz',
};

/** The default CIFAR-10 source, relative to `shared/data/`. */
const SHARED_CIFAR10 = 'cifar10/cifar10-jpeg-subset.zip';

/** What to download for `dataset` and how to pass it (the tail of "no data" errors). */
export function cifarDownloadHint(dataset: CifarName): string {
  const url = CIFAR_URLS[dataset];
  const file = url.slice(url.lastIndexOf('/') + 1);
  const folder = dataset === 'cifar10' ? 'cifar-10-batches-bin/' : 'cifar-100-binary/';
  return `download ${url} and pass --data-dir PATH with PATH the ${file} itself, the folder it extracts to (${folder}), ` +
    `or a folder holding ${file}; an image-folder zip or folder <root>/train|test/<class>/<image>.jpg|png works too`;
}

/**
 * The default source when --data-dir is not given: for cifar10 the real subset
 * `shared/data/cifar10/cifar10-jpeg-subset.zip` beside the checkout (see shared-data.ts for where
 * it is looked for). Throws, saying exactly what to download and which flag takes it, for
 * cifar100 (no default) or when the subset is not found.
 */
export function defaultCifarSource(dataset: CifarName): string {
  checkCifarName(dataset);
  if (dataset === 'cifar10') {
    const found = findSharedData(SHARED_CIFAR10);
    if (found) return found;
    throw new Error(`CIFAR-10: no --data-dir given and the shared subset was not found (looked for ${sharedDataCandidates(SHARED_CIFAR10).join(', ')}); ` +
      cifarDownloadHint(dataset));
  }
  throw new Error(`CIFAR-100: no data given (there is no default copy); ${cifarDownloadHint(dataset)}`);
}

/** Every file under `dir` as entries with '/'-separated paths relative to it, read on demand. */
function folderEntries(dir: string): FileEntry[] {
  const out: FileEntry[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      if (name.startsWith('.')) continue;
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (isImagePath(name)) out.push({ path: relative(dir, p).split(sep).join('/'), read: () => readFileSync(p) });
    }
  };
  walk(dir);
  return out;
}

/**
 * Reads CIFAR-10 or CIFAR-100 from `path`: an image-folder zip or folder
 * <root>/<split>/<class>/<image>.jpg|png (root may be the zip or folder itself or one folder
 * inside it). Throws an Error naming the file (and record) on any bad input; nothing half-read is
 * returned.
 */
export async function loadCifar(path: string, dataset: CifarName, options: CifarOptions = {}): Promise<ImageDataset> {
  checkCifarName(dataset);
  if (!existsSync(path)) {
    throw new Error(`${path}: no such file or folder; ${cifarDownloadHint(dataset)}`);
  }
  if (options.label === 'coarse') {
    throw new Error(`${path}: coarse (superclass) labels exist only in the CIFAR-100 binary format, not in an image folder`);
  }
  if (statSync(path).isDirectory()) {
    return imageFolderDataset(folderEntries(path), path, (p) => join(path, p));
  }
  return imageFolderFromZip(readFileSync(path), path);
}
