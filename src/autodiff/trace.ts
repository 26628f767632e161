// The tracer that every op reports to (see src/ops/core.ts). It does two things:
//  - forward mode: for each active jvp level at which an input carries a tangent, apply the
//    op's JVP rule and attach the result to the output at that level;
//  - reverse mode: if an input is tracked by a recording tape, append an entry to that tape.
// A JVP rule is itself made of ops, and it runs in the context the level was opened in: the
// levels opened before it stay active (so a jvp inside a jvp differentiates the inner tangent,
// forward-over-forward) and the tapes that were recording when it opened record the rule's ops
// (so a tape outside a jvp can differentiate its tangent, reverse-over-forward). Tapes opened
// inside the jvp do not record tangent arithmetic: they never walk back through it.
// Forward-over-reverse needs nothing special: a tape's backward ops are ordinary ops, so under a
// jvp they carry tangents.
import { setTracer, type Primitive, type Tracer } from '../ops/core.js';
import { Tensor, shapeStr, tidyPending } from '../tensor.js';
import { broadcastTo } from '../ops/shape.js';
import type { Tape } from './tape.js';

export interface ForwardLevel {
  level: number;
  /** Leading tangent batch dims: 0 (one tangent) or 1 (N tangents). */
  nb: number;
  /** The batch prefix of every tangent at this level ([] or [N]). */
  batch: number[];
  /** The levels active when this one opened: its JVP rules run with them. */
  outer: ForwardLevel[];
  /** The tapes recording when this level opened: they record its JVP rules' ops. */
  tapes: Tape[];
}

const state = {
  tapes: [] as Tape[],
  /** Active forward levels, outermost first. */
  levels: [] as ForwardLevel[],
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

/** Runs fn with a new forward-mode level inside the active ones; closes it afterwards. */
export function withForwardLevel<T>(batch: number[], fn: (level: ForwardLevel) => T): T {
  const prev = state.levels;
  const lvl: ForwardLevel = { level: nextLevel++, nb: batch.length, batch, outer: prev, tapes: [...state.tapes] };
  state.levels = [...prev, lvl];
  try {
    return fn(lvl);
  } finally {
    state.levels = prev;
  }
}

/** Runs a JVP rule of `lvl` in the context that level was opened in. */
function inRuleContext<T>(lvl: ForwardLevel, fn: () => T): T {
  const [levels, tapes] = [state.levels, state.tapes];
  state.levels = lvl.outer;
  state.tapes = tapes.filter((t) => lvl.tapes.includes(t));
  try {
    return fn();
  } finally {
    state.levels = levels;
    state.tapes = tapes;
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
    // Tapes first and outer levels before inner ones: a rule that reads the output (exp's
    // dx * out) must find it already tracked by the tapes and carrying its outer tangents.
    for (const tape of state.tapes) tape.maybeRecord(prim, inputs, out, params);
    for (const fwd of state.levels) {
      const dots = inputs.map((t) => t.tangentAt(fwd.level) ?? null);
      if (dots.some((d) => d)) {
        if (!prim.jvp) throw new Error(`hypertape: op '${prim.name}' has no JVP rule, so forward mode cannot pass through it`);
        const expected = [...fwd.batch, ...out.shape];
        const tangent = inRuleContext(fwd, () =>
          tidyPending(() => {
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
