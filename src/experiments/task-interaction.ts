// `hypertape task-interaction`: the paper's section 4.2.2, multitask learning on CIFAR.
//   Table 3:  per data set and K, test accuracy (mean ± std over trials) at the hyperparameters
//             early stopping keeps, hyper-iterations until it stopped, seconds per
//             hyper-iteration and peak GPU bytes of a hypergradient; next to it the same linear
//             models without interaction (C = 0, rho tuned by the same loop).
//   Figure 6: validation loss, ||d_lambda f|| of the exact hypergradient and cos(h_{T-K}, d_lambda f)
//             against hyper-iteration for every K; and a heat map of the learned C.
// The problem lives in task-interaction-problem.ts, the data in task-interaction-data.ts, the
// state in task-interaction-state.ts, the tables and figures in task-interaction-report.ts.
import { Tensor, tensor, dispose, exp } from '../index.js';
import { hypergradient, Adam, norm, cosineSimilarity, type HypergradientOptions, type BilevelProblem } from '../bilevel/index.js';
import { defaultCifarSource, loadCifar, type CifarName, type ImageDataset } from '../data/cifar.js';
import { readFeatures, trialData, perClassCounts, type FeatureMatrix, type TrialData, type TrialSizes } from './task-interaction-data.js';
import {
  taskInteractionProblem, ridgeProblem, symmetrizeTheta, interactionMatrix, trainClassifier, accuracy, meanLoss,
  type TaskInteractionSettings,
} from './task-interaction-problem.js';
import { taskInteractionState, STATE_FILE, type TaskInteractionState, type TaskRun, type SavedLambda, type TaskStateSettings } from './task-interaction-state.js';
import { innerStability } from './task-interaction-stability.js';
import { taskInteractionResults, taskInteractionSummary, taskInteractionFigures, type TaskInteractionResults } from './task-interaction-report.js';
import { toDevice, disposeExamples, type DeviceExamples } from './shared/examples.js';
import { hyperIterate, recordPeaks } from './shared/loop.js';
import { openState, saveState, commandFor, resumeCommand, resumeOptions, fingerprint } from './shared/state.js';
import { defineExperiment, UsageError, type OptionValues, type RunContext, type ExperimentReport } from './registry.js';
import { formatNumber } from './report.js';
import type { Progress } from './progress.js';

const DATASETS: readonly CifarName[] = ['cifar10', 'cifar100'];

const options = {
  dataset: { type: 'string', default: 'cifar10', help: 'cifar10, cifar100, or both: cifar10,cifar100 (one Table 3 block and one Figure 6 row each)' },
  dataDir: {
    type: 'string', default: '',
    help: 'where each data set is: the official binary .tar.gz, its extracted folder, or an image-folder zip or folder; comma-separated, one per --dataset (default for cifar10: the shared 10,000 + 10,000 image subset; cifar100 has no default)',
  },
  features: {
    type: 'string', default: '',
    help: 'precomputed features instead of pixels: a NumPy .npy file, float32 or float64, shape [N_train + N_test, D], rows = the training images then the test images in the reader\'s order; comma-separated, one per --dataset',
  },
  trainPerClass: { type: 'int', min: 0, default: 0, help: 'training images per class (0: 50 for cifar10, 20 for cifar100)' },
  valPerClass: { type: 'int', min: 0, default: 0, help: 'validation images per class, drawn from the training split too (0: 50 for cifar10, 20 for cifar100)' },
  featureNorm: { type: 'number', min: 0, default: 10, help: 'after per-feature standardization, features are scaled so that a training vector\'s root-mean-square norm is this' },
  T: { type: 'int', min: 1, default: 100, help: 'inner gradient-descent steps' },
  gamma: { type: 'number', min: 0, default: 0.1, help: 'inner step size' },
  K: { type: 'ints', min: 1, default: [1, 5, 25, 100], help: 'truncation depths, one run each per trial (K = T is full RMD)' },
  trials: { type: 'int', min: 1, default: 10, quick: 2, help: 'trials, each with its own random training and validation subsets' },
  hyperIterations: { type: 'int', min: 1, default: 2000, quick: 20, help: 'at most this many hyper-iterations (Adam steps) per run' },
  patience: { type: 'int', min: 1, default: 50, quick: 6, help: 'early stopping: a run stops when the validation loss has not improved by --min-delta for this many hyper-iterations' },
  minDelta: { type: 'number', min: 0, default: 1e-4, help: 'early stopping: the improvement of the validation loss that counts' },
  outerLr: { type: 'number', min: 0, default: 0.1, quick: 0.2, help: 'Adam\'s step size on theta (C = exp of its symmetric part) and log rho' },
  c0: { type: 'number', min: 0, default: 1e-3, help: 'initial value of every C_ij' },
  rho0: { type: 'number', min: 0, default: 1e-3, help: 'initial rho' },
  exactEvery: { type: 'int', min: 1, default: 10, quick: 5, help: 'Figure 6 computes the exact hypergradient (full RMD) every this-many hyper-iterations of trial 0' },
  ...resumeOptions(10, 5),
} as const;

/** The parsed options of `hypertape task-interaction`. */
export type TaskInteractionOptions = OptionValues<typeof options>;

const DESCRIPTION = `
Section 4.2.2: multitask learning as a bilevel problem. One linear model w_v per class (the rows
of W, V x (D + 1) with a bias feature) of a multi-class logistic regression, coupled by a
learned symmetric, nonnegative task-similarity matrix C:
  inner  g(W, {C, rho}) = mean training cross-entropy + sum_ij C_ij ||w_i - w_j||^2 + rho sum_v ||w_v||^2
  outer  f(W) = mean validation cross-entropy
W_0 = 0, T = 100 steps of gradient descent with step 0.1 (the paper's). The coupling is computed as
2 tr(W^T L W) with the Laplacian L = diag(C 1) - C (equal for symmetric C; one small matrix
product instead of V^2 norms). Each trial draws its own training and validation images; each K
runs its own hyper-iterations from the same start with K-RMD hypergradients (K = T: full RMD).

Table 3: test accuracy (mean ± std over the trials) at the lambda early stopping keeps, the
number of hyper-iterations until it stopped (mean over trials), seconds per hyper-iteration
(hypergradient and update; Figure 6's extra work excluded) and the peak GPU bytes of one
hypergradient. Reference: C = 0 (no task interaction) with rho tuned by the same outer loop and
stopping rule (its hypergradient by forward mode: one hyperparameter).
Figure 6 (trial 0): validation loss, ||d_lambda f|| of the exact hypergradient and cos(h_{T-K},
d_lambda f), every --exact-every hyper-iterations, for every K; a heat map of the learned C
(largest K), classes named.

Choices the paper leaves open:
- Features: the paper's predecessor used a pretrained network's features, which hypertape cannot
  ship. Default: the pixels (3,072), standardized per feature on the trial's training images and
  scaled to root-mean-square norm --feature-norm (10: near the lowest C = 0 validation loss, at
  11, among norms 1, 2.8, 5.5, 11, 17, 28, 55 on CIFAR-10 with 50 + 50 images per class), plus
  a bias feature. --features FILE.npy takes
  precomputed ones (same standardization and scale).
- Subsets: 50 training + 50 validation images per class for CIFAR-10, 20 + 20 for CIFAR-100,
  drawn from the training split, seeded per trial; test accuracy on the whole test split.
- Parametrization: C = exp((theta + theta^T) / 2), rho = exp(log rho). Symmetric and positive
  by construction, so the optimizer needs no projection onto a boundary, and Adam's steps are
  relative changes (C_ij and rho range over orders of magnitude). After each step theta is
  replaced by its symmetric part (C unchanged). C_ii cancels in L and is never learned.
- Outer optimizer: Adam (step --outer-lr) from C_ij = --c0 and rho = --rho0. Stopping rule:
  early stopping on the validation loss f(lambda_tau) (computed exactly with every hypergradient,
  whatever K): a run stops once f has not improved by --min-delta for --patience
  hyper-iterations, or at --hyper-iterations, and keeps its best lambda.

--quick: 2 trials, at most 20 hyper-iterations with patience 6 and Adam step 0.2, the exact
hypergradient every 5; data sizes, T, gamma and K unchanged.
The run saves its state (${STATE_FILE}) every --checkpoint-every hyper-iterations; after an
interrupt, run the same command with --resume <its output folder> to continue it there. A first
Ctrl-C saves the state after the hyper-iteration in progress, prints the command that resumes,
and exits with code 130; a second one exits at once. CIFAR-100 needs the official download:
https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz, passed with --data-dir.`;

/** Hooks for tests: called after each save of the state (a throw there simulates an interrupt). */
export interface TaskInteractionHooks {
  onSaved?: (state: TaskInteractionState) => void;
}

/** The data sets of --dataset, in order. */
export function parseDatasets(value: string): CifarName[] {
  const names = value.split(',').map((s) => s.trim().toLowerCase());
  for (const n of names) {
    if (!(DATASETS as readonly string[]).includes(n)) {
      throw new UsageError(`--dataset: unknown data set '${n}'; expected cifar10, cifar100 or cifar10,cifar100.`);
    }
  }
  if (new Set(names).size !== names.length) throw new UsageError(`--dataset lists a data set twice: ${value}.`);
  return names as CifarName[];
}

/** A comma-separated per-data-set list (empty: none for any). */
function perDataset(flag: string, value: string, datasets: readonly CifarName[]): string[] {
  if (value === '') return datasets.map(() => '');
  const parts = value.split(',');
  if (parts.length !== datasets.length) {
    throw new UsageError(`--${flag} gives ${parts.length} path(s) for ${datasets.length} data set(s) (${datasets.join(', ')}); give one per --dataset entry, comma-separated, in the same order.`);
  }
  return parts;
}

function validate(o: TaskInteractionOptions): void {
  const datasets = parseDatasets(o.dataset);
  perDataset('data-dir', o.dataDir, datasets);
  perDataset('features', o.features, datasets);
  const bad = o.K.filter((k) => k > o.T);
  if (bad.length) throw new UsageError(`--K values must be at most --T = ${o.T}; got ${bad.join(', ')}.`);
  if (new Set(o.K).size !== o.K.length) throw new UsageError(`--K lists a value twice: ${o.K.join(',')}.`);
  if (!(o.c0 > 0) || !(o.rho0 > 0)) throw new UsageError(`--c0 and --rho0 must be positive (they are exp of the parameters), got ${o.c0} and ${o.rho0}.`);
}

/** Per-class subset sizes and feature scale of a data set. */
function sizesFor(o: TaskInteractionOptions, dataset: CifarName): TrialSizes {
  return { ...perClassCounts(o.trainPerClass, o.valPerClass, dataset), featureNorm: o.featureNorm };
}

/** Options that change the numbers; a resumed run must be given the same ones. */
function numericSettings(o: TaskInteractionOptions): TaskStateSettings & Record<string, unknown> {
  const { resume: _r, checkpointEvery: _c, dataDir: _d, features: _f, dataset: _s, ...rest } = o;
  return { ...rest, datasets: parseDatasets(o.dataset) };
}

/** One data set as read: images, optional features, where from. */
interface LoadedData {
  name: CifarName;
  images: ImageDataset;
  features: FeatureMatrix | null;
}

async function loadData(o: TaskInteractionOptions, ctx: RunContext): Promise<LoadedData[]> {
  const datasets = parseDatasets(o.dataset);
  const dirs = perDataset('data-dir', o.dataDir, datasets);
  const featureFiles = perDataset('features', o.features, datasets);
  const out: LoadedData[] = [];
  for (let i = 0; i < datasets.length; i++) {
    const name = datasets[i]!;
    const path = dirs[i] || defaultCifarSource(name);
    ctx.log(`Reading ${name} from ${path}.`);
    const images = await loadCifar(path, name);
    const features = featureFiles[i] ? readFeatures(featureFiles[i]!, images) : null;
    out.push({ name, images, features });
  }
  return out;
}

function dataFingerprint(data: LoadedData[]): string {
  return fingerprint(...data.flatMap((d) => [
    d.images.train.labels, d.images.test.labels, d.images.train.pixels, d.images.test.pixels, ...(d.features ? [d.features.values] : []),
  ]));
}

/** One trial of one data set on the GPU. */
class Trial {
  readonly train: DeviceExamples;
  readonly val: DeviceExamples;
  readonly test: DeviceExamples;
  readonly V: number;

  constructor(readonly data: TrialData, readonly settings: TaskInteractionSettings) {
    this.train = toDevice(data.train);
    this.val = toDevice(data.val);
    this.test = toDevice(data.test);
    this.V = data.train.nClasses;
  }

  dispose(): void {
    for (const e of [this.train, this.val, this.test]) disposeExamples(e);
  }
}

type AnyLambda = { theta?: Tensor; logRho: Tensor };

function toTensors(l: SavedLambda, V: number): AnyLambda {
  const logRho = tensor(new Float32Array([l.logRho]), []);
  return l.theta.length ? { theta: tensor(Float32Array.from(l.theta), [V, V]), logRho } : { logRho };
}

async function toSaved(l: AnyLambda): Promise<SavedLambda> {
  return { theta: l.theta ? Array.from(await l.theta.data()) : [], logRho: (await l.logRho.data())[0]! };
}

function disposeLambda(l: AnyLambda): void {
  dispose([l.theta ?? null, l.logRho]);
}

/** A fresh run record: lambda_0 = (C_ij = c0, rho = rho0), or rho0 alone for K = 0. */
function newRun(o: TaskInteractionOptions, dataset: string, trial: number, K: number, V: number): TaskRun {
  const lambda = { theta: K === 0 ? [] : new Array(V * V).fill(Math.log(o.c0)), logRho: Math.log(o.rho0) };
  return {
    dataset, trial, K, tau: 0, seconds: [], peakBytes: 0, peakBytesTotal: 0,
    lambda, adam: { tau: 0, m: null, v: null }, best: { ...lambda, tau: 0, valLoss: NaN }, valLoss: [], exact: [],
  };
}

/** Early stopping: no improvement over the last `patience` hyper-iterations. */
function stopped(o: TaskInteractionOptions, run: TaskRun): boolean {
  return run.tau > 0 && run.tau - 1 - run.best.tau >= o.patience;
}

/** One run: hyper-iterations from wherever `run` stands until the stopping rule; then its metrics at the best lambda. */
async function optimize(
  trial: Trial, o: TaskInteractionOptions, ctx: RunContext, state: TaskInteractionState, run: TaskRun, save: () => void, progress: Progress,
): Promise<void> {
  const problem: BilevelProblem<Tensor, any> = run.K === 0 ? ridgeProblem(trial.train, trial.val, trial.settings) : taskInteractionProblem(trial.train, trial.val, trial.settings);
  const method: HypergradientOptions = run.K === 0 ? { method: 'fmd' } : run.K === o.T ? { method: 'rmd' } : { method: 'krmd', K: run.K };
  const adam = new Adam<any>({ lr: o.outerLr, ...(run.K === 0 ? {} : { project: symmetrizeTheta }) });
  let lambda = toTensors(run.lambda, trial.V);
  if (run.adam.m) adam.restore(run.adam, lambda);
  else adam.tau = run.adam.tau;
  const figure = run.trial === 0 && run.K > 0;
  const tag = `${run.dataset} trial ${run.trial} ${run.K === 0 ? 'C = 0' : `K = ${run.K}`}`;
  const startTau = run.tau;
  try {
    await hyperIterate({
      run,
      hyperIterations: o.hyperIterations,
      checkpointEvery: o.checkpointEvery,
      done: () => stopped(o, run),
      step: async (tau, time) => {
        const { h, next } = await time(async () => {
          const h = await hypergradient(problem, lambda, method);
          return { h, next: adam.step(lambda, h.grad) as AnyLambda };
        });
        recordPeaks(run, h.stats);
        run.valLoss.push(h.value);
        if (Number.isNaN(run.best.valLoss) || h.value < run.best.valLoss - o.minDelta) run.best = { ...(await toSaved(lambda)), tau, valLoss: h.value };
        if (figure && tau % o.exactEvery === 0) {
          if (run.K === o.T) run.exact.push({ tau, norm: await norm(h.grad), cosine: 1 });
          else {
            const exact = await hypergradient(problem, lambda, { method: 'rmd' });
            run.exact.push({ tau, norm: await norm(exact.grad), cosine: await cosineSimilarity(h.grad, exact.grad) });
            disposeLambda(exact.grad);
          }
        }
        disposeLambda(lambda);
        disposeLambda(h.grad);
        lambda = next;
        return `${tag}: f = ${formatNumber(h.value)}`;
      },
      persist: async () => {
        run.lambda = await toSaved(lambda);
        run.adam = await adam.save();
      },
      save,
      progress,
      stop: { signal: ctx.signal, dir: ctx.out, resumeCommand: resumeCommand(state, ctx.out), label: tag },
    });
    // The hyper-iterations the stopping rule spared count as done for the progress display.
    progress.tick(o.hyperIterations - run.tau);
    run.lambda = await toSaved(lambda);
    run.adam = await adam.save();
    const best = toTensors(run.best, trial.V);
    const C = best.theta ? interactionMatrix(best.theta) : null;
    const rhoT = exp(best.logRho);
    const W = trainClassifier(C, rhoT, trial.train, trial.settings);
    run.final = {
      testAcc: await accuracy(W, trial.test), valAcc: await accuracy(W, trial.val), valLoss: await meanLoss(W, trial.val), rho: Math.exp(run.best.logRho),
    };
    // The reference is only a reference if its classifier is trained stably: check its inner loop.
    if (run.K === 0) run.final.stability = await innerStability(trial.train, trial.data.train, run.final.rho, trial.settings);
    dispose([W, C, rhoT]);
    disposeLambda(best);
    save();
    ctx.log(`${tag}: stopped after ${run.tau} hyper-iterations (${run.tau - startTau} this session), best f = ${formatNumber(run.best.valLoss)} at ${run.best.tau}; ` +
      `test acc ${(100 * run.final.testAcc).toFixed(2)} %`);
  } finally {
    disposeLambda(lambda);
    adam.dispose();
  }
}

/** The experiment, with test hooks; the registry's `run` calls it without. */
export async function runTaskInteraction(o: TaskInteractionOptions, ctx: RunContext, hooks: TaskInteractionHooks = {}): Promise<ExperimentReport<TaskInteractionResults>> {
  validate(o);
  const data = await loadData(o, ctx);
  const settings = numericSettings(o);
  const { resume: _r, ...flags } = o;
  const command = commandFor('task-interaction', ctx.quick, ctx.seed, flags);
  const state = openState(taskInteractionState, { out: ctx.out, resume: o.resume, quick: ctx.quick, command },
    { seed: ctx.seed, settings, dataFingerprint: dataFingerprint(data), dataHint: 'the data (and features) of this run' }, {});
  if (o.resume) ctx.log(`Resuming ${o.resume}: ${state.runs.filter((r) => r.final).length} of ${data.length * o.trials * (o.K.length + 1)} runs finished.`);
  const inner: TaskInteractionSettings = { T: o.T, gamma: o.gamma };
  const save = () => {
    saveState(ctx.out, state);
    ctx.checkpoint(taskInteractionResults(o, state, data.map((d) => d.images)));
    hooks.onSaved?.(state);
  };
  const Ks = [0, ...o.K];
  const progress = ctx.progress('task-interaction', data.length * o.trials * Ks.length * o.hyperIterations,
    state.runs.reduce((a, r) => a + (r.final ? o.hyperIterations : r.tau), 0));
  for (const d of data) {
    for (let t = 0; t < o.trials; t++) {
      const pending = Ks.filter((K) => !state.runs.find((r) => r.dataset === d.name && r.trial === t && r.K === K)?.final);
      if (!pending.length) continue;
      const trial = new Trial(trialData(d.images, d.features, sizesFor(o, d.name), ctx.seed, t), inner);
      try {
        for (const K of pending) {
          let run = state.runs.find((r) => r.dataset === d.name && r.trial === t && r.K === K);
          if (!run) {
            run = newRun(o, d.name, t, K, trial.V);
            state.runs.push(run);
          }
          await optimize(trial, o, ctx, state, run, save, progress);
        }
      } finally {
        trial.dispose();
      }
    }
  }
  progress.done();
  const results = taskInteractionResults(o, state, data.map((d) => d.images));
  return { results, summary: taskInteractionSummary(o, results), figures: taskInteractionFigures(o, results) };
}

/** `hypertape task-interaction`, as the command's registry lists it. */
export const taskInteraction = defineExperiment({
  name: 'task-interaction',
  summary: 'Table 3 and Figure 6 of the paper: task interaction (multitask learning) on CIFAR with K-RMD (section 4.2.2)',
  description: DESCRIPTION,
  options,
  validate,
  run: (o, ctx) => runTaskInteraction(o, ctx),
});
