// CIFAR-10 and CIFAR-100 from the files users hold: the official binary distribution (the
// .tar.gz as downloaded, or the folder it extracts to; see cifar-binary.ts) or an image-folder zip
// or folder (<root>/<split>/<class>/<image>.jpg|png, see image-folder.ts). The default source for CIFAR-10
// is the real subset shipped beside the repository (shared/data/cifar10/cifar10-jpeg-subset.zip,
// found by shared-data.ts); CIFAR-100 has none, and the error says what to download.
// File-system access lives here; the decoding (cifar-binary.ts, image-folder.ts) is pure.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { checkCifarName, type CifarName, type CifarOptions, type ImageDataset } from './cifar-format.js';
import { CIFAR_BINARY, cifarBinaryDataset, cifarBinaryFromTar, isGzip, isTar } from './cifar-binary.js';
import { imageFolderDataset, imageFolderFromZip, isImagePath } from './image-folder.js';
import { findSharedData, sharedDataSearched } from './shared-data.js';
import { isZip, type FileEntry } from './zip.js';

export * from './cifar-format.js';

/** The official downloads of the binary distributions. */
export const CIFAR_URLS: Record<CifarName, string> = {
  cifar10: `https://www.cs.toronto.edu/~kriz/${CIFAR_BINARY.cifar10.archive}`,
  cifar100: `https://www.cs.toronto.edu/~kriz/${CIFAR_BINARY.cifar100.archive}`,
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
    throw new Error(`CIFAR-10: no --data-dir given and the shared subset was not found (${sharedDataSearched(SHARED_CIFAR10)}); ` +
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

/** The extracted binary distribution in `dir`: reads batch files by base name. */
function binaryFolder(dir: string, dataset: CifarName, options: CifarOptions): ImageDataset {
  return cifarBinaryDataset((f) => {
    const p = join(dir, f);
    return existsSync(p) ? { bytes: readFileSync(p), name: p } : undefined;
  }, dataset, options, dir);
}

/** Reads a file source: a .tar.gz or .tar (binary distribution) or a zip (image folder), told apart by content. */
function fromFile(path: string, dataset: CifarName, options: CifarOptions): ImageDataset {
  const bytes = readFileSync(path);
  if (isZip(bytes)) {
    if (options.label === 'coarse') throw coarseInImageFolder(path);
    return imageFolderFromZip(bytes, path);
  }
  if (isGzip(bytes) || isTar(bytes)) return cifarBinaryFromTar(bytes, path, dataset, options);
  throw new Error(`${path}: neither a .tar.gz or .tar archive (the binary distribution) nor a zip (an image folder); ${cifarDownloadHint(dataset)}`);
}

function coarseInImageFolder(path: string): Error {
  return new Error(`${path}: coarse (superclass) labels exist only in the CIFAR-100 binary format, not in an image folder`);
}

/**
 * Reads CIFAR-10 or CIFAR-100 from `path`, one of:
 * - the official binary archive (cifar-10-binary.tar.gz, cifar-100-binary.tar.gz; gzipped or not),
 * - the folder it extracts to (cifar-10-batches-bin/, cifar-100-binary/) or a folder holding
 *   that folder or the archive,
 * - an image-folder zip or folder <root>/<split>/<class>/<image>.jpg|png (root may be the zip or
 *   folder itself or one folder inside it).
 * A folder holding the distribution's batch files (or any .bin file) is read as the binary format,
 * so a missing batch is reported as such. Throws an Error naming the file (and record) on any bad
 * input; nothing half-read is returned. `options.label` picks CIFAR-100's fine (default) or
 * coarse labels.
 */
export async function loadCifar(path: string, dataset: CifarName, options: CifarOptions = {}): Promise<ImageDataset> {
  checkCifarName(dataset);
  if (!existsSync(path)) {
    throw new Error(`${path}: no such file or folder; ${cifarDownloadHint(dataset)}`);
  }
  if (!statSync(path).isDirectory()) return fromFile(path, dataset, options);
  const layout = CIFAR_BINARY[dataset];
  const names = readdirSync(path);
  if (names.some((n) => n.endsWith('.bin'))) return binaryFolder(path, dataset, options);
  const inner = join(path, layout.folder);
  if (existsSync(inner) && statSync(inner).isDirectory()) return binaryFolder(inner, dataset, options);
  if (names.includes(layout.archive)) return fromFile(join(path, layout.archive), dataset, options);
  if (options.label === 'coarse') throw coarseInImageFolder(path);
  return imageFolderDataset(folderEntries(path), path, (p) => join(path, p));
}
