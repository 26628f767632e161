export * from './elementwise.js';
export * from './reduce.js';
export * from './matmul.js';
export { reshape, permute, transpose, broadcastTo, slice, pad, concat, stack, gather, scatterAdd, oneHot, broadcastShapes } from './shape.js';
export { full, zeros, ones, zerosLike, onesLike, arange, randomUniform, randomNormal, type RandomOptions } from './create.js';
export { forceMatmulVariant, matmulVariant, matmulVariants, type MatmulVariantName } from './launch.js';
export type { Primitive, VjpContext, JvpContext } from './core.js';
export { conv2d, maxPool2d, batchNorm, type Conv2dOptions, type MaxPoolOptions, type BatchNormOptions } from './conv.js';
