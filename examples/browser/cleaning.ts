// The demo's second section: data hypercleaning (paper section 4.2.1) on a small MNIST subset that
// the demo server writes next to the page (scripts/mnist-subset.mjs). The problem is the one
// `hypertape hypercleaning` solves (src/experiments/hypercleaning-problem.ts), here with fewer
// examples and hyper-iterations (T is the paper's 100) so that it finishes in well under a minute
// on a software GPU. Afterwards the page draws the training images that cleaning flags, with their (possibly
// wrong) label and a border telling whether the label really was corrupted.
import { tensor, dispose, type Tensor } from '../../src/browser.js';
import { hypergradient, SGD } from '../../src/bilevel/index.js';
import { deviceExamples, FEATURES } from '../../src/experiments/hypercleaning-data.js';
import { disposeExamples } from '../../src/experiments/shared/examples.js';
import { hypercleaningProblem, flagScores, FLAG_THRESHOLD, type HypercleaningSettings } from '../../src/experiments/hypercleaning-problem.js';
import { MNIST_ROWS, MNIST_COLS, MNIST_PIXELS } from '../../src/data/mnist-format.js';

export const CLEANING = {
  settings: { T: 100, gamma: 1, rho: 0.001 } satisfies HypercleaningSettings,
  K: 5,
  hyperIterations: 15,
  /** lambda <- lambda - (outerStep * nTrain) d_lambda f, constant: `hypertape hypercleaning`'s default. */
  outerStep: 2,
  /** When no lambda_i has crossed the threshold yet, the grid shows this many lowest lambda_i. */
  lowest: 32,
  /** At most this many images in the grid. */
  gridMax: 105,
};

/** What the section shows, published in window.hypertapeDemo.cleaning for the browser test. */
export interface CleaningState {
  done: boolean;
  hyperIterations: number;
  nTrain?: number;
  nVal?: number;
  iterations: { valLoss: number; ms: number }[];
  /** 'threshold': lambda_i < -3; 'lowest': no lambda_i crossed it, so the lowest ones are shown. */
  rule?: 'threshold' | 'lowest';
  flagged?: number;
  shown?: number;
  precision?: number;
  recall?: number;
  /** Training labels flipped in the subset (the positives). */
  corrupted?: number;
}

interface Subset {
  nTrain: number;
  nVal: number;
  trainFeatures: Float32Array;
  valFeatures: Float32Array;
  trainLabels: Uint8Array;
  valLabels: Uint8Array;
  corrupted: Uint8Array;
}

async function fetchSubset(): Promise<Subset> {
  const headerResponse = await fetch('./mnist-subset.json');
  if (!headerResponse.ok) {
    throw new Error(`hypercleaning: ./mnist-subset.json: HTTP ${headerResponse.status}. The demo server writes it (npm run demo); a plain static copy of dist/demo needs \`node -e "import('./scripts/mnist-subset.mjs').then(m => m.writeMnistSubset('dist/demo'))"\` first.`);
  }
  const h = await headerResponse.json() as { nTrain: number; nVal: number; features: number; offsets: Record<string, number>; bytes: number };
  if (h.features !== FEATURES) throw new Error(`hypercleaning: mnist-subset.json has ${h.features} features per example, expected ${FEATURES}`);
  const binResponse = await fetch('./mnist-subset.bin');
  if (!binResponse.ok) throw new Error(`hypercleaning: ./mnist-subset.bin: HTTP ${binResponse.status}`);
  const buffer = await binResponse.arrayBuffer();
  if (buffer.byteLength !== h.bytes) throw new Error(`hypercleaning: mnist-subset.bin has ${buffer.byteLength} bytes, its header says ${h.bytes}`);
  const o = h.offsets;
  return {
    nTrain: h.nTrain,
    nVal: h.nVal,
    trainFeatures: new Float32Array(buffer, o.trainFeatures, h.nTrain * FEATURES),
    valFeatures: new Float32Array(buffer, o.valFeatures, h.nVal * FEATURES),
    trainLabels: new Uint8Array(buffer, o.trainLabels, h.nTrain),
    valLabels: new Uint8Array(buffer, o.valLabels, h.nVal),
    corrupted: new Uint8Array(buffer, o.corrupted, h.nTrain),
  };
}

/** Which training examples the page flags: lambda_i < -3, or the lowest lambda_i if none is. */
function chooseFlags(lambda: Float32Array): { rule: 'threshold' | 'lowest'; indices: number[] } {
  const byLambda = Array.from(lambda.keys()).sort((a, b) => lambda[a]! - lambda[b]!);
  const below = byLambda.filter((i) => lambda[i]! < FLAG_THRESHOLD);
  return below.length ? { rule: 'threshold', indices: below } : { rule: 'lowest', indices: byLambda.slice(0, CLEANING.lowest) };
}

/** Precision and recall of flagging exactly `indices`. */
function scoresOf(indices: number[], corrupted: Uint8Array): { precision: number; recall: number } {
  const hits = indices.filter((i) => corrupted[i]).length;
  const positives = corrupted.reduce((a, b) => a + b, 0);
  return { precision: indices.length ? hits / indices.length : 0, recall: positives ? hits / positives : 0 };
}

/** The flagged images, lowest lambda first: 28x28 each, scaled 2x, label on top, red border if truly corrupted. */
function drawGrid(canvas: HTMLCanvasElement, subset: Subset, indices: number[]): void {
  const scale = 2;
  const cell = MNIST_COLS * scale + 14;
  const labelHeight = 14;
  const columns = Math.max(1, Math.floor(canvas.width / cell));
  const rows = Math.max(1, Math.ceil(indices.length / columns));
  canvas.height = rows * (cell + labelHeight) + 4;
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const image = ctx.createImageData(MNIST_COLS, MNIST_ROWS);
  const scratch = document.createElement('canvas');
  scratch.width = MNIST_COLS;
  scratch.height = MNIST_ROWS;
  const scratchCtx = scratch.getContext('2d')!;
  ctx.imageSmoothingEnabled = false;
  ctx.font = '12px system-ui, sans-serif';
  ctx.textBaseline = 'top';
  for (const [k, i] of indices.entries()) {
    const x = (k % columns) * cell + 4;
    const y = Math.floor(k / columns) * (cell + labelHeight) + 2;
    for (let p = 0; p < MNIST_PIXELS; p++) {
      const ink = 255 - Math.round(255 * subset.trainFeatures[i * FEATURES + p]!);
      image.data.set([ink, ink, ink, 255], 4 * p);
    }
    scratchCtx.putImageData(image, 0, 0);
    const wrong = subset.corrupted[i] === 1;
    ctx.fillStyle = wrong ? '#d62728' : '#2ca02c';
    ctx.fillRect(x, y + labelHeight, MNIST_COLS * scale + 6, MNIST_ROWS * scale + 6);
    ctx.drawImage(scratch, x + 3, y + labelHeight + 3, MNIST_COLS * scale, MNIST_ROWS * scale);
    ctx.fillStyle = '#1d2330';
    ctx.fillText(`label ${subset.trainLabels[i]}`, x, y);
  }
}

/** Runs the section: fetch, hyper-iterations (reporting each through `progress`), grid, scores. */
export async function runCleaning(state: CleaningState, canvas: HTMLCanvasElement, progress: (text: string) => void): Promise<void> {
  progress('Fetching the MNIST subset…');
  const subset = await fetchSubset();
  state.nTrain = subset.nTrain;
  state.nVal = subset.nVal;
  state.corrupted = subset.corrupted.reduce((a, b) => a + b, 0);
  progress(`${subset.nTrain} training images (${state.corrupted} with a corrupted label) and ${subset.nVal} validation images; first hyper-iteration…`);
  const train = deviceExamples(tensor(subset.trainFeatures, [subset.nTrain, FEATURES]), subset.trainLabels);
  const val = deviceExamples(tensor(subset.valFeatures, [subset.nVal, FEATURES]), subset.valLabels);
  const problem = hypercleaningProblem(train, val, CLEANING.settings);
  const sgd = new SGD<Tensor>({ eta0: CLEANING.outerStep * subset.nTrain, schedule: 'constant' });
  let lambda: Tensor = tensor(new Float32Array(subset.nTrain), [subset.nTrain]);
  try {
    for (let tau = 1; tau <= state.hyperIterations; tau++) {
      const h = await hypergradient(problem, lambda, { method: 'krmd', K: CLEANING.K });
      const next = sgd.step(lambda, h.grad);
      dispose([lambda, h.grad]);
      lambda = next;
      state.iterations.push({ valLoss: h.value, ms: h.stats.ms });
      progress(`Hyper-iteration ${tau} of ${state.hyperIterations}: validation loss ${h.value.toFixed(4)}, ${h.stats.ms.toFixed(0)} ms per hypergradient.`);
      await new Promise((r) => requestAnimationFrame(() => r(null)));
    }
    const values = await lambda.data() as Float32Array;
    const { rule, indices } = chooseFlags(values);
    const { precision, recall } = scoresOf(indices, subset.corrupted);
    // The threshold rule is exactly `hypertape hypercleaning`'s (flagScores); check that we agree.
    if (rule === 'threshold') {
      const reference = flagScores(values, subset.corrupted);
      if (reference.flagged !== indices.length || Math.abs(reference.precision - precision) > 1e-12) {
        throw new Error(`hypercleaning: the page flags ${indices.length} examples, flagScores ${reference.flagged}`);
      }
    }
    const shown = indices.slice(0, CLEANING.gridMax);
    drawGrid(canvas, subset, shown);
    Object.assign(state, { rule, flagged: indices.length, shown: shown.length, precision, recall });
  } finally {
    dispose(lambda);
    disposeExamples(train);
    disposeExamples(val);
  }
}
