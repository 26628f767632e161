// Labelled examples for the experiments' classifiers: on the CPU as a row-major feature matrix
// and class labels, and on the GPU as the features X [n, d] and the one-hot labels as columns,
// Y^T [C, n] (a linear model's scores W X^T are [C, n], one column per example). Generic over
// the number of features d and of classes C.
import { tensor, oneHot, transpose, tidy, dispose, type Tensor } from '../../index.js';

/** Examples on the CPU: row-major features [n, nFeatures] and labels 0..nClasses-1. */
export interface Examples {
  n: number;
  /** Row-major [n, nFeatures]. */
  features: Float32Array;
  /** Class of each example, 0..nClasses-1 (so at most 256 classes). */
  labels: Uint8Array;
  nFeatures: number;
  nClasses: number;
}

/** Checks the sizes of a set of examples and returns it; errors name `what`. */
export function examples(what: string, e: Examples): Examples {
  const { n, nFeatures, nClasses } = e;
  if (!Number.isInteger(n) || n < 0) throw new Error(`${what}: n must be a nonnegative integer, got ${n}`);
  if (!Number.isInteger(nFeatures) || nFeatures < 1) throw new Error(`${what}: nFeatures must be a positive integer, got ${nFeatures}`);
  if (!Number.isInteger(nClasses) || nClasses < 1 || nClasses > 256) throw new Error(`${what}: nClasses must be an integer in [1, 256], got ${nClasses}`);
  if (e.features.length !== n * nFeatures) throw new Error(`${what}: ${e.features.length} feature values do not fit ${n} examples of ${nFeatures} features (expected ${n * nFeatures})`);
  if (e.labels.length !== n) throw new Error(`${what}: ${e.labels.length} labels for ${n} examples`);
  for (let i = 0; i < n; i++) {
    if (e.labels[i]! >= nClasses) throw new Error(`${what}: example ${i} has label ${e.labels[i]}, expected 0..${nClasses - 1}`);
  }
  return e;
}

/** The examples at `indices` (in that order), copied. */
export function selectRows(e: Examples, indices: ArrayLike<number>): Examples {
  const n = indices.length;
  const d = e.nFeatures;
  const features = new Float32Array(n * d);
  const labels = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    const i = indices[r]!;
    if (!Number.isInteger(i) || i < 0 || i >= e.n) throw new Error(`selectRows: index ${i} (position ${r}) is outside the ${e.n} examples`);
    features.set(e.features.subarray(i * d, (i + 1) * d), r * d);
    labels[r] = e.labels[i]!;
  }
  return { n, features, labels, nFeatures: d, nClasses: e.nClasses };
}

/** Per-feature mean and standard deviation of a reference set, to standardize others with. */
export interface Standardizer {
  mean: Float64Array;
  /** Standard deviations, with features that are constant in the reference set given 1. */
  std: Float64Array;
  /** (x - mean) / std for every feature of every example, as a new set. */
  apply(e: Examples): Examples;
}

/**
 * Standardization fitted on `reference` (the training set: statistics from it only, so no
 * validation or test information leaks into the features).
 */
export function fitStandardizer(reference: Examples): Standardizer {
  const d = reference.nFeatures;
  const n = reference.n;
  if (n < 1) throw new Error('fitStandardizer: the reference set is empty');
  const mu = new Float64Array(d);
  const sd = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mu[j] += reference.features[i * d + j]!;
  for (let j = 0; j < d; j++) mu[j] /= n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) sd[j] += (reference.features[i * d + j]! - mu[j]!) ** 2;
  for (let j = 0; j < d; j++) sd[j] = Math.sqrt(sd[j]! / n) || 1;
  return {
    mean: mu,
    std: sd,
    apply(e) {
      if (e.nFeatures !== d) throw new Error(`standardize: examples have ${e.nFeatures} features, the standardizer was fitted on ${d}`);
      const features = new Float32Array(e.features.length);
      for (let i = 0; i < e.n; i++) for (let j = 0; j < d; j++) features[i * d + j] = (e.features[i * d + j]! - mu[j]!) / sd[j]!;
      return { ...e, features, labels: e.labels.slice() };
    },
  };
}

/** Examples on the GPU: features X [n, d] and the one-hot labels as columns, Y^T [C, n]. */
export interface DeviceExamples {
  n: number;
  x: Tensor;
  yT: Tensor;
  labels: Uint8Array;
}

/** Uploads examples to the GPU (dispose with disposeExamples). */
export function toDevice(e: Examples): DeviceExamples {
  return deviceExamples(tensor(e.features, [e.n, e.nFeatures]), e.labels, e.nClasses);
}

/** Examples from features already on the GPU ([n, d], taken over) and their labels 0..nClasses-1. */
export function deviceExamples(x: Tensor, labels: Uint8Array, nClasses: number): DeviceExamples {
  const n = labels.length;
  if (x.rank !== 2 || x.shape[0] !== n) {
    throw new Error(`deviceExamples: features ${x.describe()} do not fit ${n} labels (expected [${n}, features])`);
  }
  const yT = tidy(() => transpose(oneHot(tensor(Int32Array.from(labels), [n], 'i32'), nClasses)));
  return { n, x, yT, labels };
}

/** Frees the GPU buffers of examples. */
export function disposeExamples(e: DeviceExamples): void {
  dispose([e.x, e.yT]);
}
