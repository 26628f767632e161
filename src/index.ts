// hypertape's platform-independent surface. src/node.ts and src/browser.ts add `init`.
export { Tensor, tensor, empty, tidy, keep, dispose, sizeOf, type DType, type Shape, type NestedArray } from './tensor.js';
export { engine, hasEngine, type InitOptions } from './gpu/device.js';
export { DeviceLostError, type AdapterReport, type MemoryStats } from './gpu/engine.js';
export * from './ops/index.js';
export { Tape, type TapeOptions, type BackwardOptions } from './autodiff/tape.js';
export { grad, valueAndGrad, vjp, jvp, jvpBatch, hvp, mapStructure } from './autodiff/api.js';
export { untraced } from './autodiff/trace.js';
// Types that public signatures use, exported so that they are named (and documented) for users.
export type { Engine, Backend, Kernel, Binding } from './gpu/engine.js';
export type { TensorLike } from './tensor.js';
export type { GradOptions, Grads, ValueAndGrad, VjpResult, JvpResult } from './autodiff/api.js';
export type { MatmulLayout } from './ops/kernels/matmul.js';

import { engine } from './gpu/device.js';
import type { MemoryStats } from './gpu/engine.js';

/** Live buffers, live bytes and peak bytes of tensor storage on the current device. */
export function memory(): MemoryStats {
  return engine().memory();
}

/** Starts peak tracking afresh from the current live bytes. */
export function resetPeak(): void {
  engine().resetPeak();
}

/** Submits pending GPU work and waits for it to finish. */
export function sync(): Promise<void> {
  return engine().sync();
}
export * from './bilevel/index.js';
