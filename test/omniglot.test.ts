// `hypertape omniglot` on a tiny profile: the hypergradient through a tiny conv network (K-RMD at
// K = T against full RMD, FMD and central differences; the one-pass truncation path against
// K-RMD), the evaluation statistics, the real command end to end in a child process, a killed run
// resumed to the same numbers (both on a synthetic --data-dir in Omniglot's layout), and the bad
// inputs.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { zipSync } from 'fflate';
import { encode as encodePng } from 'fast-png';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dispose, flattenTree, relativeError, hypergradient, grad } from '../src/node.js';
import { initialHyper, hyperFromArray, hyperSize, type Hyper } from '../src/experiments/omniglot-net.js';
import {
  omniglotHypergradient, omniglotProblem, outerValue, adapt, crossEntropy, taskToDevice, disposeTask, truncationErrors, type TaskTensors, type Mu,
} from '../src/experiments/omniglot-problem.js';
import { sharedFeatures, logits } from '../src/experiments/omniglot-net.js';
import { meanAndCI95, deriveSeed } from '../src/experiments/omniglot-eval.js';
import { omniglot, parseMethods, checkSet, type OmniglotOptions } from '../src/experiments/omniglot.js';
import { loadState } from '../src/experiments/omniglot-state.js';
import { describeSplit } from '../src/experiments/omniglot-report.js';
import { truncationPath } from '../src/bilevel/truncation.js';
import { parseOptions, UsageError } from '../src/experiments/registry.js';
import { runExperiment } from '../src/experiments/run.js';
import { createConsole } from '../src/experiments/progress.js';
import { mulberry32 } from '../src/data/random.js';
import { setup, assertClose, values } from './helpers.js';
import { hypertape, expectError, withoutTimings } from './experiment-helpers.js';

const s = suite('omniglot');
s.before(setup);

let root = '';
let dataDir = '';
s.before(() => {
  root = mkdtempSync(join(tmpdir(), 'hypertape-omniglot-'));
  dataDir = syntheticOmniglot(join(root, 'data'));
});

/** An 8-bit gray PNG of ink values (1 = black ink on white), as the Omniglot zips hold. */
function inkPng(n: number, ink: ArrayLike<number>): Uint8Array {
  const data = Uint8Array.from({ length: n * n }, (_, i) => Math.round(255 * (1 - ink[i]!)));
  return encodePng({ width: n, height: n, data, channels: 1, depth: 8 });
}

/**
 * A --data-dir in Omniglot's layout, small enough to read in milliseconds: images_background.zip
 * (alphabet Alpha) and images_evaluation.zip (alphabet Beta), 5 characters each with 4 drawings
 * of 16x16 (a random stroke pattern per character, each drawing with a few pixels flipped).
 */
function syntheticOmniglot(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const r = mulberry32(9);
  for (const [file, split, alphabet] of [['images_background.zip', 'images_background', 'Alpha'], ['images_evaluation.zip', 'images_evaluation', 'Beta']] as const) {
    const files: Record<string, Uint8Array> = {};
    for (let c = 1; c <= 5; c++) {
      const pattern = Array.from({ length: 256 }, () => (r() < 0.25 ? 1 : 0));
      for (let d = 1; d <= 4; d++) {
        const ink = pattern.map((v) => (r() < 0.05 ? 1 - v : v));
        files[`${split}/${alphabet}/character0${c}/${c}_0${d}.png`] = inkPng(16, ink);
      }
    }
    writeFileSync(join(dir, file), zipSync(files));
  }
  return dir;
}
s.after(() => rmSync(root, { recursive: true, force: true }));

const quiet = { console: createConsole({ quiet: true }) };
const cfg = { k: 3, filters: 2, size: 8 };

/** A random 3-way task on 8x8 images: S one image per class, Q two per class. */
function tinyTask(seed: number): TaskTensors {
  const r = mulberry32(seed);
  const img = (n: number) => Float32Array.from({ length: n * 64 }, () => r());
  const lab = (n: number) => Uint8Array.from({ length: n }, (_, i) => i % 3);
  return taskToDevice({ k: 3, size: 8, supportX: img(3), supportY: lab(3), queryX: img(6), queryY: lab(6) });
}

async function flatValues(h: Hyper): Promise<number[]> {
  const out: number[] = [];
  for (const t of flattenTree(h).leaves) out.push(...(await values(t)));
  return out;
}

const T = 3;
const settings = { T, regularised: true };

s('K-RMD through the tiny conv network: K = T equals full RMD, FMD and central differences', async () => {
  const task = tinyTask(1);
  const hyper = initialHyper(cfg, { rho: 0.3, gamma: 0.4 }, mulberry32(2));
  const krmd = await omniglotHypergradient(task, hyper, settings, { method: 'krmd', K: T });
  const rmd = await omniglotHypergradient(task, hyper, settings, { method: 'rmd' });
  const fmd = await omniglotHypergradient(task, hyper, settings, { method: 'fmd' });
  const [hk, hr, hf] = [await flatValues(krmd.grad), await flatValues(rmd.grad), await flatValues(fmd.grad)];
  assert.is(hk.length, hyperSize(cfg));
  assertClose(hk, hr, { rtol: 1e-5, atol: 1e-7 }, 'K-RMD at K = T vs full RMD');
  assertClose(hf, hr, { rtol: 2e-3, atol: 2e-5 }, 'FMD vs full RMD');
  assert.ok(Math.abs(krmd.value - (await outerValue(task, hyper, settings))) < 1e-5, 'f from the hypergradient = f from the forward pass');
  // Reverse mode through the whole composed map lambda -> f (blocks 1-2 inside the unrolled
  // steps, no reparametrisation) gives the same vector.
  const direct = grad((h: Hyper) => {
    const w = adapt(task, h, settings);
    return crossEntropy(logits(task.queryX, w, h), task.queryY);
  })(hyper) as Hyper;
  assertClose(await flatValues(direct), hr, { rtol: 1e-4, atol: 1e-6 }, 'reverse mode through the composed map vs full RMD');
  dispose(direct);
  // Central differences of f(w_T(lambda), lambda) on coordinates of every kind of hyperparameter:
  // l1 (through phi and Q), l2, a centre of each adapted layer, rho_j, gamma.
  const x = await flatValues(hyper);
  const sizes = flattenTree(hyper).leaves.map((t) => t.size);
  const start = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
  const coords = [start[0]! + 4, start[1]!, start[2]! + 7, start[4]! + 3, start[6]! + 11, start[8]! + 2, start[9]!, start[10]!, start[10]! + 2, start[11]!];
  const eps = 1e-3; // larger steps cross ReLU and max kinks of this tiny network
  for (const i of coords) {
    const at = async (d: number) => {
      const y = x.slice();
      y[i] = y[i]! + d;
      const h = hyperFromArray(cfg, y);
      const v = await outerValue(task, h, settings);
      dispose(h);
      return v;
    };
    const fd = ((await at(eps)) - (await at(-eps))) / (2 * eps);
    assert.ok(Math.abs(fd - hr[i]!) <= 3e-3 + 3e-2 * Math.abs(hr[i]!), `coordinate ${i}: central difference ${fd}, full RMD ${hr[i]}`);
  }
  // Truncation drops B_t terms: K = 1 differs from full RMD (c gets only the pull's part).
  const k1 = await omniglotHypergradient(task, hyper, settings, { method: 'krmd', K: 1 });
  assert.ok((await relativeError(k1.grad, rmd.grad)) > 1e-3, 'K = 1 is truncated');
  dispose([krmd.grad, rmd.grad, fmd.grad, k1.grad, hyper]);
  disposeTask(task);
});

s('the one-pass truncation path gives h_{T-K} of krmd for every K, and full RMD at K = T', async () => {
  const task = tinyTask(3);
  const hyper = initialHyper(cfg, { rho: 0.3, gamma: 0.4 }, mulberry32(4));
  const phi = sharedFeatures(task.supportX, hyper.l1, hyper.l2);
  const mu: Mu = { phi, l1: hyper.l1, l2: hyper.l2, c: hyper.c, logRho: hyper.logRho, logGamma: hyper.logGamma };
  const problem = omniglotProblem(task, settings);
  const path: number[][] = [];
  const f = await truncationPath(problem, mu, async (_K, h) => {
    path.push(await flatValues(h as unknown as Hyper));
  });
  assert.is(path.length, T);
  for (let K = 1; K <= T; K++) {
    const r = await hypergradient(problem, mu, K === T ? { method: 'rmd' } : { method: 'krmd', K });
    const leaves = flattenTree(r.grad).leaves;
    const flat: number[] = [];
    for (const t of leaves) flat.push(...(await values(t)));
    assertClose(path[K - 1]!, flat, { rtol: 1e-4, atol: 1e-6 }, `h_{T-K} at K = ${K}`);
    if (K === T) assert.ok(Math.abs(f - r.value) < 1e-6);
    dispose(r.grad);
  }
  const errors = await truncationErrors(task, hyper, settings);
  assert.is(errors.length, T);
  assert.is(errors[T - 1], 0);
  assert.ok(errors.slice(0, -1).every((e) => e > 0 && Number.isFinite(e)), `errors ${errors}`);
  dispose([phi, hyper]);
  disposeTask(task);
});

s('mean and 95% interval; seeds', () => {
  const { mean, ci95 } = meanAndCI95([0.5, 0.7, 0.9, 0.7]);
  assertClose([mean, ci95], [0.7, (1.96 * Math.sqrt(0.08 / 3)) / 2], { rtol: 1e-12 }, 'mean, ci95');
  assert.ok(Number.isNaN(meanAndCI95([1]).ci95));
  assert.is(deriveSeed(1, 2, 3), deriveSeed(1, 2, 3));
  assert.is.not(deriveSeed(1, 2, 3), deriveSeed(1, 3, 2));
});

const TINY = () => [
  '--data-dir', dataDir, '--filters', '2', '--size', '8', '--T', '3', '--k', '3', '--queries', '2', '--methods', '1,full,short',
  '--hyper-iterations', '4', '--eval-tasks', '3', '--eval-every', '2', '--exact-every', '2', '--checkpoint-every', '1', '--seed', '5',
];

let uninterrupted: any = null;

s('describeSplit names the zip without its folder and the alphabets dropped from meta-test', () => {
  const cls = (alphabet: string, character: string) => [0, 90, 180, 270].map((rotation) => ({ alphabet, character, rotation: rotation as 0, images: new Float32Array(0), m: 0 }));
  const set = {
    size: 28,
    classes: [...cls('Bengali', 'character01'), ...cls('Bengali', 'character02'), ...cls('Futurama', 'character01')],
    source: '/data/x/images_background_small2.zip (28x28, rotations as classes), without the alphabets also in meta-training: Greek, Latin',
  };
  assert.equal(describeSplit(set), { file: 'images_background_small2.zip', alphabets: 2, characters: 3, classes: 12, droppedAlphabets: ['Greek', 'Latin'] });
});

s('end to end: the real command in a child process writes Table 4 and Figure 7', async () => {
  const dir = join(root, 'tiny');
  const child = await hypertape(['omniglot', ...TINY(), '--out', dir]);
  assert.is(child.code, 0, child.output);
  const r = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
  assert.is(r.complete, true);
  assert.equal(r.table.map((t: any) => [t.method, t.K, t.T, t.hyperIters]), [['1', 1, 3, 4], ['full', 3, 3, 4], ['short', 1, 1, 4]]);
  for (const t of r.table) {
    assert.ok(t.testAcc >= 0 && t.testAcc <= 1 && t.testAccCI95 >= 0, JSON.stringify(t));
    assert.ok(t.secPerHyperiter > 0 && t.peakBytes > 0, JSON.stringify(t));
  }
  assert.ok(r.initial.testAcc >= 0 && r.initialShort.testAcc >= 0);
  assert.equal(r.figure7.accuracy[0].tau, [0, 2, 4]);
  assert.is(r.figure7.validationLoss[1].values.length, 4);
  assert.equal(r.figure7.cosine.map((c: any) => [c.method, c.tau]), [['1', [0, 2]]]);
  assert.ok(r.figure7.cosine[0].cos.every((c: number) => c > -1.0001 && c < 1.0001));
  assert.is(r.figure7.truncation.regularised.length, 3);
  assert.is(r.figure7.truncation.regularised[2], 0);
  for (const f of ['summary.md', 'figure7-accuracy.svg', 'figure7-validation-loss.svg', 'figure7-cosine.svg', 'figure7-truncation.svg']) {
    assert.ok(existsSync(join(dir, f)), f);
  }
  assert.ok(readFileSync(join(dir, 'summary.md'), 'utf8').includes('Table 4'));
  // The splits, by file name and size, in results.json and summary.md.
  const { metaTraining, metaTest } = r.problem.splits;
  assert.equal(metaTraining, { file: 'images_background.zip', alphabets: 1, characters: 5, classes: 20, droppedAlphabets: [] });
  assert.equal(metaTest, { file: 'images_evaluation.zip', alphabets: 1, characters: 5, classes: 20, droppedAlphabets: [] });
  assert.ok(readFileSync(join(dir, 'summary.md'), 'utf8').includes(`Meta-training: images_background.zip, ${metaTraining.alphabets} alphabets`));
  uninterrupted = r;
});

s('a killed process (SIGKILL after its first save) resumes to the same numbers', async () => {
  assert.ok(uninterrupted, 'the end-to-end test ran first');
  const dir = join(root, 'killed');
  const child = await hypertape(['omniglot', ...TINY(), '--out', dir], { dir, signal: 'SIGKILL', timeoutMs: 300_000 });
  assert.is(child.code, null, 'the run was killed before it finished');
  const saved = loadState(dir);
  assert.ok(saved.runs.length < 3 || saved.runs.some((r) => !r.final), 'the saved state is readable and partial');
  const outcome = await runExperiment(omniglot, parseOptions(omniglot, [...TINY(), '--resume', dir]), quiet);
  const a = uninterrupted;
  const b = JSON.parse(JSON.stringify(outcome.results));
  assert.equal(withoutTimings(b.table), withoutTimings(a.table));
  assert.equal(b.figure7, a.figure7);
  assert.equal(b.initial, a.initial);
  assert.equal(loadState(dir).runs.map((r) => r.lambda), loadState(join(root, 'tiny')).runs.map((r) => r.lambda));
});

s('bad input: k < 2, methods, queries, too few classes or images, a missing --data-dir', async () => {
  const parse = (...argv: string[]) => () => parseOptions(omniglot, argv);
  assert.throws(parse('--k', '1'), (e: Error) => e instanceof UsageError && e.message.includes('--k'));
  assert.throws(parse('--methods', '1,60'), (e: Error) => e instanceof UsageError && e.message.includes("'60'") && e.message.includes('--T = 50'));
  assert.throws(parse('--methods', '1,1'), (e: Error) => e instanceof UsageError && e.message.includes('twice'));
  assert.throws(parse('--queries', '20'), (e: Error) => e instanceof UsageError && e.message.includes('1 + 20'));
  assert.equal(parseMethods('1,full,short', 50).map((m) => [m.name, m.K, m.T, m.options.method]), [['1', 1, 50, 'krmd'], ['full', 50, 50, 'rmd'], ['short', 1, 1, 'rmd']]);
  const o = { k: 5, queries: 5 } as OmniglotOptions;
  const cls = (i: number, m: number) => ({ alphabet: 'A', character: `character0${i}`, rotation: 0 as const, images: new Float32Array(m * 4), m });
  assert.throws(() => checkSet({ size: 2, classes: [cls(1, 20), cls(2, 20)], source: 'x.zip' }, 'meta-training', o),
    (e: Error) => e.message.includes('x.zip') && e.message.includes('2 characters') && e.message.includes('k = 5'));
  assert.throws(() => checkSet({ size: 2, classes: [1, 2, 3, 4].map((i) => cls(i, 20)).concat([cls(5, 3)]), source: 'y.zip' }, 'meta-test', o),
    (e: Error) => e.message.includes('y.zip') && e.message.includes('A/character05 has 3') && e.message.includes('1 + --queries = 6'));
  const missing = join(root, 'no-such-folder');
  const child = await hypertape(['omniglot', ...TINY(), '--data-dir', missing, '--out', join(root, 'bad')]);
  assert.is.not(child.code, 0);
  assert.ok(child.output.includes(missing) && child.output.includes('images_background.zip'), child.output);
});

s.run();
