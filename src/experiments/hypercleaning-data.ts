// The data of the hypercleaning experiment (paper section 4.2.1, after Franceschi et al. 2017):
// a training set of which half the labels are corrupted, a clean validation set and a clean test
// set, every image flattened to 784 pixels in [0, 1] plus a constant 1 (the bias feature), 785 in all.
// Everything is drawn from one seeded generator, so a seed names the same data on every run
// (which is what lets an interrupted run resume exactly).
import type { Tensor } from '../index.js';
import { mulberry32 } from '../data/random.js';
import { MNIST_CLASSES, MNIST_PIXELS, type Mnist, type MnistSplit } from '../data/mnist-format.js';
import { permutation, takeSplits } from './shared/split.js';
import { deviceExamples as sharedDeviceExamples, type DeviceExamples, type Examples } from './shared/examples.js';

/** Pixels plus the constant bias feature. */
export const FEATURES = MNIST_PIXELS + 1;

export interface DataSizes {
  /** Training examples, half of them with a corrupted label (paper: 5,000). */
  nTrain: number;
  /** Clean validation examples, the outer objective's data (drawn from MNIST's training file). */
  nVal: number;
  /** Clean test examples (the first nTest of MNIST's test file). */
  nTest: number;
}

export interface HypercleaningData {
  /** The training set as the learner sees it: half of these labels are wrong. */
  train: Examples;
  /** The true training labels. */
  cleanLabels: Uint8Array;
  /** 1 where the training label was corrupted, 0 where it is true. */
  corrupted: Uint8Array;
  val: Examples;
  test: Examples;
}

/** MNIST images at `indices` as examples: pixels / 255 and a constant 1, labels 0..9. */
function pick(split: MnistSplit, indices: ArrayLike<number>): Examples {
  const n = indices.length;
  const features = new Float32Array(n * FEATURES);
  const labels = new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    const src = indices[r]! * MNIST_PIXELS;
    const row = r * FEATURES;
    for (let j = 0; j < MNIST_PIXELS; j++) features[row + j] = split.images[src + j]! / 255;
    features[row + MNIST_PIXELS] = 1;
    labels[r] = split.labels[indices[r]!]!;
  }
  return { n, features, labels, nFeatures: FEATURES, nClasses: MNIST_CLASSES };
}

/**
 * Draws the experiment's data: a seeded shuffle of MNIST's 60,000 training images gives the
 * training set (the first nTrain) and the validation set (the next nVal); the test set is the first
 * nTest images of MNIST's test file. Then floor(nTrain / 2) training examples, chosen at random,
 * get a label drawn uniformly from the 9 wrong classes.
 */
export function makeHypercleaningData(mnist: Mnist, sizes: DataSizes, seed: number): HypercleaningData {
  const { nTrain, nVal, nTest } = sizes;
  for (const [k, v] of Object.entries(sizes)) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`hypercleaning: ${k} must be a positive integer, got ${v}`);
  }
  if (nTrain + nVal > mnist.train.count) {
    throw new Error(`hypercleaning: nTrain + nVal = ${nTrain + nVal} exceeds the ${mnist.train.count} images of MNIST's training file (${mnist.source})`);
  }
  if (nTest > mnist.test.count) {
    throw new Error(`hypercleaning: nTest = ${nTest} exceeds the ${mnist.test.count} images of MNIST's test file (${mnist.source})`);
  }
  const random = mulberry32(seed);
  const [trainRows, valRows] = takeSplits(permutation(mnist.train.count, random), [nTrain, nVal], 'hypercleaning');
  const train = pick(mnist.train, trainRows!);
  const val = pick(mnist.train, valRows!);
  const test = pick(mnist.test, Array.from({ length: nTest }, (_, i) => i));

  const cleanLabels = train.labels.slice();
  const corrupted = new Uint8Array(nTrain);
  const flips = permutation(nTrain, random).subarray(0, Math.floor(nTrain / 2));
  for (const i of flips) {
    // A different class, uniform over the other nine.
    train.labels[i] = (cleanLabels[i]! + 1 + Math.floor(random() * (MNIST_CLASSES - 1))) % MNIST_CLASSES;
    corrupted[i] = 1;
  }
  return { train, cleanLabels, corrupted, val, test };
}

/**
 * MNIST examples from features already on the GPU ([n, 785], taken over) and their labels 0..9
 * (the generic version is deviceExamples in ./shared/examples.ts).
 */
export function deviceExamples(x: Tensor, labels: Uint8Array): DeviceExamples {
  const n = labels.length;
  if (x.rank !== 2 || x.shape[0] !== n || x.shape[1] !== FEATURES) {
    throw new Error(`hypercleaning: features ${x.describe()} do not fit ${n} labels (expected [${n}, ${FEATURES}])`);
  }
  return sharedDeviceExamples(x, labels, MNIST_CLASSES);
}
