// The image-folder layout that many users keep their data sets in, and that the shared CIFAR-10
// subset uses: <root>/<split>/<class>/<image>.jpg|png, with <root> either the archive or folder
// itself or a single folder inside it (cifar10-jpeg/train/airplane/0000.jpg).
//
// - Splits: `train`, and `test` (or, when there is no `test`, `val` or `validation`, which then
//   serves as the test split). Other folders next to them are ignored.
// - Classes: the sorted folder names of the train split; the test split must have exactly the same.
// - Images: JPEG or PNG (by signature), every image of both splits the same size; gray images are
//   promoted to RGB (R = G = B) and alpha is dropped, so every set has 3 channels, stored
//   channel-major like the CIFAR binary format. Images of a class are taken in file-name order.
// - Files that are not .jpg/.jpeg/.png, hidden files (.DS_Store) and __MACOSX/ are skipped.
// Pure: the Node reader (cifar.ts) lists the folder or reads the zip and passes the entries here.
import type { ImageDataset, ImageSet } from './cifar-format.js';
import { decodeImage, toRgb } from './image-decode.js';
import { unzipEntries, type FileEntry } from './zip.js';

/** The split folder names accepted as the test split, in order of preference. */
export const TEST_SPLIT_NAMES = ['test', 'val', 'validation'] as const;

/** True for a path whose file name ends in .jpg, .jpeg or .png (any case) and is not hidden. */
export function isImagePath(path: string): boolean {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return !base.startsWith('.') && /\.(jpe?g|png)$/i.test(base);
}

/** Locale-independent ordering of names (by UTF-16 code units), so class indices are the same everywhere. */
function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The root prefix ('' or 'folder/') whose `train` folder holds the images, from the image paths. */
function findRoot(paths: string[], source: string): string {
  const roots = new Set<string>();
  for (const p of paths) {
    const parts = p.split('/');
    if (parts.length === 3 && parts[0] === 'train') roots.add('');
    if (parts.length === 4 && parts[1] === 'train') roots.add(parts[0] + '/');
  }
  if (roots.size === 0) {
    const top = [...new Set(paths.map((p) => p.split('/')[0]))].sort(byName).slice(0, 10);
    throw new Error(`${source}: no train split (expected images at <root>/train/<class>/<image>.jpg|png, with <root> the archive itself ` +
      `or one folder inside it; found ${paths.length} images${top.length ? `, top-level names: ${top.join(', ')}` : ''})`);
  }
  if (roots.size > 1) {
    const list = [...roots].map((r) => (r === '' ? '(top level)' : r.slice(0, -1))).sort(byName);
    throw new Error(`${source}: several folders hold a train split (${list.join(', ')}); keep one data set per archive or folder`);
  }
  return [...roots][0]!;
}

/** Images of one split grouped by class folder, each class's files sorted by name. */
function splitClasses(entries: FileEntry[], prefix: string, where: (path: string) => string): Map<string, FileEntry[]> {
  const classes = new Map<string, FileEntry[]>();
  for (const e of entries) {
    if (!e.path.startsWith(prefix)) continue;
    const rest = e.path.slice(prefix.length).split('/');
    if (rest.length !== 2) {
      throw new Error(`${where(e.path)}: image outside a class folder (expected ${prefix}<class>/<image>.jpg|png)`);
    }
    const list = classes.get(rest[0]!) ?? [];
    list.push(e);
    classes.set(rest[0]!, list);
  }
  for (const list of classes.values()) list.sort((a, b) => byName(a.path, b.path));
  return classes;
}

/** The expected image size, fixed by the first image decoded. */
interface Size {
  width: number;
  height: number;
  first: string;
}

/** Decodes one split's images into a channel-major set, checking that every image has `size`. */
function decodeSplit(classes: Map<string, FileEntry[]>, classNames: string[], size: { value?: Size }, where: (path: string) => string): ImageSet {
  const files: { entry: FileEntry; label: number }[] = [];
  classNames.forEach((c, label) => {
    for (const entry of classes.get(c)!) files.push({ entry, label });
  });
  const labels = new Uint8Array(files.length);
  let pixels = new Uint8Array(0);
  let plane = 0;
  files.forEach(({ entry, label }, i) => {
    const name = where(entry.path);
    const img = toRgb(decodeImage(entry.read(), name));
    if (!size.value) size.value = { width: img.width, height: img.height, first: name };
    const s = size.value;
    if (img.width !== s.width || img.height !== s.height) {
      throw new Error(`${name}: image is ${img.width}x${img.height}, expected ${s.width}x${s.height} like ${s.first} ` +
        `(every image of a data set must have the same size; resize them first)`);
    }
    if (i === 0) {
      plane = s.width * s.height;
      pixels = new Uint8Array(files.length * 3 * plane);
    }
    // Interleaved RGB to channel-major planes.
    const base = i * 3 * plane;
    for (let p = 0; p < plane; p++) {
      pixels[base + p] = img.data[3 * p]!;
      pixels[base + plane + p] = img.data[3 * p + 1]!;
      pixels[base + 2 * plane + p] = img.data[3 * p + 2]!;
    }
    labels[i] = label;
  });
  const s = size.value!;
  return { n: files.length, channels: 3, height: s.height, width: s.width, pixels, labels };
}

/**
 * Reads an image-folder data set from its file entries (paths relative to the archive or folder).
 * `where(path)` names an entry in errors (e.g. `archive.zip:path` or the full file path); `source`
 * names the whole (for errors and `ImageDataset.source`). Throws on a missing train or test split,
 * differing class folders, images of different sizes or images that do not decode.
 */
export function imageFolderDataset(entries: FileEntry[], source: string, where: (path: string) => string): ImageDataset {
  const images = entries.filter((e) => isImagePath(e.path) && !e.path.split('/').includes('__MACOSX'));
  const root = findRoot(images.map((e) => e.path), source);
  const trainClasses = splitClasses(images, `${root}train/`, where);
  const splitNames = new Set(images.filter((e) => e.path.startsWith(root)).map((e) => e.path.slice(root.length).split('/')[0]!));
  const testName = TEST_SPLIT_NAMES.find((n) => splitNames.has(n));
  if (!testName) {
    throw new Error(`${source}: no test split (expected images at ${root}test/<class>/<image>.jpg|png, or a val or validation folder; ` +
      `found split folders: ${[...splitNames].sort(byName).join(', ')})`);
  }
  const testClasses = splitClasses(images, `${root}${testName}/`, where);
  const classNames = [...trainClasses.keys()].sort(byName);
  const testNames = [...testClasses.keys()].sort(byName);
  const missing = classNames.filter((c) => !testClasses.has(c));
  const extra = testNames.filter((c) => !trainClasses.has(c));
  if (missing.length || extra.length) {
    throw new Error(`${source}: the ${testName} split's classes differ from train's` +
      (missing.length ? `; missing in ${testName}: ${missing.join(', ')}` : '') +
      (extra.length ? `; only in ${testName}: ${extra.join(', ')}` : '') +
      ` (train has ${classNames.length} classes: ${classNames.slice(0, 10).join(', ')}${classNames.length > 10 ? ', ...' : ''})`);
  }
  if (classNames.length > 256) {
    throw new Error(`${source}: ${classNames.length} classes, at most 256 are supported (labels are bytes)`);
  }
  const size: { value?: Size } = {};
  const train = decodeSplit(trainClasses, classNames, size, where);
  const test = decodeSplit(testClasses, classNames, size, where);
  const rootNote = root ? ` (root ${root.slice(0, -1)}/, test split ${testName}/)` : ` (test split ${testName}/)`;
  return { train, test, classNames, source: source + rootNote };
}

/** Reads an image-folder data set from a zip archive's bytes; `name` (the file path) is used in errors and `source`. */
export function imageFolderFromZip(bytes: Uint8Array, name: string): ImageDataset {
  const entries = unzipEntries(bytes, name, isImagePath);
  return imageFolderDataset(entries, name, (path) => `${name}:${path}`);
}
