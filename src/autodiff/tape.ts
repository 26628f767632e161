// Reverse mode. A Tape records the ops applied to tensors it tracks (those it watches and all
// results computed from them) and walks them backwards accumulating cotangents.
//
// Step marks split an iterative computation into steps. `backward(..., { steps: K })` stops after
// the last K steps and returns the cotangents found at that boundary (K-RMD, paper eq. 8). A
// tape made with `keepSteps: K` frees older steps while the iteration runs, so its memory stays
// O(K steps). Backward itself runs through differentiable ops: under an outer tape it is
// recorded there (gradients of gradients), under a jvp it carries tangents (forward-over-reverse).
import type { Primitive } from '../ops/core.js';
import { Tensor, shapeStr, tidy, tidyPending, type Shape } from '../tensor.js';
import { add } from '../ops/elementwise.js';
import { ones, zeros } from '../ops/create.js';
import { popTape, pushTape } from './trace.js';

interface Entry {
  prim: Primitive<unknown>;
  params: unknown;
  /** Saved handles (refs) of the inputs the rule needs; null for the others. */
  inputs: (Tensor | null)[];
  inputIds: number[];
  inputShapes: Shape[];
  out: Tensor | null;
  outId: number;
  outShape: Shape;
}

/** Options of a {@link Tape}. */
export interface TapeOptions {
  /** Keep only the last K completed steps (plus the open one); older ones are freed at markStep(). */
  keepSteps?: number;
  /** A name used in error messages. */
  name?: string;
}

/** Options of {@link Tape.gradient}. */
export interface BackwardOptions {
  /** Cotangent of the output (one per output); required unless the output has one element. */
  seed?: Tensor | readonly Tensor[];
  /** Walk back through only the ops after the last `steps` step marks (plus the open step). */
  steps?: number;
}

let nextTapeId = 1;

// Every tape not yet disposed (weakly, so a forgotten tape is still collected): error messages
// use it to say which tape did record a tensor.
const liveTapes = new Set<WeakRef<Tape>>();

function otherTapesTracking(t: Tensor, self: Tape): string[] {
  const names: string[] = [];
  for (const ref of liveTapes) {
    const tape = ref.deref();
    if (!tape) liveTapes.delete(ref);
    else if (tape !== self && tape.isTracked(t)) names.push(tape.name);
  }
  return names;
}

/**
 * A reverse-mode tape: records the ops applied to watched tensors (and to results computed from
 * them) while recording, then walks them back in {@link Tape.gradient}. {@link Tape.markStep}
 * divides the recording into the steps of an iteration, so that `gradient(y, xs, { steps: K })`
 * back-propagates through the last K steps only (K-step truncated back-propagation) and
 * `keepSteps: K` frees older steps as the iteration runs. Tapes nest (a gradient computed on a
 * recording tape is itself recorded: second order). Dispose a tape when done with it.
 */
export class Tape {
  /** A number unique to this tape. */
  readonly id = nextTapeId++;
  /** The `keepSteps` option: how many completed steps the tape holds (undefined: all). */
  readonly keepSteps: number | undefined;
  /** The `name` option (or a default), used in error messages. */
  readonly name: string;
  private tracked = new Set<number>();
  /** Ids passed to watch(). */
  private leaves = new Set<number>();
  /** segments[i] holds the entries of step freedSteps + i; the last one is still open. */
  private segments: Entry[][] = [[]];
  private freedSteps = 0;
  /** Output id -> the step that recorded it, for held steps. */
  private producedIn = new Map<number, number>();
  /** Output ids (lowest, highest) of each freed step, for error messages. */
  private freedIdRanges: [number, number][] = [];
  private readonly selfRef = new WeakRef(this);
  private recording = false;
  private paused = false;
  private disposed = false;

  constructor(opts: TapeOptions = {}) {
    if (opts.keepSteps !== undefined && (!Number.isInteger(opts.keepSteps) || opts.keepSteps < 1)) {
      throw new Error(`hypertape: Tape keepSteps must be a positive integer, got ${opts.keepSteps}`);
    }
    this.keepSteps = opts.keepSteps;
    this.name = opts.name ?? `tape ${this.id}`;
    liveTapes.add(this.selfRef);
  }

  /** Starts tracking these tensors: ops on them (and on results from them) are recorded. */
  watch(...ts: Tensor[]): this {
    this.alive();
    for (const t of ts) {
      t.storage; // throws on a disposed tensor
      this.tracked.add(t.id);
      this.leaves.add(t.id);
    }
    return this;
  }

  /** Whether `t` is watched or was computed from a watched tensor while recording. */
  isTracked(t: Tensor): boolean {
    return this.tracked.has(t.id);
  }

  /** Records while `fn` runs. */
  run<T>(fn: () => T): T {
    this.start();
    try {
      return fn();
    } finally {
      this.stop();
    }
  }

  /** Starts (or resumes) recording; {@link Tape.run} does start and stop around a function. */
  start(): this {
    this.alive();
    if (!this.recording) {
      this.recording = true;
      pushTape(this);
    }
    return this;
  }

  /** Stops recording; ops run afterwards are not recorded. */
  stop(): this {
    if (this.recording) {
      this.recording = false;
      popTape(this);
    }
    return this;
  }

  /** Ends the current step; with keepSteps, frees steps that fell out of the window. */
  markStep(): void {
    this.alive();
    this.segments.push([]);
    if (this.keepSteps !== undefined) {
      while (this.segments.length - 1 > this.keepSteps) {
        const freed = this.segments.shift()!;
        let [lo, hi] = [Infinity, -Infinity];
        for (const e of freed) {
          release(e);
          this.producedIn.delete(e.outId);
          lo = Math.min(lo, e.outId);
          hi = Math.max(hi, e.outId);
        }
        this.freedIdRanges.push([lo, hi]);
        this.freedSteps++;
      }
    }
  }

  /** Index of the step being recorded (steps count from 0 at the tape's creation). */
  private get openStep(): number {
    return this.freedSteps + this.segments.length - 1;
  }

  /** Steps completed with markStep() and still held. */
  get heldSteps(): number {
    return this.segments.length - 1;
  }

  /** Entries currently held (all steps). */
  get size(): number {
    return this.segments.reduce((n, s) => n + s.length, 0);
  }

  /** @internal called by the tracer for every op. */
  maybeRecord<P>(prim: Primitive<P>, inputs: Tensor[], out: Tensor, params: P): void {
    if (!this.recording || this.paused) return;
    if (!inputs.some((t) => this.tracked.has(t.id))) return;
    this.tracked.add(out.id);
    this.producedIn.set(out.id, this.openStep);
    const saveIn = prim.saves?.inputs;
    const saveOut = prim.saves?.output ?? true;
    // What the tape saves may stay pending (lazy): ref() shares the pending value. It is computed
    // when something needs it, often inside the fused kernel of the VJP rule that reads it, which
    // then costs no dispatch and no buffer of its own. Meanwhile it holds the buffers its fused
    // graph reads instead of its own (each no larger than it: same shape or broadcast), which are
    // mostly saved or alive anyway. Measured on the hypercleaning hypergradient (autodiff inner
    // step, T = 100, `npm run bench -- fusion`), peak bytes with saved values computed at once
    // were 7.8 MiB (K-RMD K = 5) and 133 MiB (RMD); kept pending, 5.2 and 84 MiB.
    this.segments[this.segments.length - 1]!.push({
      prim: prim as Primitive<unknown>,
      params,
      inputs: inputs.map((t, i) => (saveIn === undefined || saveIn.includes(i) ? t.ref() : null)),
      inputIds: inputs.map((t) => t.id),
      inputShapes: inputs.map((t) => t.shape),
      out: saveOut ? out.ref() : null,
      outId: out.id,
      outShape: out.shape,
    });
  }

  /**
   * Cotangents of `y` with respect to `sources` (any tensors this tape tracks, leaves or
   * intermediate). A tensor listed twice gets its full derivative in both places. With `steps`, only the last `steps` steps are walked, so a source produced
   * before them receives the cotangent at the boundary (alpha_{T-K} in eq. 8).
   */
  gradient(y: Tensor | readonly Tensor[], sources: readonly Tensor[], opts: BackwardOptions = {}): Tensor[] {
    this.alive();
    const ys = y instanceof Tensor ? [y] : [...y];
    const seeds = opts.seed === undefined ? [] : opts.seed instanceof Tensor ? [opts.seed] : [...opts.seed];
    if (seeds.length > 0 && seeds.length !== ys.length) {
      throw new Error(`hypertape: ${ys.length} outputs but ${seeds.length} seed cotangents`);
    }
    if (y instanceof Tensor && !this.tracked.has(y.id)) {
      const others = otherTapesTracking(y, this);
      throw new Error(`hypertape: ${y.describe()} was not recorded on ${this.name}: ` + (others.length
        ? `it was recorded on ${others.join(', ')}, from tensors ${this.name} does not watch; ask that tape for its gradient, or watch those tensors here.`
        : `it was computed outside this tape's run(), or from tensors the tape does not watch.`));
    }
    for (const s of sources) {
      if (!this.tracked.has(s.id)) {
        const others = otherTapesTracking(s, this);
        throw new Error(`hypertape: ${s.describe()} is not tracked by ${this.name}; watch() it before computing with it` +
          (others.length ? ` (${others.join(', ')} tracks it, but a tape differentiates only with respect to what it tracks).` : '.'));
      }
    }
    for (const yi of ys) if (this.tracked.has(yi.id)) this.checkReachable(yi, opts.steps);
    ys.forEach((yi, i) => {
      const seed = seeds[i];
      if (!seed && yi.size !== 1) {
        throw new Error(`hypertape: the gradient of a non-scalar ${yi.describe()} needs a seed cotangent of shape ${shapeStr(yi.shape)} (pass { seed }).`);
      }
      if (seed && (seed.rank !== yi.rank || seed.shape.some((d, j) => d !== yi.shape[j]))) {
        throw new Error(`hypertape: seed ${seed.describe()} does not match the output ${yi.describe()}`);
      }
    });
    const window = this.window(opts.steps);
    const sourceIds = new Set(sources.map((s) => s.id));
    const cot = new Map<number, Tensor>();
    ys.forEach((yi, i) => {
      // An output the tape never saw (it does not depend on what is watched) passes nothing back.
      if (!this.tracked.has(yi.id)) return;
      const seed = seeds[i] ? seeds[i]!.ref() : tidyPending(() => ones(yi.shape).ref());
      const prev = cot.get(yi.id);
      if (prev) {
        const total = add(prev, seed);
        cot.set(yi.id, total.ref());
        total.dispose();
        prev.dispose();
        seed.dispose();
      } else cot.set(yi.id, seed);
    });
    this.paused = true;
    try {
      for (let i = window.length - 1; i >= 0; i--) {
        const e = window[i]!;
        const g = cot.get(e.outId);
        if (!g) continue;
        if (!e.prim.vjp) throw new Error(`hypertape: op '${e.prim.name}' has no VJP rule, so reverse mode cannot pass through it`);
        const grads = tidyPending(() =>
          e.prim.vjp!(g, { inputs: e.inputs, out: e.out, shapes: e.inputShapes, wants: e.inputIds.map((id) => this.tracked.has(id)), params: e.params }),
        );
        grads.forEach((gi, k) => {
          if (!gi) return;
          const id = e.inputIds[k]!;
          if (!this.tracked.has(id)) return;
          const want = e.inputShapes[k]!;
          if (gi.rank !== want.length || gi.shape.some((d, j) => d !== want[j])) {
            throw new Error(`hypertape internal: VJP of '${e.prim.name}' gave ${gi.describe()} for an input of shape ${shapeStr(want)}`);
          }
          const prev = cot.get(id);
          if (prev) {
            const total = add(prev, gi);
            cot.set(id, total.ref(false));
            total.dispose();
            prev.dispose();
          } else {
            cot.set(id, gi.ref(false));
          }
        });
        for (const gi of grads) if (gi && gi !== g) gi.dispose();
        if (!sourceIds.has(e.outId)) {
          g.dispose();
          cot.delete(e.outId);
        }
      }
    } finally {
      this.paused = false;
    }
    // A source listed twice gets the full derivative in both places (each its own handle).
    const result = sources.map((s) => {
      const c = cot.get(s.id);
      return c ? c.ref(true) : zeros(s.shape);
    });
    for (const c of cot.values()) c.dispose();
    return result;
  }

  /** Refuses an output whose recording was freed, or lies before the steps a truncated pass walks. */
  private checkReachable(y: Tensor, steps: number | undefined): void {
    if (this.leaves.has(y.id)) return;
    const step = this.producedIn.get(y.id);
    if (step === undefined) {
      const freedStep = this.freedIdRanges.findIndex(([lo, hi]) => y.id >= lo && y.id <= hi);
      throw new Error(`hypertape: ${y.describe()} was computed in ${freedStep >= 0 ? `step ${freedStep}` : 'a step'}, which ${this.name} has already freed ` +
        `(it keeps the last ${this.keepSteps} steps and has freed ${this.freedSteps}); compute the output after the last markStep().`);
    }
    if (steps !== undefined && Number.isInteger(steps) && steps >= 0) {
      const first = this.openStep - steps;
      if (step < first) {
        throw new Error(`hypertape: ${y.describe()} was computed in step ${step}, before the last ${steps} steps this backward pass walks ` +
          `(steps ${first} to ${this.openStep}), so its cotangent would reach nothing; pass a larger steps or compute the output after the last markStep().`);
      }
    }
  }

  private window(steps: number | undefined): Entry[] {
    if (steps === undefined) {
      if (this.freedSteps > 0) {
        throw new Error(`hypertape: ${this.name} keeps only the last ${this.keepSteps} steps and has freed ${this.freedSteps}; ` +
          `a full backward pass needs them. Pass { steps: K } with K <= ${this.heldSteps}.`);
      }
      return this.segments.flat();
    }
    if (!Number.isInteger(steps) || steps < 0) throw new Error(`hypertape: steps must be a non-negative integer, got ${steps}`);
    if (steps > this.heldSteps) {
      throw new Error(`hypertape: backward over ${steps} steps, but ${this.name} holds only ${this.heldSteps}` +
        (this.freedSteps ? ` (${this.freedSteps} older steps were already freed; keepSteps = ${this.keepSteps})` : '') + '.');
    }
    return this.segments.slice(this.segments.length - 1 - steps).flat();
  }

  /** Frees every recorded entry; the tape can no longer be used. */
  dispose(): void {
    if (this.disposed) return;
    this.stop();
    for (const s of this.segments) for (const e of s) release(e);
    this.segments = [];
    this.tracked.clear();
    this.leaves.clear();
    this.producedIn.clear();
    liveTapes.delete(this.selfRef);
    this.disposed = true;
  }

  private alive(): void {
    if (this.disposed) throw new Error(`hypertape: ${this.name} was disposed`);
  }
}

function release(e: Entry): void {
  for (const t of e.inputs) t?.dispose();
  e.out?.dispose();
  e.inputs = [];
  e.out = null;
}
