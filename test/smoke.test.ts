// A first end-to-end check: a tensor goes to the GPU, through a kernel and back.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { tensor, add, sum, grad, sin, mul, engine } from '../src/node.js';
import { setup, values, assertClose } from './helpers.js';

const s = suite('smoke');
s.before(setup);

s('adds two tensors with broadcasting and reads them back', async () => {
  const a = tensor([[1, 2, 3], [4, 5, 6]]);
  const b = tensor([10, 20, 30]);
  assert.equal(await values(add(a, b)), [11, 22, 33, 14, 25, 36]);
});

s('differentiates sum(sin(x) * x)', async () => {
  const x = tensor([0.5, 1, -2]);
  const g = grad((x) => sum(mul(sin(x), x)))(x);
  assertClose(await values(g), [0.5, 1, -2].map((v) => Math.cos(v) * v + Math.sin(v)), { rtol: 1e-5, atol: 1e-6 });
});

s('reports its adapter', () => {
  assert.ok(engine().adapter.description.length > 0);
});

s.run();
