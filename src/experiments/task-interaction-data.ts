// The data of the task-interaction experiment: per trial, a few training and validation images
// per class drawn (seeded) from the data set's training split, and the whole test split; the
// features of each image are its pixels (default) or a row of a user's precomputed-features file.
//
// Features, either way: standardized per feature with the mean and standard deviation of the
// trial's training subset (no validation or test information leaks in), then all multiplied by
// one factor so that the root-mean-square norm of a training vector is `featureNorm`, then a
// constant-1 bias feature appended. The scale matters because the paper fixes the inner problem
// (T = 100 steps of gradient descent with step 0.1): it sets how far those steps get (and keeps
// them stable: gamma times the largest curvature of the loss must stay below 2).
import { readFileSync } from 'node:fs';
import { parse as parseNpy } from 'npyjs';
import type { ImageDataset, ImageSet } from '../data/cifar.js';
import { fitStandardizer, type Examples } from './shared/examples.js';
import { perClassSplits } from './shared/split.js';
import { mulberry32 } from '../data/random.js';

/** Precomputed features: one row per image, the training split's images first, then the test split's. */
export interface FeatureMatrix {
  rows: number;
  dims: number;
  /** Row-major [rows, dims]. */
  values: Float32Array;
  /** The file it came from. */
  source: string;
}

/**
 * Reads a NumPy .npy file of features, float32 or float64, shape [N_train + N_test, D], C order,
 * rows in the data set reader's order (training images, then test images). Errors name the file.
 */
export function readFeatures(path: string, dataset: ImageDataset): FeatureMatrix {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`${path}: cannot read the features file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); --features takes a NumPy .npy file of shape [N_train + N_test, D]`);
  }
  let npy;
  try {
    npy = parseNpy(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  } catch (e) {
    throw new Error(`${path}: not a NumPy .npy file (${(e as Error).message}); --features takes a float32 or float64 .npy array of shape [N_train + N_test, D]`);
  }
  const expectedRows = dataset.train.n + dataset.test.n;
  const what = `expected float32 or float64 of shape [${expectedRows}, D]: ${dataset.train.n} training images then ${dataset.test.n} test images of ${dataset.source}, in the reader's order`;
  if (npy.dtype !== 'f4' && npy.dtype !== 'f8') throw new Error(`${path}: features of dtype '${npy.dtype}'; ${what}`);
  if (npy.fortranOrder) throw new Error(`${path}: features in Fortran order; save them in C order (numpy.ascontiguousarray); ${what}`);
  if (npy.shape.length !== 2 || npy.shape[1]! < 1) throw new Error(`${path}: features of shape [${npy.shape.join(', ')}]; ${what}`);
  const [rows, dims] = npy.shape as [number, number];
  if (rows !== expectedRows) throw new Error(`${path}: ${rows} rows of features; ${what}`);
  const values = npy.data instanceof Float32Array ? npy.data : Float32Array.from(npy.data as Float64Array);
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) throw new Error(`${path}: row ${Math.floor(i / dims)}, column ${i % dims} is ${values[i]}; features must be finite`);
  }
  return { rows, dims, values, source: path };
}

/** One trial's examples, features ready for the linear models (bias last). */
export interface TrialData {
  train: Examples;
  val: Examples;
  test: Examples;
  /** Indices into the training split of the training and validation images. */
  trainIndices: Uint32Array;
  valIndices: Uint32Array;
}

/** Images per class when the options say 0: a few dozen, as the paper's "very small subsets". */
export const DEFAULT_PER_CLASS: Record<string, number> = { cifar10: 50, cifar100: 20 };

/** Training and validation images per class of a data set (0: its default). */
export function perClassCounts(trainPerClass: number, valPerClass: number, dataset: string): { trainPerClass: number; valPerClass: number } {
  const d = DEFAULT_PER_CLASS[dataset] ?? 20;
  return { trainPerClass: trainPerClass || d, valPerClass: valPerClass || d };
}

/** Subset sizes and the feature scale of a trial. */
export interface TrialSizes {
  trainPerClass: number;
  valPerClass: number;
  featureNorm: number;
}

/** Raw features of the images at `indices` of `set`: pixels 0..255 or rows `offset + i` of a feature file. */
function rawExamples(set: ImageSet, indices: ArrayLike<number>, nClasses: number, features: FeatureMatrix | null, offset: number): Examples {
  const n = indices.length;
  const d = features ? features.dims : set.channels * set.height * set.width;
  const out = new Float32Array(n * d);
  const labels = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    const i = indices[r]!;
    if (features) out.set(features.values.subarray((offset + i) * d, (offset + i + 1) * d), r * d);
    else for (let j = 0; j < d; j++) out[r * d + j] = set.pixels[i * d + j]!;
    labels[r] = set.labels[i]!;
  }
  return { n, features: out, labels, nFeatures: d, nClasses };
}

/** x <- scale * x, then a trailing 1 (the bias feature). */
function scaleWithBias(e: Examples, scale: number): Examples {
  const d = e.nFeatures;
  const features = new Float32Array(e.n * (d + 1));
  for (let i = 0; i < e.n; i++) {
    for (let j = 0; j < d; j++) features[i * (d + 1) + j] = e.features[i * d + j]! * scale;
    features[i * (d + 1) + d] = 1;
  }
  return { ...e, features, nFeatures: d + 1 };
}

/**
 * The examples of trial `trial`: `trainPerClass` + `valPerClass` distinct training-split images of
 * every class (a seeded draw from `seed` and the trial, so each trial has its own subsets and a
 * seed names them on every run), and the whole test split.
 */
export function trialData(dataset: ImageDataset, features: FeatureMatrix | null, sizes: TrialSizes, seed: number, trial: number): TrialData {
  const V = dataset.classNames.length;
  const random = mulberry32((Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(trial + 1, 0x85ebca6b)) >>> 0);
  const [trainIndices, valIndices] = perClassSplits(dataset.train.labels, V, [sizes.trainPerClass, sizes.valPerClass], random,
    `${dataset.source}: the training split`) as [Uint32Array, Uint32Array];
  const testIndices = Uint32Array.from({ length: dataset.test.n }, (_, i) => i);
  const train = rawExamples(dataset.train, trainIndices, V, features, 0);
  const standardizer = fitStandardizer(train);
  const trainStd = standardizer.apply(train);
  let meanSquare = 0;
  for (let i = 0; i < trainStd.features.length; i++) meanSquare += trainStd.features[i]! ** 2;
  meanSquare /= trainStd.n;
  const scale = meanSquare > 0 ? sizes.featureNorm / Math.sqrt(meanSquare) : 1;
  const finish = (e: Examples) => scaleWithBias(standardizer.apply(e), scale);
  return {
    train: scaleWithBias(trainStd, scale),
    val: finish(rawExamples(dataset.train, valIndices, V, features, 0)),
    test: finish(rawExamples(dataset.test, testIndices, V, features, dataset.train.n)),
    trainIndices,
    valIndices,
  };
}
