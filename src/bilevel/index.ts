export { type BilevelProblem, type Tree, flattenTree } from './problem.js';
export { gradientDescent, heavyBall, innerGradient, type HeavyBallState, type Scalar } from './inner.js';
export { hypergradient, validate, type Method, type HypergradientOptions, type HypergradientResult, type HypergradientStats } from './hypergradient.js';
export { SGD, Adam, type OuterOptimizer, type SGDOptions, type AdamOptions, type AdamState } from './outer.js';
export { norm, dot, cosineSimilarity, relativeError, distance, descentRatio, prop31Bound } from './diagnostics.js';
export type { FlatTree } from './problem.js';
export { truncationPath } from './truncation.js';
