// The vs-torch benchmark's plumbing (bench/vs-torch.ts, bench/vs_torch.py): the arrays written for
// PyTorch read back equal to the ones hypertape computes with, and, when python3 with torch is
// here, Python's own reader gets the same arrays and a tiny instance gives the same hypergradients
// in both to 1e-5. CI installs no torch: those two are then left out with the reason printed, and
// the round trip through our reader still runs.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { argmax } from '../src/node.js';
import { makeHypercleaningData, FEATURES } from '../src/experiments/hypercleaning-data.js';
import { loadMnist } from '../src/data/mnist.js';
import { deviceWorkload, makeWorkload, workloadExport, exportWorkload } from '../bench/hypercleaning-workload.js';
import { readExport, writeExport } from '../bench/torch-export.js';
import { pythonEcho, torchAvailability } from '../bench/torch-worker.js';
import { compareWithTorch, maxRelDiff } from '../bench/vs-torch.js';
import { setup } from './helpers.js';

const s = suite('vs-torch');
s.before(setup);

let root = '';
s.before(() => {
  root = mkdtempSync(join(tmpdir(), 'hypertape-vs-torch-test-'));
});
s.after(() => rmSync(root, { recursive: true, force: true }));

const tiny = { nTrain: 50, nVal: 40, T: 5, seed: 3, lambdaSeed: 7 };

function equalArrays(what: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
  assert.is(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i]) assert.unreachable(`${what}[${i}] = ${got[i]}, expected ${want[i]}`);
  }
}

s('the workload is the experiment\'s data: same split, same corrupted labels', () => {
  const w = makeWorkload(tiny);
  const data = makeHypercleaningData(loadMnist(), { nTrain: 50, nVal: 40, nTest: 1 }, 3);
  equalArrays('train features', w.train.features, data.train.features);
  equalArrays('train labels', w.train.labels, data.train.labels);
  equalArrays('val labels', w.val.labels, data.val.labels);
  let wrong = 0;
  for (let i = 0; i < 50; i++) if (w.train.labels[i] !== data.cleanLabels[i]) wrong++;
  assert.is(wrong, 25, 'half the training labels are corrupted');
  assert.ok(w.lambda.some((v) => v !== 0) && w.lambda.every((v) => v >= -2 && v < 2), 'lambda from lambdaSeed is uniform in [-2, 2)');
});

s('the exported arrays read back equal to those hypertape computes with', async () => {
  const w = makeWorkload(tiny);
  const dir = join(root, 'export');
  exportWorkload(w, dir);
  const back = readExport(dir);
  assert.equal(back.settings, { T: 5, gamma: 1, rho: 0.001, classes: 10 });
  const gpu = deviceWorkload(w);
  try {
    const onGpu: Record<string, ArrayLike<number>> = {
      xTrain: await gpu.train.x.data(),
      yTrain: await argmax(gpu.train.yT, 0).data(),
      xVal: await gpu.val.x.data(),
      yVal: await argmax(gpu.val.yT, 0).data(),
      lambda: await gpu.lambda.data(),
    };
    assert.equal(Object.keys(back.arrays).sort(), Object.keys(onGpu).sort());
    for (const [name, values] of Object.entries(onGpu)) equalArrays(`${name} (our reader)`, back.arrays[name]!.data, values);
    assert.equal(back.arrays.xTrain!.shape, [50, FEATURES]);
    assert.equal(back.arrays.yVal!.shape, [40]);
  } finally {
    gpu.dispose();
  }
});

s('a file of the wrong size is refused, naming the file', () => {
  const dir = join(root, 'bad');
  writeExport(dir, { settings: { T: 1 }, arrays: { a: { data: new Float32Array([1, 2, 3]), shape: [3] } } });
  writeFileSync(join(dir, 'a.f32'), new Uint8Array(8));
  assert.throws(() => readExport(dir), (e: Error) => e.message.includes('a.f32') && e.message.includes('8 bytes, expected 12'));
  assert.throws(() => writeExport(dir, { settings: {}, arrays: { a: { data: new Float32Array(3), shape: [2, 2] } } }), /3 values, but its shape \[2, 2\] holds 4/);
});

s('maxRelDiff is relative to the largest |h|', () => {
  assert.is(maxRelDiff(Float32Array.from([1, -4]), Float32Array.from([1.5, -4]), 1), 0.5 / 4);
  assert.throws(() => maxRelDiff(new Float32Array(2), new Float32Array(3), 7), /K = 7: hypertape's h has 2 entries, PyTorch's 3/);
});

// The one test conditional on an optional external tool: python3 with torch (and so numpy).
const torch = torchAvailability();
if (torch.ok) {
  s('Python reads the exported arrays as written (vs_torch.py echo)', () => {
    const w = makeWorkload(tiny);
    const dir = join(root, 'echo-in');
    const out = join(root, 'echo-out');
    exportWorkload(w, dir);
    pythonEcho(dir, out);
    for (const [name, a] of Object.entries(workloadExport(w).arrays)) {
      const raw = new Uint8Array(readFileSync(join(out, `${name}.bin`)));
      const got = a.data instanceof Float32Array ? new Float32Array(raw.buffer) : raw;
      equalArrays(`${name} (Python's reader)`, got, a.data);
    }
  });

  s(`a tiny instance gives the same hypergradients in hypertape and PyTorch ${torch.version} (to 1e-5)`, async () => {
    const r = await compareWithTorch({ ...tiny, Ks: [1, 2, 5], reps: 0, tolerance: 1e-5, torchThreads: [1] });
    assert.equal(r.rows.map((row) => row.K), [1, 2, 5]);
    for (const row of r.rows) {
      assert.ok(row.maxRelDiff <= 1e-5, `K = ${row.K}: max |dh| / max |h| = ${row.maxRelDiff}`);
      assert.ok(row.valueRelDiff <= 1e-5, `K = ${row.K}: f differs by ${row.valueRelDiff} relative`);
    }
  });
} else {
  console.log(`vs-torch test: the comparison with PyTorch (and Python's reading of the export) is EXCLUDED, an optional external tool is missing: ${torch.reason}`);
}

s.run();
