// The tracer that every op reports to (see src/ops/core.ts). It does two things:
//  - forward mode: if an input carries a tangent of the active jvp level, apply the op's JVP
//    rule and attach the result to the output;
//  - reverse mode: if an input is tracked by a recording tape, append an entry to that tape.
// While a rule is being evaluated, tracing is suspended: tangent arithmetic is not itself
// differentiated or recorded (forward-over-reverse works because a tape's *backward* ops run
// with tracing on, so they carry tangents).
import { setTracer, type Primitive, type Tracer } from '../ops/core.js';
import { Tensor, shapeStr, tidy } from '../tensor.js';
import { broadcastTo } from '../ops/shape.js';
import type { Tape } from './tape.js';

export interface ForwardLevel {
  level: number;
  /** Leading tangent batch dims: 0 (one tangent) or 1 (N tangents). */
  nb: number;
  /** The batch prefix of every tangent at this level ([] or [N]). */
  batch: number[];
}

const state = {
  tapes: [] as Tape[],
  forward: null as ForwardLevel | null,
  suspended: 0,
};

let nextLevel = 1;

export function activeTapes(): readonly Tape[] {
  return state.tapes;
}

export function pushTape(t: Tape): void {
  state.tapes.push(t);
}

export function popTape(t: Tape): void {
  const i = state.tapes.lastIndexOf(t);
  if (i >= 0) state.tapes.splice(i, 1);
}

export function currentForward(): ForwardLevel | null {
  return state.forward;
}

/** Runs fn with a new forward-mode level; restores the previous one afterwards. */
export function withForwardLevel<T>(batch: number[], fn: (level: ForwardLevel) => T): T {
  const prev = state.forward;
  const lvl: ForwardLevel = { level: nextLevel++, nb: batch.length, batch };
  state.forward = lvl;
  try {
    return fn(lvl);
  } finally {
    state.forward = prev;
  }
}

/** Runs fn with tracing off: nothing is recorded and no tangents propagate. */
export function untraced<T>(fn: () => T): T {
  state.suspended++;
  try {
    return fn();
  } finally {
    state.suspended--;
  }
}

const tracer: Tracer = {
  onApply<P>(prim: Primitive<P>, inputs: Tensor[], out: Tensor, params: P): void {
    if (state.suspended > 0 || prim.nondiff) return;
    const fwd = state.forward;
    if (fwd) {
      const dots = inputs.map((t) => t.tangentAt(fwd.level) ?? null);
      if (dots.some((d) => d)) {
        if (!prim.jvp) throw new Error(`hypertape: op '${prim.name}' has no JVP rule, so forward mode cannot pass through it`);
        const expected = [...fwd.batch, ...out.shape];
        const tangent = untraced(() =>
          tidy(() => {
            const t = prim.jvp!(dots, { inputs, out, params, nb: fwd.nb });
            if (!t) return null;
            const same = t.rank === expected.length && t.shape.every((d, i) => d === expected[i]);
            return same ? t : broadcastTo(t, expected);
          }),
        );
        if (tangent) {
          out.setTangent(fwd.level, tangent);
          // A rule may pass an input's tangent straight through; that handle is not ours.
          if (!dots.includes(tangent)) tangent.dispose();
        }
      }
    }
    for (const tape of state.tapes) tape.maybeRecord(prim, inputs, out, params);
  },
};

setTracer(tracer);

export function checkTangentShape(what: string, primal: Tensor, tangent: Tensor, batch: number[]): void {
  const want = [...batch, ...primal.shape];
  if (tangent.rank !== want.length || tangent.shape.some((d, i) => d !== want[i])) {
    throw new Error(`hypertape: ${what}: tangent ${tangent.describe()} does not match primal ${primal.describe()} (expected shape ${shapeStr(want)})`);
  }
  if (tangent.dtype !== 'f32') throw new Error(`hypertape: ${what}: tangents must be f32, got ${tangent.describe()}`);
}
