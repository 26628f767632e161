// The bilevel problem of one sampled one-shot task (section 4.3), on the network of
// omniglot-net.ts:
//
//   inner  g_S(w, lambda) = (1/|S|) sum_{(x,y) in S} CE(nn(x; w, lambda), y) + sum_j rho_j ||w_j - c_j||^2
//   outer  f(w, lambda)   = (1/|Q|) sum_{(x,y) in Q} CE(nn(x; w, lambda), y)
//
// w_0 = c (Xi_0 depends on lambda, so full RMD has a B_0 term), then T steps of gradient descent
// w_{t+1} = w_t - gamma grad_w g_S(w_t, lambda). The paper writes g with a sum over S; the mean
// only rescales gamma and rho by |S| = k and keeps one initial gamma right for every k.
//
// Blocks 1 and 2 (lambda_l1, lambda_l2) are not adapted, so their output on S, phi = phi(lambda),
// is the same at every inner step. Recomputing it inside each step would cost more than the
// adapted blocks; instead the engine differentiates a problem whose hyperparameters are
//   mu = {phi, l1, l2, c, logRho, logGamma}
// (phi enters every step, l1 and l2 only f through Q) and the chain rule finishes the job:
//   d_lambda f = d_mu f restricted to (l1, l2, c, rho, gamma) + (d phi / d lambda)^T d_phi f.
// Every hypergradient method's result is a sum of B_t alpha_t products, each linear in B_t =
// (d Xi_t / d phi)(d phi / d lambda), so this gives exactly the hypergradient of the problem
// written with nn(x; w, lambda) inside each step, for K-RMD, full RMD and FMD alike.
import { Tensor, tensor, tidy, dispose, tensorsIn } from '../tensor.js';
import { Tape } from '../autodiff/tape.js';
import { grad } from '../autodiff/api.js';
import { add, mul, neg, sub } from '../ops/elementwise.js';
import { argmax, logSoftmax, mean, sum } from '../ops/reduce.js';
import { oneHot, reshape, slice } from '../ops/shape.js';
import { engine } from '../gpu/device.js';
import { truncationPath } from '../bilevel/truncation.js';
import { hypergradient, relativeError, type BilevelProblem, type HypergradientOptions, type HypergradientStats } from '../bilevel/index.js';
import {
  ADAPTED_LAYERS, adaptedLogits, logits, sharedFeatures, pulls, stepSize, type Adapted, type ConvBlock, type Hyper,
} from './omniglot-net.js';

/** A sampled task on the GPU: S (one image per class) and Q, images [n, 1, size, size], labels one-hot [n, k]. */
export interface TaskTensors {
  k: number;
  supportX: Tensor;
  supportY: Tensor;
  queryX: Tensor;
  queryY: Tensor;
  /** Q's labels on the CPU, for accuracies. */
  queryLabels: Uint8Array;
}

/** A task as the reader samples it (CPU arrays). */
export interface TaskArrays {
  k: number;
  size: number;
  supportX: Float32Array;
  supportY: Uint8Array;
  queryX: Float32Array;
  queryY: Uint8Array;
}

/** Uploads a sampled task. */
export function taskToDevice(t: TaskArrays): TaskTensors {
  const side = t.size;
  const images = (x: Float32Array, n: number) => tensor(x, [n, 1, side, side]);
  const labels = (y: Uint8Array) => tidy(() => oneHot(tensor(Int32Array.from(y), [y.length], 'i32'), t.k));
  return {
    k: t.k,
    supportX: images(t.supportX, t.supportY.length),
    supportY: labels(t.supportY),
    queryX: images(t.queryX, t.queryY.length),
    queryY: labels(t.queryY),
    queryLabels: t.queryY,
  };
}

/** Frees a task's GPU tensors. */
export function disposeTask(t: TaskTensors): void {
  dispose([t.supportX, t.supportY, t.queryX, t.queryY]);
}

/** Mean cross-entropy of logits [n, k] against one-hot labels [n, k]. */
export function crossEntropy(z: Tensor, y: Tensor): Tensor {
  return neg(mean(sum(mul(y, logSoftmax(z, 1)), 1)));
}

/** The problem's hyperparameters: lambda with phi, blocks 1-2 on S, alongside (see the header). */
export type Mu = { phi: Tensor; l1: ConvBlock; l2: ConvBlock; c: Adapted; logRho: Tensor; logGamma: Tensor };

/** Settings of the inner problem. */
export interface InnerSettings {
  /** Horizon T. */
  T: number;
  /** false: rho = 0 (no pull toward c; Figure 7's unregularised curve). */
  regularised: boolean;
}

/** Tensors of an adapted-weight tree in a fixed order (block3.W, block3.beta, ..., out.W, out.b). */
function layerLeaves(w: Adapted, j: number): Tensor[] {
  return tensorsIn(w[ADAPTED_LAYERS[j]!]);
}

/** sum_j rho_j ||w_j - c_j||^2. */
export function pull(w: Adapted, c: Adapted, logRho: Tensor): Tensor {
  const r = pulls({ logRho });
  let total: Tensor | null = null;
  ADAPTED_LAYERS.forEach((_, j) => {
    const cj = layerLeaves(c, j);
    const sq = layerLeaves(w, j).map((x, i) => sum(mul(sub(x, cj[i]!), sub(x, cj[i]!)))).reduce((a, b) => add(a, b));
    const term = mul(sq, reshape(slice(r, [j], [1]), []));
    total = total ? add(total, term) : term;
  });
  return total!;
}

/** g_S(w, mu) on block 2's output phi of S. */
export function innerLoss(w: Adapted, phi: Tensor, supportY: Tensor, mu: Pick<Mu, 'c' | 'logRho'>, regularised: boolean): Tensor {
  const ce = crossEntropy(adaptedLogits(phi, w), supportY);
  return regularised ? add(ce, pull(w, mu.c, mu.logRho)) : ce;
}

/**
 * Xi_{t+1}(w, mu) = w - gamma grad_w g_S(w, mu): the cross-entropy's gradient by autodiff, the
 * pull's written out as 2 rho_j (w_j - c_j).
 */
export function innerStep(w: Adapted, mu: Mu, supportY: Tensor, regularised: boolean): Adapted {
  const gce = grad((ww: Adapted) => crossEntropy(adaptedLogits(mu.phi, ww), supportY))(w) as Adapted;
  const gamma = stepSize(mu);
  const r = regularised ? pulls(mu) : null;
  const out = {} as Record<string, unknown>;
  ADAPTED_LAYERS.forEach((name, j) => {
    const ws = layerLeaves(w, j);
    const gs = layerLeaves(gce, j);
    const cs = layerLeaves(mu.c, j);
    const rj = r ? mul(reshape(slice(r, [j], [1]), []), 2) : null;
    const next = ws.map((x, i) => sub(x, mul(rj ? add(gs[i]!, mul(sub(x, cs[i]!), rj)) : gs[i]!, gamma)));
    const keys = Object.keys(w[name]);
    out[name] = Object.fromEntries(keys.map((key, i) => [key, next[i]!]));
  });
  return out as Adapted;
}

/** The per-task bilevel problem over mu. */
export function omniglotProblem(task: TaskTensors, s: InnerSettings): BilevelProblem<Adapted, Mu> {
  return {
    T: s.T,
    init: (mu) => copyTree(mu.c),
    step: (w, mu) => innerStep(w, mu, task.supportY, s.regularised),
    outer: (w, mu) => crossEntropy(logits(task.queryX, w, mu), task.queryY),
  };
}

/** A new handle on every tensor of a tree (Xi_0(lambda) = c must not hand out c's own tensors to be disposed). */
function copyTree<T extends Adapted>(t: T): T {
  return {
    block3: { W: mul(t.block3.W, 1), beta: mul(t.block3.beta, 1) },
    block4: { W: mul(t.block4.W, 1), beta: mul(t.block4.beta, 1) },
    out: { W: mul(t.out.W, 1), b: mul(t.out.b, 1) },
  } as T;
}

/** phi(lambda) on a tape that watches blocks 1 and 2, for the chain rule back to lambda. */
function featuresOnTape(task: TaskTensors, hyper: Hyper): { tape: Tape; phi: Tensor; sources: Tensor[] } {
  const sources = [...tensorsIn(hyper.l1), ...tensorsIn(hyper.l2)];
  const tape = new Tape({ name: 'blocks 1-2 on S' });
  tape.watch(...sources);
  const phi = tape.run(() => tidy(() => sharedFeatures(task.supportX, hyper.l1, hyper.l2)));
  return { tape, phi, sources };
}

/** d_lambda f from d_mu f: adds (d phi / d lambda)^T d_phi f to the l1, l2 parts (new tensors; c, rho, gamma copied). */
function toLambda(tape: Tape, phi: Tensor, sources: Tensor[], hMu: Mu): Hyper {
  const back = tape.gradient(phi, sources, { seed: hMu.phi });
  const direct = [...tensorsIn(hMu.l1), ...tensorsIn(hMu.l2)];
  const g = tidy(() => {
    const [l1W, l1b, l2W, l2b] = direct.map((d, i) => add(d, back[i]!));
    return { l1: { W: l1W!, beta: l1b! }, l2: { W: l2W!, beta: l2b! }, c: copyTree(hMu.c), logRho: mul(hMu.logRho, 1), logGamma: mul(hMu.logGamma, 1) };
  });
  dispose(back);
  return g;
}

/** The hypergradient's result in lambda's terms. */
export interface OmniglotHypergradient {
  /** f(w_T, lambda) on Q. */
  value: number;
  grad: Hyper;
  stats: HypergradientStats;
}

/**
 * d_lambda f of one task by `options.method` (krmd with K, rmd, fmd, ...). stats.peakBytes counts
 * everything allocated from the start of this call, blocks 1-2 on S included.
 */
export async function omniglotHypergradient(task: TaskTensors, hyper: Hyper, s: InnerSettings, options: HypergradientOptions): Promise<OmniglotHypergradient> {
  const live = engine().memory().liveBytes;
  const t0 = performance.now();
  const { tape, phi, sources } = featuresOnTape(task, hyper);
  try {
    const mu: Mu = { phi, l1: hyper.l1, l2: hyper.l2, c: hyper.c, logRho: hyper.logRho, logGamma: hyper.logGamma };
    const r = await hypergradient(omniglotProblem(task, s), mu, options);
    const g = toLambda(tape, phi, sources, r.grad);
    dispose(r.grad);
    const stats = { ...r.stats, ms: performance.now() - t0, peakBytes: r.stats.peakBytesTotal - live };
    return { value: r.value, grad: g, stats };
  } finally {
    phi.dispose();
    tape.dispose();
  }
}

/**
 * Figure 7's last plot: ||h_{T-K} - d_lambda f|| / ||d_lambda f|| for K = 1..T on one task, in
 * lambda's terms (each h_{T-K} of the mu problem mapped back by the chain rule), from one
 * reverse pass (bilevel/truncation.ts). Entry K-1 is depth K; the last is 0 (full RMD).
 */
export async function truncationErrors(task: TaskTensors, hyper: Hyper, s: InnerSettings): Promise<number[]> {
  const { tape, phi, sources } = featuresOnTape(task, hyper);
  const hs: Hyper[] = [];
  try {
    const mu: Mu = { phi, l1: hyper.l1, l2: hyper.l2, c: hyper.c, logRho: hyper.logRho, logGamma: hyper.logGamma };
    await truncationPath(omniglotProblem(task, s), mu, (_K, h) => {
      hs.push(toLambda(tape, phi, sources, h));
    });
    const exact = hs[hs.length - 1]!;
    const errors: number[] = [];
    for (const h of hs) errors.push(await relativeError(h, exact));
    return errors;
  } finally {
    dispose([hs, phi]);
    tape.dispose();
  }
}

/**
 * Runs the inner problem forward with no tape: w_T from w_0 = c on S (blocks 1-2 applied once).
 * The caller disposes the result.
 */
export function adapt(task: TaskTensors, hyper: Hyper, s: InnerSettings): Adapted {
  const phi = tidy(() => sharedFeatures(task.supportX, hyper.l1, hyper.l2));
  const mu: Mu = { phi, l1: hyper.l1, l2: hyper.l2, c: hyper.c, logRho: hyper.logRho, logGamma: hyper.logGamma };
  let w = tidy(() => copyTree(hyper.c));
  for (let t = 0; t < s.T; t++) {
    const prev = w;
    w = tidy(() => innerStep(prev, mu, task.supportY, s.regularised));
    dispose(prev);
  }
  phi.dispose();
  return w;
}

/** Accuracy and loss on Q of the network adapted to S (T inner steps from c). */
export async function evaluateTask(task: TaskTensors, hyper: Hyper, s: InnerSettings): Promise<{ accuracy: number; loss: number }> {
  const w = adapt(task, hyper, s);
  const { predicted, loss } = tidy(() => {
    const z = logits(task.queryX, w, hyper);
    return { predicted: argmax(z, 1), loss: crossEntropy(z, task.queryY) };
  });
  const [p, l] = await Promise.all([predicted.data(), loss.item()]);
  dispose([w, predicted, loss]);
  let right = 0;
  for (let i = 0; i < task.queryLabels.length; i++) if (p[i] === task.queryLabels[i]) right++;
  return { accuracy: right / task.queryLabels.length, loss: l };
}

/** f(w_T(lambda), lambda) with no tape (for finite differences and checks). */
export async function outerValue(task: TaskTensors, hyper: Hyper, s: InnerSettings): Promise<number> {
  return (await evaluateTask(task, hyper, s)).loss;
}
