// What an op is, as data: a name, a VJP rule and a JVP rule, written with the library's own
// differentiable ops so that rules compose to any order. The forward computation lives in the
// op's function; after it runs, the op hands (primitive, inputs, output, params) to the tracer
// that the autodiff layer installs (src/autodiff/trace.ts). With no tracer nothing is kept.
import type { Shape, Tensor } from '../tensor.js';

/** What a VJP rule is given besides the output cotangent. */
export interface VjpContext<P> {
  /** The inputs the rule saved (see `saves`), null for those it did not. */
  inputs: (Tensor | null)[];
  /** The output, if saved. */
  out: Tensor | null;
  /** Shapes of all inputs (always available). */
  shapes: Shape[];
  /**
   * Which inputs need a cotangent (those the tape tracks). A rule returns null for the others
   * rather than compute them: for X W^T with constant data X, dX would be the largest product
   * of the backward pass and is thrown away.
   */
  wants: boolean[];
  /** The op's parameters (axes, flags, ...), as the forward call recorded them. */
  params: P;
}

/** What a JVP rule is given besides the input tangents. */
export interface JvpContext<P> {
  /** The op's inputs. */
  inputs: Tensor[];
  /** The op's output. */
  out: Tensor;
  /** The op's parameters, as the forward call recorded them. */
  params: P;
  /**
   * Leading tangent batch dims (0 or 1): with nb = 1 every tangent has shape [N, ...primal] and
   * carries N directions at once. Rules that name axes shift them by nb.
   */
  nb: number;
}

/**
 * An op as autodiff sees it: a name and its VJP and JVP rules, written with the library's own
 * differentiable ops so that they compose to any order. Each op's primitive sits next to its
 * kernel launch in src/ops/ (e.g. `matmulP` in src/ops/matmul.ts).
 */
export interface Primitive<P = unknown> {
  /** The op's name, as error messages show it. */
  name: string;
  /** Cotangent for each input given the output cotangent g; null where the input gets none. */
  vjp?: (g: Tensor, ctx: VjpContext<P>) => (Tensor | null)[];
  /** Output tangent from input tangents (null for inputs without one). */
  jvp?: (dots: (Tensor | null)[], ctx: JvpContext<P>) => Tensor | null;
  /** Which inputs (by index) and whether the output the VJP rule needs; default: all of them. */
  saves?: {
    /** Indices of the inputs the VJP rule reads. */
    inputs?: readonly number[];
    /** Whether the VJP rule reads the output. */
    output?: boolean;
  };
  /** Ops whose outputs are constant in their inputs (comparisons, argmax): no rules needed. */
  nondiff?: boolean;
}

export interface Tracer {
  onApply<P>(prim: Primitive<P>, inputs: Tensor[], out: Tensor, params: P): void;
}

let tracer: Tracer | null = null;

export function setTracer(t: Tracer | null): void {
  tracer = t;
}

/** Called by every op after its kernel is launched. */
export function record<P>(prim: Primitive<P>, inputs: Tensor[], out: Tensor, params: P): Tensor {
  if (tracer) tracer.onApply(prim, inputs, out, params);
  return out;
}

export function checkF32(op: string, ...ts: Tensor[]): void {
  for (const t of ts) {
    if (t.dtype !== 'f32') {
      throw new Error(`hypertape: ${op} needs f32 tensors, got ${t.describe()}; ` +
        `i32 tensors hold labels and indices (use oneHot or gather with them).`);
    }
  }
}
