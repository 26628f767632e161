// Omniglot (Lake et al. 2015) from one of its zips, in memory: the archive holds
// <split>/<Alphabet>/characterNN/<id>_<drawer>.png, 105x105 one-bit PNGs (white background,
// black strokes). Each image becomes size x size floats with 1 = ink and 0 = background, by area
// averaging (resize.ts; 105 -> 28 averages 3.75 x 3.75 source pixels per target pixel, so stroke
// edges get fractional values). With `rotations`, as in MAML (Finn et al. 2017), each character at
// 0, 90, 180 and 270 degrees counterclockwise is its own class. Pure (no file system): the Node
// loader (omniglot.ts) reads the zip's bytes.
import { decodeImage, toLuminance } from './image-decode.js';
import { resizeArea, rotateSquare } from './resize.js';
import { unzipEntries, type FileEntry } from './zip.js';

/** A rotation of a character, in degrees counterclockwise. */
export type Rotation = 0 | 90 | 180 | 270;

/** One class: a character (at one rotation), its images resized to size×size, 1 = ink, 0 = background. */
export interface OmniglotClass {
  /** The alphabet's folder name, e.g. 'Balinese'. */
  alphabet: string;
  /** The character's folder name, e.g. 'character01'. */
  character: string;
  /** Degrees counterclockwise the images were turned (0 without rotations). */
  rotation: Rotation;
  /** [m, size*size] row-major, 1 = ink, 0 = background, fractional at stroke edges. */
  images: Float32Array;
  /** Number of images (drawers); 20 in the official sets. */
  m: number;
}

/** The classes of one Omniglot zip. */
export interface OmniglotSet {
  /** Side length of every image. */
  size: number;
  /** Classes ordered by alphabet, character, then rotation (0, 90, 180, 270), names sorted by code unit. */
  classes: OmniglotClass[];
  /** What was read (the zip's path and the options), for results.json. */
  source: string;
}

/** Options of the Omniglot readers. */
export interface OmniglotOptions {
  /** Side of the resized images (default 28, MAML's). */
  size?: number;
  /** true (default): MAML's 90° rotations as extra classes (4 classes per character); false: one class per character at 0°. */
  rotations?: boolean;
}

/** The rotations a set holds for each character. */
export function omniglotRotations(rotations: boolean): Rotation[] {
  return rotations ? [0, 90, 180, 270] : [0];
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One image entry as size x size ink values (1 - luminance), area-averaged. */
function inkImage(entry: FileEntry, size: number, where: string): Float32Array {
  const img = decodeImage(entry.read(), where);
  const lum = toLuminance(img);
  for (let i = 0; i < lum.length; i++) lum[i] = 1 - lum[i]!;
  return resizeArea(lum, img.height, img.width, size, size);
}

/**
 * Reads an Omniglot zip's bytes (`name`, usually the path, is used in errors and `source`).
 * Characters are the folders holding PNGs: <anything>/<Alphabet>/<character>/<image>.png.
 * Throws on a corrupt zip, a zip with no PNGs, a PNG outside <alphabet>/<character>/, or a PNG
 * that does not decode (naming the entry).
 */
export function omniglotFromZip(bytes: Uint8Array, name: string, options: OmniglotOptions = {}): OmniglotSet {
  const size = options.size ?? 28;
  const rotations = options.rotations ?? true;
  if (!(Number.isInteger(size) && size >= 1)) throw new Error(`Omniglot: size ${size} must be a positive integer`);
  const entries = unzipEntries(bytes, name, (p) => /\.png$/i.test(p) && !p.slice(p.lastIndexOf('/') + 1).startsWith('.'));
  if (entries.length === 0) {
    throw new Error(`${name}: no PNG images in the archive (expected <split>/<Alphabet>/characterNN/<image>.png, as in images_background.zip)`);
  }
  const groups = new Map<string, { alphabet: string; character: string; files: FileEntry[] }>();
  for (const e of entries) {
    const parts = e.path.split('/');
    if (parts.length < 3) {
      throw new Error(`${name}:${e.path}: image outside an <Alphabet>/<character>/ folder (expected <split>/<Alphabet>/characterNN/<image>.png)`);
    }
    const alphabet = parts[parts.length - 3]!;
    const character = parts[parts.length - 2]!;
    const key = parts.slice(0, -1).join('/');
    const g = groups.get(key) ?? { alphabet, character, files: [] };
    g.files.push(e);
    groups.set(key, g);
  }
  const keys = [...groups.keys()].sort(byName);
  const rots = omniglotRotations(rotations);
  const classes: OmniglotClass[] = [];
  const pixels = size * size;
  for (const key of keys) {
    const g = groups.get(key)!;
    g.files.sort((a, b) => byName(a.path, b.path));
    const m = g.files.length;
    const upright = new Float32Array(m * pixels);
    g.files.forEach((f, i) => upright.set(inkImage(f, size, `${name}:${f.path}`), i * pixels));
    for (const rotation of rots) {
      let images = upright;
      if (rotation !== 0) {
        images = new Float32Array(m * pixels);
        for (let i = 0; i < m; i++) images.set(rotateSquare(upright.subarray(i * pixels, (i + 1) * pixels), size, rotation / 90), i * pixels);
      }
      classes.push({ alphabet: g.alphabet, character: g.character, rotation, images, m });
    }
  }
  return { size, classes, source: `${name} (${size}x${size}, ${rotations ? 'rotations as classes' : 'no rotations'})` };
}

/**
 * `test` without the classes of alphabets that `train` also holds, so that meta-testing sees only
 * unseen alphabets. Needed for the shared small splits: images_background_small1.zip and
 * images_background_small2.zip both hold the Greek and Latin alphabets (the same 50 characters, the
 * same 1,000 images), so small2 keeps 106 of its 156 characters. A no-op for the official
 * images_background.zip / images_evaluation.zip, whose alphabets are disjoint. The dropped
 * alphabets are named in `source`.
 */
export function withoutAlphabetsOf(test: OmniglotSet, train: OmniglotSet): OmniglotSet {
  const seen = new Set(train.classes.map((c) => c.alphabet));
  const dropped = [...new Set(test.classes.filter((c) => seen.has(c.alphabet)).map((c) => c.alphabet))].sort(byName);
  if (dropped.length === 0) return test;
  const classes = test.classes.filter((c) => !seen.has(c.alphabet));
  return { size: test.size, classes, source: `${test.source}, without the alphabets also in meta-training: ${dropped.join(', ')}` };
}
