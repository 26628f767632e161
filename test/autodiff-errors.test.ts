// Bad input to autodiff: each mistake gives an Error that names the tensors, their shapes and
// the tape involved, and says what to do.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as ht from '../src/node.js';
import { Tape, Tensor, tensor } from '../src/node.js';
import { setup } from './helpers.js';

const s = suite('autodiff-errors');
s.before(setup);

/** Runs fn, expecting an Error whose message matches every pattern. */
function throwsWith(fn: () => unknown, patterns: (RegExp | string)[]): string {
  let message: string | null = null;
  try {
    fn();
  } catch (e) {
    assert.instance(e, Error);
    message = (e as Error).message;
  }
  if (message === null) assert.unreachable(`expected an error matching ${patterns.join(', ')}`);
  for (const p of patterns) {
    const ok = typeof p === 'string' ? message!.includes(p) : p.test(message!);
    assert.ok(ok, `the message ${JSON.stringify(message)} should match ${p}`);
  }
  return message!;
}

function named(t: Tensor, name: string): Tensor {
  t.name = name;
  return t;
}

// ---- non-scalar outputs without a seed ----------------------------------------------------------

s('the gradient of a non-scalar without a seed names the output and the seed shape it needs', () => {
  const x = named(tensor([1, 2, 3]), 'x');
  const tape = new Tape({ name: 'tape A' }).watch(x);
  const y = named(tape.run(() => ht.mul(x, 2)), 'y');
  throwsWith(() => tape.gradient(y, [x]), ["'y'", 'f32[3]', 'non-scalar', 'seed', '[3]']);
  tape.dispose();
  ht.dispose([x, y]);
});

s('grad and valueAndGrad of a non-scalar function say so and point to vjp', () => {
  const x = named(tensor([[1, 2, 3], [4, 5, 6]]), 'x');
  throwsWith(() => ht.grad((a: Tensor) => ht.mul(a, a))(x), ['grad', 'f32[2, 3]', 'not a scalar', 'vjp']);
  throwsWith(() => ht.valueAndGrad((a: Tensor) => ht.sum(a, 0))(x), ['f32[3]', 'not a scalar']);
  x.dispose();
});

s('a seed (cotangent) of the wrong shape names both shapes', () => {
  const x = named(tensor([1, 2, 3]), 'x');
  const tape = new Tape().watch(x);
  const y = named(tape.run(() => ht.exp(x)), 'y');
  const seed = named(tensor([1, 1]), 'seed');
  throwsWith(() => tape.gradient(y, [x], { seed }), ["'seed'", 'f32[2]', "'y'", 'f32[3]']);
  const r = ht.vjp((a: Tensor) => ht.exp(a), x);
  throwsWith(() => r.pullback(seed), ['f32[2]', 'f32[3]']);
  tape.dispose();
  ht.dispose([x, y, seed, r.out]);
});

// ---- tangents that do not match their primals ---------------------------------------------------

s('a jvp tangent whose shape differs from its primal names both shapes', () => {
  const x = named(tensor([[1, 2, 3], [4, 5, 6]]), 'x');
  const t = named(tensor([[1, 2], [3, 4], [5, 6]]), 'dx');
  throwsWith(() => ht.jvp((a: Tensor) => ht.sin(a), [x], [t]), ['jvp', "'dx'", 'f32[3, 2]', "'x'", 'f32[2, 3]']);
  ht.dispose([x, t]);
});

s('jvpBatch needs the leading tangent dimension; the message gives the expected shape', () => {
  const x = named(tensor([1, 2, 3]), 'x');
  const t = named(tensor([1, 2, 3]), 'dx');
  throwsWith(() => ht.jvpBatch((a: Tensor) => ht.sin(a), [x], [t], 4), ['jvpBatch', 'f32[3]', '[4, 3]']);
  ht.dispose([x, t]);
});

s('jvp with a different number of tangents than primals, or an i32 tangent, is refused', () => {
  const x = tensor([1, 2, 3]);
  const y = tensor([4, 5, 6]);
  throwsWith(() => ht.jvp((a: Tensor, b: Tensor) => ht.mul(a, b), [x, y], [x] as unknown as [Tensor, Tensor]), ['2 primal', '1 tangent']);
  const it = tensor(new Int32Array([1, 2, 3]));
  throwsWith(() => ht.jvp((a: Tensor) => ht.sin(a), [x], [it]), ['i32[3]', 'f32']);
  ht.dispose([x, y, it]);
});

s('hvp with a vector of the wrong shape names hvp and both shapes', () => {
  const x = named(tensor([1, 2, 3]), 'x');
  const v = named(tensor([1, 2]), 'v');
  throwsWith(() => ht.hvp((a: Tensor) => ht.sum(ht.square(a)), x, v), ['hvp', "'v'", 'f32[2]', "'x'", 'f32[3]']);
  ht.dispose([x, v]);
});

// ---- tensors from two tapes ---------------------------------------------------------------------

s('an output recorded on tape B asked of tape A names both tapes', () => {
  const x = named(tensor([1, 2]), 'x');
  const z = named(tensor([3, 4]), 'z');
  const A = new Tape({ name: 'tape A' }).watch(x);
  const B = new Tape({ name: 'tape B' }).watch(z);
  const yB = named(B.run(() => ht.sum(ht.square(z))), 'yB');
  throwsWith(() => A.gradient(yB, [x]), ["'yB'", 'f32[]', 'tape A', 'tape B']);
  A.dispose();
  B.dispose();
  ht.dispose([x, z, yB]);
});

s('a source the tape does not watch is named, with the tape that does', () => {
  const x = named(tensor([1, 2]), 'x');
  const z = named(tensor([3, 4]), 'z');
  const A = new Tape({ name: 'tape A' }).watch(x);
  const B = new Tape({ name: 'tape B' }).watch(z);
  // Both tapes record while y is computed from x and z.
  const y = named(A.run(() => B.run(() => ht.sum(ht.mul(x, z)))), 'y');
  throwsWith(() => A.gradient(y, [z]), ["'z'", 'f32[2]', 'not tracked by tape A', 'watch', 'tape B']);
  // Each tape differentiates with respect to what it watches.
  const [gx] = A.gradient(y, [x]);
  const [gz] = B.gradient(y, [z]);
  A.dispose();
  B.dispose();
  ht.dispose([x, z, y, gx, gz]);
});

s('an output computed outside the tape run is refused with the reason', () => {
  const x = named(tensor([1, 2]), 'x');
  const tape = new Tape({ name: 'tape A' }).watch(x);
  const y = named(ht.sum(ht.square(x)), 'y'); // not inside tape.run
  throwsWith(() => tape.gradient(y, [x]), ["'y'", 'not recorded on tape A', 'run()']);
  tape.dispose();
  ht.dispose([x, y]);
});

// ---- freed steps --------------------------------------------------------------------------------

function steppedTape(keepSteps: number | undefined, steps: number): { tape: Tape; x: Tensor; xs: Tensor[] } {
  const x = named(tensor([0.5, -0.5]), 'x');
  const tape = new Tape({ name: 'stepped tape', keepSteps }).watch(x);
  const xs: Tensor[] = [x];
  for (let t = 0; t < steps; t++) {
    xs.push(named(tape.run(() => ht.mul(ht.sin(xs[t]!), 0.9)), `x${t + 1}`));
    tape.markStep();
  }
  return { tape, x, xs };
}

s('a full backward pass on a tape that freed steps says how many it keeps and what to pass', () => {
  const { tape, xs } = steppedTape(2, 5);
  const y = tape.run(() => ht.sum(xs[5]!));
  throwsWith(() => tape.gradient(y, [xs[0]!]), ['stepped tape', 'last 2 steps', 'freed 3', 'steps']);
  tape.dispose();
  ht.dispose([xs, y]);
});

s('walking back more steps than the tape holds names both counts', () => {
  const { tape, xs } = steppedTape(2, 5);
  const y = tape.run(() => ht.sum(xs[5]!));
  throwsWith(() => tape.gradient(y, [xs[1]!], { steps: 4 }), ['4 steps', 'holds only 2', '3 older steps', 'keepSteps = 2']);
  const full = steppedTape(undefined, 3);
  const y2 = full.tape.run(() => ht.sum(full.xs[3]!));
  throwsWith(() => full.tape.gradient(y2, [full.x], { steps: 4 }), ['4 steps', 'holds only 3']);
  throwsWith(() => full.tape.gradient(y2, [full.x], { steps: -1 }), ['steps', '-1']);
  throwsWith(() => full.tape.gradient(y2, [full.x], { steps: 1.5 }), ['steps', '1.5']);
  tape.dispose();
  full.tape.dispose();
  ht.dispose([xs, y, full.xs, y2]);
});

s('an output computed in a step the tape already freed is refused, naming it and the step', () => {
  const { tape, xs } = steppedTape(2, 5);
  // x2 was computed in step 1 (counting from 0); only steps 3 and 4 are held.
  const seed = tensor([1, 1]);
  throwsWith(() => tape.gradient(xs[2]!, [xs[1]!], { seed, steps: 2 }), ["'x2'", 'f32[2]', 'step 1', 'freed', 'stepped tape']);
  tape.dispose();
  ht.dispose([xs, seed]);
});

s('an output computed before the steps a truncated pass walks is refused', () => {
  const { tape, xs } = steppedTape(undefined, 5);
  const seed = tensor([1, 1]);
  const [g] = tape.gradient(xs[2]!, [xs[0]!], { seed }); // the full pass reaches it
  throwsWith(() => tape.gradient(xs[2]!, [xs[1]!], { seed, steps: 2 }), ["'x2'", 'step 1', 'last 2 steps']);
  tape.dispose();
  ht.dispose([xs, seed, g]);
});

s('a disposed tape says so', () => {
  const x = tensor([1]);
  const tape = new Tape({ name: 'old tape' }).watch(x);
  const y = tape.run(() => ht.sum(x));
  tape.dispose();
  throwsWith(() => tape.gradient(y, [x]), ['old tape', 'disposed']);
  throwsWith(() => tape.watch(x), ['old tape', 'disposed']);
  ht.dispose([x, y]);
});

s.run();
