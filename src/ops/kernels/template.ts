// Kernel templates and launch geometry shared by every kernel family: filling the WGSL templates
// in shaders/ (cached), the grids of grid-stride kernels and their per-adapter cap, and small
// helpers of the launches. Nothing here knows about autodiff.
import { engine } from '../../gpu/device.js';
import type { Kernel } from '../../gpu/engine.js';
import type { Shape, Tensor } from '../../tensor.js';

const kernelCache = new Map<string, Kernel>();

/** A template with {{NAME}} holes filled in; cached by its filled text. */
export function kernel(template: string, vars: Record<string, string | number>): Kernel {
  const code = template.replace(/\{\{(\w+)\}\}/g, (_, k: string) => {
    if (!(k in vars)) throw new Error(`hypertape internal: kernel template needs {{${k}}}`);
    return String(vars[k]);
  });
  let k = kernelCache.get(code);
  if (!k) kernelCache.set(code, (k = { key: code, code }));
  return k;
}

const kernelsByKey = new Map<string, Kernel>();

/**
 * The kernel for a short key, built by `make` the first time: launches name their kernel by its
 * parameters and skip filling the template (and hashing its text) on every dispatch.
 */
export function memoKernel(key: string, make: () => Kernel): Kernel {
  let k = kernelsByKey.get(key);
  if (!k) kernelsByKey.set(key, (k = make()));
  return k;
}

/** Workgroups for `n` invocations of `wg` each, folded into 2-D past the 65,535 limit. */
export function grid(n: number, wg: number): [number, number] {
  const groups = Math.max(1, Math.ceil(n / wg));
  if (groups <= 65535) return [groups, 1];
  const x = 32768;
  return [x, Math.ceil(groups / x)];
}

/** Row-major (C-order) element strides of a contiguous tensor of this shape. */
export function contiguousStrides(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** Invocations per workgroup of the elementwise, reduction and other grid-stride kernels. */
export const WG = 64;

/**
 * How launches are shaped for the current adapter. CPU implementations (lavapipe, llvmpipe) pay
 * a fixed cost per workgroup (about as much as a few hundred elements of an add), so the kernels
 * with a grid-stride loop (elementwise, reductions, random, gather, one-hot) get at most
 * `maxGroups` workgroups there, 64 by default (measured: 16 to 256 all within noise); GPUs get
 * one invocation per unit of work. Tests and benchmarks may override the automatic choice.
 */
export const launchTuning: { maxGroups: number | null } = { maxGroups: null };

function groupCap(): number {
  return launchTuning.maxGroups ?? (engine().adapter.software ? 64 : Infinity);
}

/** The grid for `units` units of work in kernels with a grid-stride loop of 64-invocation workgroups. */
export function cappedGrid(units: number): [number, number] {
  return grid(Math.min(Math.ceil(units / WG), groupCap()) * WG, WG);
}

/**
 * Throws (through Tensor.storage) if an input is disposed or belongs to a device that is gone,
 * before the output is allocated, so a refused op leaves nothing behind.
 */
export function checkInputs(...ts: Tensor[]): void {
  for (const t of ts) void t.storage;
}
