// The official CIFAR binary distributions (https://www.cs.toronto.edu/~kriz/cifar.html):
// - CIFAR-10: data_batch_1.bin ... data_batch_5.bin (training) and test_batch.bin, each a run of
//   3,073-byte records: 1 label byte (0..9), then 3,072 pixel bytes (the 32x32 red plane, then
//   green, then blue, each row-major); class names in batches.meta.txt, one per line.
// - CIFAR-100: train.bin and test.bin, 3,074-byte records: a coarse label byte (0..19), a fine
//   label byte (0..99), then the 3,072 pixel bytes; names in coarse_label_names.txt and
//   fine_label_names.txt.
// Read from the extracted folder (cifar.ts) or straight from the .tar.gz here (fflate's gunzip and
// nanotar's tar parser). Pure: no file system, so a browser build can reuse it.
import { gunzipSync } from 'fflate';
import { parseTar, type ParsedTarFileItem } from 'nanotar';
import {
  CIFAR_PIXELS, CIFAR_SIZE, CIFAR10_CLASSES, CIFAR100_COARSE_CLASSES, CIFAR100_FINE_CLASSES,
  checkCifarName, type CifarName, type CifarOptions, type ImageDataset, type ImageSet,
} from './cifar-format.js';

/** File names and record layout of one binary distribution. */
export interface CifarBinaryLayout {
  /** Training batch files, in the order their records are concatenated. */
  train: string[];
  /** Test batch files. */
  test: string[];
  /** Label bytes before the pixels of each record (CIFAR-10: 1; CIFAR-100: 2, coarse then fine). */
  labelBytes: 1 | 2;
  /** The folder the official archive extracts to. */
  folder: string;
  /** The official archive's file name. */
  archive: string;
}

/** The layouts of the two official binary distributions. */
export const CIFAR_BINARY: Record<CifarName, CifarBinaryLayout> = {
  cifar10: {
    train: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`),
    test: ['test_batch.bin'],
    labelBytes: 1,
    folder: 'cifar-10-batches-bin',
    archive: 'cifar-10-binary.tar.gz',
  },
  cifar100: {
    train: ['train.bin'],
    test: ['test.bin'],
    labelBytes: 2,
    folder: 'cifar-100-binary',
    archive: 'cifar-100-binary.tar.gz',
  },
};

/** A file found by name: its bytes and how to name it in errors. */
export interface NamedBytes {
  /** The file's contents. */
  bytes: Uint8Array;
  /** Its path (or archive:entry) for error messages. */
  name: string;
}

/** Looks a distribution file up by its base name (e.g. 'test_batch.bin'); undefined when absent. */
export type FileLookup = (file: string) => NamedBytes | undefined;

/** Class names of one label kind: the count expected, the meta file that may hold them, the known list. */
function labelKinds(dataset: CifarName): { file: string; names: readonly string[] }[] {
  return dataset === 'cifar10'
    ? [{ file: 'batches.meta.txt', names: CIFAR10_CLASSES }]
    : [{ file: 'coarse_label_names.txt', names: CIFAR100_COARSE_CLASSES }, { file: 'fine_label_names.txt', names: CIFAR100_FINE_CLASSES }];
}

/** Class names from a meta file (one per line, blank lines ignored) when present, else the known list. */
function classNamesFrom(lookup: FileLookup, file: string, known: readonly string[]): string[] {
  const found = lookup(file);
  if (!found) return [...known];
  const names = new TextDecoder().decode(found.bytes).split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  if (names.length !== known.length) {
    throw new Error(`${found.name}: ${names.length} class names, expected ${known.length} (one per line)`);
  }
  return names;
}

/** The number of records in a batch file, checking that its size is a whole number of records. */
function recordCount(file: NamedBytes, labelBytes: number): number {
  const { bytes, name } = file;
  const record = labelBytes + CIFAR_PIXELS;
  const what = labelBytes === 1
    ? `${record}-byte records (1 label byte + ${CIFAR_PIXELS} pixel bytes)`
    : `${record}-byte records (coarse and fine label bytes + ${CIFAR_PIXELS} pixel bytes)`;
  if (bytes.length === 0) throw new Error(`${name}: empty file, expected ${what}; download the data set again`);
  if (bytes.length % record !== 0) {
    throw new Error(`${name}: ${bytes.length} bytes is not a whole number of ${what}: ` +
      `${Math.floor(bytes.length / record)} records and ${bytes.length % record} bytes left over, so the file is truncated ` +
      `or not this data set's format; download it again`);
  }
  return bytes.length / record;
}

/**
 * Copies the records of one batch file into `out` from image `first` on. Label byte `j` of every
 * record must be below `classCounts[j]`; `use` picks which label byte becomes the label.
 */
function parseBatch(file: NamedBytes, labelBytes: number, classCounts: number[], use: number, out: ImageSet, first: number): void {
  const { bytes, name } = file;
  const record = labelBytes + CIFAR_PIXELS;
  const n = bytes.length / record;
  for (let i = 0; i < n; i++) {
    const at = i * record;
    for (let j = 0; j < labelBytes; j++) {
      const v = bytes[at + j]!;
      if (v >= classCounts[j]!) {
        const kind = labelBytes === 1 ? 'label' : j === 0 ? 'coarse label' : 'fine label';
        throw new Error(`${name}: record ${i} (byte offset ${at + j}): ${kind} byte ${v} is out of range (expected 0..${classCounts[j]! - 1}); ` +
          `the file is corrupt or not this data set's format`);
      }
    }
    out.labels[first + i] = bytes[at + use]!;
    out.pixels.set(bytes.subarray(at + labelBytes, at + record), (first + i) * CIFAR_PIXELS);
  }
}

/** Reads the batches of one split into one ImageSet (sizes checked before anything is copied). */
function readSplit(lookup: FileLookup, files: string[], missing: (file: string) => Error, labelBytes: number, classCounts: number[], use: number): ImageSet {
  const found = files.map((f) => {
    const file = lookup(f);
    if (!file) throw missing(f);
    return { file, n: recordCount(file, labelBytes) };
  });
  const n = found.reduce((a, f) => a + f.n, 0);
  const out: ImageSet = { n, channels: 3, height: CIFAR_SIZE, width: CIFAR_SIZE, pixels: new Uint8Array(n * CIFAR_PIXELS), labels: new Uint8Array(n) };
  let first = 0;
  for (const f of found) {
    parseBatch(f.file, labelBytes, classCounts, use, out, first);
    first += f.n;
  }
  return out;
}

/**
 * Reads a binary distribution through `lookup` (files by base name). `source` names the folder or
 * archive (errors, `ImageDataset.source`). Throws on a missing file, a truncated batch or a label
 * byte out of range, naming the file and record.
 */
export function cifarBinaryDataset(lookup: FileLookup, dataset: CifarName, options: CifarOptions, source: string): ImageDataset {
  checkCifarName(dataset);
  const layout = CIFAR_BINARY[dataset];
  const label = options.label ?? 'fine';
  if (label !== 'fine' && label !== 'coarse') throw new Error(`unknown label kind '${label}' (expected fine or coarse)`);
  if (dataset === 'cifar10' && label === 'coarse') throw new Error(`CIFAR-10 has no coarse labels (label: 'coarse' is for cifar100)`);
  const kinds = labelKinds(dataset);
  const use = dataset === 'cifar100' && label === 'fine' ? 1 : 0;
  const classNames = classNamesFrom(lookup, kinds[use]!.file, kinds[use]!.names);
  const counts = kinds.map((k) => k.names.length);
  const all = [...layout.train, ...layout.test];
  const missing = (file: string) => new Error(`${source}: missing ${file} (the ${dataset === 'cifar10' ? 'CIFAR-10' : 'CIFAR-100'} binary distribution ` +
    `${layout.archive} holds ${all.join(', ')} in ${layout.folder}/); download it again`);
  const train = readSplit(lookup, layout.train, missing, layout.labelBytes, counts, use);
  const test = readSplit(lookup, layout.test, missing, layout.labelBytes, counts, use);
  return { train, test, classNames, source: dataset === 'cifar100' ? `${source} (${label} labels)` : source };
}

/** True for gzip's signature (1f 8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** True for a POSIX (ustar) tar header: 'ustar' at offset 257. */
export function isTar(bytes: Uint8Array): boolean {
  return bytes.length >= 262 && String.fromCharCode(...bytes.subarray(257, 262)) === 'ustar';
}

/** Gunzips `bytes` with fflate; `name` is used in the error for corrupt or truncated data. */
export function gunzip(bytes: Uint8Array, name: string): Uint8Array {
  try {
    return gunzipSync(bytes);
  } catch (e) {
    throw new Error(`${name}: gzip data is corrupt or truncated (${(e as Error).message}); download it again`);
  }
}

/**
 * Reads a binary distribution straight from its tar archive (gzipped or not), as downloaded
 * (cifar-10-binary.tar.gz, cifar-100-binary.tar.gz). Files are found by base name wherever they
 * sit in the archive. `name` (the file path) is used in errors and `source`.
 */
export function cifarBinaryFromTar(bytes: Uint8Array, name: string, dataset: CifarName, options: CifarOptions = {}): ImageDataset {
  const tar = isGzip(bytes) ? gunzip(bytes, name) : bytes;
  if (!isTar(tar)) throw new Error(`${name}: not a tar archive (no ustar header); expected the ${CIFAR_BINARY[dataset]?.archive ?? 'CIFAR'} download`);
  let items: ParsedTarFileItem[];
  try {
    items = parseTar(tar) as ParsedTarFileItem[];
  } catch (e) {
    throw new Error(`${name}: the tar archive is corrupt or truncated (${(e as Error).message}); download it again`);
  }
  const byBase = new Map<string, NamedBytes>();
  for (const item of items) {
    if (item.type !== 'file' && item.type !== undefined) continue;
    const base = item.name.slice(item.name.lastIndexOf('/') + 1);
    const data = item.data ?? new Uint8Array(0);
    if (data.length !== item.size) {
      throw new Error(`${name}:${item.name}: the archive ends after ${data.length} of its ${item.size} bytes (truncated download); download it again`);
    }
    if (byBase.has(base)) throw new Error(`${name}: two entries named ${base} (${byBase.get(base)!.name} and ${item.name}); expected one data set per archive`);
    byBase.set(base, { bytes: data, name: `${name}:${item.name}` });
  }
  return cifarBinaryDataset((f) => byBase.get(f), dataset, options, name);
}
