// The one-shot network of section 4.3: MAML's four convolutional blocks for Omniglot and a linear
// k-way output, with its parameters split into the hyperparameters lambda and the weights w that
// the inner problem adapts.
//
//   block(x) = relu(batchNorm(conv3x3_stride2(x)) + beta)        (per output channel beta)
//   nn(x)    = out(spatialMean(block4(block3(block2(block1(x))))))
//
// Choices (the paper points to an appendix that is not available; MAML's Omniglot network is
// the base):
// - Down-sampling by a stride-2 convolution with padding 1 (MAML's Omniglot setting; its
//   max-pool variant is for MiniImagenet): 28 -> 14 -> 7 -> 4 -> 2.
// - Batch normalisation with the statistics of the batch it is applied to (S in the inner loop,
//   Q in f), no running averages, a learned offset beta and no scale (MAML's batch_norm with
//   center on, scale off). A convolution bias would be removed by the normalisation: none.
// - The output layer reads the mean over the last 2x2 positions, one feature per filter (MAML
//   averages for Omniglot), so the curvature of the loss in its weights does not grow with the
//   image size, and one inner step size suits several image sizes.
// - lambda_l1, lambda_l2 = blocks 1 and 2 (shared by every task, never adapted); the adapted
//   w = {w_1, w_2, w_3} = block 3, block 4 and the output layer (V = 3), each with a centre c_j
//   and a pull rho_j.
import { Tensor, tensor } from '../tensor.js';
import { add, exp, relu } from '../ops/elementwise.js';
import { mean } from '../ops/reduce.js';
import { matmul } from '../ops/matmul.js';
import { reshape } from '../ops/shape.js';
import { conv2d, batchNorm } from '../ops/index.js';

/** The network's sizes. */
export interface NetConfig {
  /** k: classes per task (the output width). */
  k: number;
  /** Filters of every convolution (64 in MAML and the paper). */
  filters: number;
  /** Side of the square input images (28 for Omniglot). */
  size: number;
}

/** One convolutional block's weights: the 3x3 kernel [F, C, 3, 3] and the offset beta [F]. */
export type ConvBlock = { W: Tensor; beta: Tensor };

/** The output layer: W [F, k] and the bias b [k]. */
export type Linear = { W: Tensor; b: Tensor };

/** The adapted weights w = {w_1, w_2, w_3}: blocks 3 and 4 and the output layer. */
export type Adapted = { block3: ConvBlock; block4: ConvBlock; out: Linear };

/** The names of the adapted layers, in the order of rho's entries. */
export const ADAPTED_LAYERS = ['block3', 'block4', 'out'] as const;

/** V: the number of adapted layers, each with its own centre and pull. */
export const V = ADAPTED_LAYERS.length;

/**
 * lambda = {lambda_l1, lambda_l2, c, rho, gamma}. rho_j = exp(logRho_j) and gamma = exp(logGamma)
 * keep both positive whatever the outer optimizer does; the logarithms are what it updates.
 */
export type Hyper = { l1: ConvBlock; l2: ConvBlock; c: Adapted; logRho: Tensor; logGamma: Tensor };

/** Side of a block's output for a side-n input: 3x3 kernel, stride 2, padding 1. */
export function blockSide(n: number): number {
  return Math.floor((n - 1) / 2) + 1;
}

/** One block: relu(batchNorm(conv2d(x, W, stride 2, padding 1)) + beta), x [N, C, H, W]. */
export function convBlock(x: Tensor, p: ConvBlock): Tensor {
  const z = batchNorm(conv2d(x, p.W, { stride: 2, padding: 1 }));
  return relu(add(z, reshape(p.beta, [1, p.beta.size, 1, 1])));
}

/** Blocks 1 and 2 (the hyperparameters lambda_l1, lambda_l2) on images x [N, 1, size, size]. */
export function sharedFeatures(x: Tensor, l1: ConvBlock, l2: ConvBlock): Tensor {
  return convBlock(convBlock(x, l1), l2);
}

/** Blocks 3 and 4 and the output layer on block 2's output h: the logits [N, k]. */
export function adaptedLogits(h: Tensor, w: Adapted): Tensor {
  const z = convBlock(convBlock(h, w.block3), w.block4); // [N, F, 2, 2] at size 28
  const features = mean(z, [2, 3]); // [N, F]
  return add(matmul(features, w.out.W), reshape(w.out.b, [1, w.out.b.size]));
}

/** The whole network nn(x; w, lambda): logits [N, k] of images x [N, 1, size, size]. */
export function logits(x: Tensor, w: Adapted, hyper: Pick<Hyper, 'l1' | 'l2'>): Tensor {
  return adaptedLogits(sharedFeatures(x, hyper.l1, hyper.l2), w);
}

/** The pulls rho_j = exp(logRho_j), shape [V]. */
export function pulls(hyper: Pick<Hyper, 'logRho'>): Tensor {
  return exp(hyper.logRho);
}

/** The inner step gamma = exp(logGamma), a scalar tensor. */
export function stepSize(hyper: Pick<Hyper, 'logGamma'>): Tensor {
  return exp(hyper.logGamma);
}

// ---- initial values ------------------------------------------------------------------------

/** The initial hyperparameters' scalars. */
export interface InitialScalars {
  /** rho_j of every adapted layer. */
  rho: number;
  /** The inner step gamma. */
  gamma: number;
}

/** Box-Muller normal draws from a uniform generator. */
function normals(n: number, std: number, random: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(random(), 1e-12);
    const v = random();
    const r = std * Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/** The shapes of every tensor of lambda, in the order of its leaves (l1, l2, c, logRho, logGamma). */
export function hyperShapes(cfg: NetConfig): number[][] {
  const F = cfg.filters;
  return [[F, 1, 3, 3], [F], [F, F, 3, 3], [F], [F, F, 3, 3], [F], [F, F, 3, 3], [F], [F, cfg.k], [cfg.k], [V], []];
}

/**
 * The initial lambda, drawn on the CPU from `random` (so a seed fixes it): He-normal kernels
 * (std sqrt(2 / fan-in)), zero offsets, output weights with std sqrt(1 / F), zero bias; centres
 * c drawn like the shared blocks; every rho_j and gamma from `scalars`.
 */
export function initialHyper(cfg: NetConfig, scalars: InitialScalars, random: () => number): Hyper {
  checkConfig(cfg);
  if (!(scalars.rho > 0) || !(scalars.gamma > 0)) {
    throw new Error(`omniglot: the initial rho and gamma must be positive, got rho = ${scalars.rho}, gamma = ${scalars.gamma}`);
  }
  const F = cfg.filters;
  const conv = (C: number): ConvBlock => ({
    W: tensor(normals(F * C * 9, Math.sqrt(2 / (C * 9)), random), [F, C, 3, 3]),
    beta: tensor(new Float32Array(F), [F]),
  });
  return {
    l1: conv(1),
    l2: conv(F),
    c: {
      block3: conv(F),
      block4: conv(F),
      out: { W: tensor(normals(F * cfg.k, Math.sqrt(1 / F), random), [F, cfg.k]), b: tensor(new Float32Array(cfg.k), [cfg.k]) },
    },
    logRho: tensor(new Float32Array(V).fill(Math.log(scalars.rho)), [V]),
    logGamma: tensor(new Float32Array([Math.log(scalars.gamma)]), []),
  };
}

/** Rejects sizes the network cannot take, naming them. */
export function checkConfig(cfg: NetConfig): void {
  if (!Number.isInteger(cfg.k) || cfg.k < 2) throw new Error(`omniglot: k-way classification needs k >= 2 classes, got k = ${cfg.k}`);
  if (!Number.isInteger(cfg.filters) || cfg.filters < 1) throw new Error(`omniglot: the network needs at least 1 filter, got ${cfg.filters}`);
  if (!Number.isInteger(cfg.size) || cfg.size < 2) throw new Error(`omniglot: images must be at least 2x2 pixels, got size ${cfg.size}`);
}

/** Rebuilds lambda from its leaves in the order of `hyperShapes` (l1, l2, c, logRho, logGamma). */
export function hyperFromLeaves(leaves: readonly Tensor[]): Hyper {
  if (leaves.length !== 12) throw new Error(`omniglot: lambda has 12 tensors, got ${leaves.length}`);
  const [l1W, l1b, l2W, l2b, c3W, c3b, c4W, c4b, oW, ob, logRho, logGamma] = leaves as Tensor[];
  return {
    l1: { W: l1W!, beta: l1b! },
    l2: { W: l2W!, beta: l2b! },
    c: { block3: { W: c3W!, beta: c3b! }, block4: { W: c4W!, beta: c4b! }, out: { W: oW!, b: ob! } },
    logRho: logRho!,
    logGamma: logGamma!,
  };
}

/** lambda from one flat array (the leaves' values one after another, as a saved run keeps them). */
export function hyperFromArray(cfg: NetConfig, values: ArrayLike<number>): Hyper {
  const shapes = hyperShapes(cfg);
  const total = shapes.reduce((a, sh) => a + sh.reduce((p, d) => p * d, 1), 0);
  if (values.length !== total) {
    throw new Error(`omniglot: lambda for ${cfg.filters} filters and k = ${cfg.k} has ${total} values, got ${values.length}`);
  }
  let offset = 0;
  return hyperFromLeaves(shapes.map((sh) => {
    const n = sh.reduce((p, d) => p * d, 1);
    const t = tensor(Float32Array.from({ length: n }, (_, i) => values[offset + i]!), sh);
    offset += n;
    return t;
  }));
}

/** Number of values in lambda. */
export function hyperSize(cfg: NetConfig): number {
  return hyperShapes(cfg).reduce((a, sh) => a + sh.reduce((p, d) => p * d, 1), 0);
}
