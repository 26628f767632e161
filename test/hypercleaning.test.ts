// `hypertape hypercleaning` on a tiny profile: the inner step against autodiff, the data split,
// the flag scores, results.json against a float64 CPU re-run of the classifier from the saved
// lambda, an interrupted run (exception, SIGKILL, Ctrl-C) resumed to the same numbers as an
// uninterrupted one, and --resume refusing edited or mismatched state.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensor, grad, dispose, type Tensor } from '../src/node.js';
import { loadMnist, type Mnist } from '../src/data/mnist.js';
import { makeHypercleaningData, FEATURES } from '../src/experiments/hypercleaning-data.js';
import { toDevice, disposeExamples } from '../src/experiments/shared/examples.js';
import { trainingLossGradient, weightedTrainingLoss, hypercleaningProblem, flagScores } from '../src/experiments/hypercleaning-problem.js';
import { hypercleaning, runHypercleaning, type HypercleaningResults } from '../src/experiments/hypercleaning.js';
import { loadState, STATE_FILE } from '../src/experiments/hypercleaning-state.js';
import { parseOptions, UsageError, type Experiment } from '../src/experiments/registry.js';
import { runExperiment, type RunOutcome } from '../src/experiments/run.js';
import { createConsole } from '../src/experiments/progress.js';
import { setup, randArray, assertClose, values } from './helpers.js';
import { hypertape, editedState, expectError, withoutTimings, noCompleteResults } from './experiment-helpers.js';
import { RunInterrupted } from '../src/experiments/shared/interrupt.js';

const s = suite('hypercleaning');
s.before(setup);

let mnist: Mnist;
let root = '';
s.before(() => {
  mnist = loadMnist();
  root = mkdtempSync(join(tmpdir(), 'hypertape-hc-'));
});
s.after(() => rmSync(root, { recursive: true, force: true }));

const quiet = { console: createConsole({ quiet: true }) };

s('the closed-form inner gradient equals the autodiff gradient of g', async () => {
  const data = makeHypercleaningData(mnist, { nTrain: 37, nVal: 5, nTest: 5 }, 3);
  const train = toDevice(data.train);
  const W = tensor(Float32Array.from(randArray(10 * FEATURES, 1, -0.05, 0.05)), [10, FEATURES]);
  const weights = tensor(Float32Array.from(randArray(37, 2, 0, 1)));
  const closed = trainingLossGradient(W, weights, train, 0.01);
  const auto = grad((w: Tensor) => weightedTrainingLoss(w, weights, train, 0.01))(W);
  assertClose(await values(closed), await values(auto), { rtol: 1e-4, atol: 1e-6 }, 'grad_W g');
  // The problem's step is W - gamma grad_W g(W, lambda) with weights sigmoid(lambda).
  const lambda = tensor(Float32Array.from(randArray(37, 3, -2, 2)));
  const problem = hypercleaningProblem(train, train, { T: 1, gamma: 0.5, rho: 0.01 });
  const stepped = problem.step(W, lambda, 0);
  const expected = grad((w: Tensor) => problem.inner!(w, lambda))(W);
  const [w, gv, sv] = [await values(W), await values(expected), await values(stepped)];
  assertClose(sv, w.map((x, i) => x - 0.5 * gv[i]!), { rtol: 1e-4, atol: 1e-6 }, 'Xi(W, lambda)');
  dispose([W, weights, closed, auto, lambda, stepped, expected]);
  disposeExamples(train);
});

s('the data: floor(n/2) labels corrupted, each to another class; one seed, one draw', () => {
  const sizes = { nTrain: 301, nVal: 50, nTest: 20 };
  const a = makeHypercleaningData(mnist, sizes, 11);
  const b = makeHypercleaningData(mnist, sizes, 11);
  const c = makeHypercleaningData(mnist, sizes, 12);
  let corrupted = 0;
  for (let i = 0; i < sizes.nTrain; i++) {
    if (a.corrupted[i]) {
      corrupted++;
      assert.ok(a.train.labels[i] !== a.cleanLabels[i], `example ${i} is flagged corrupted but kept its label`);
    } else assert.is(a.train.labels[i], a.cleanLabels[i]);
    assert.ok(a.train.labels[i]! < 10);
  }
  assert.is(corrupted, 150);
  assert.equal(a.train.labels, b.train.labels);
  assert.equal(a.train.features, b.train.features);
  assert.not.equal(Array.from(a.corrupted), Array.from(c.corrupted));
  // Features: pixels / 255 and a trailing constant 1; the test set is MNIST's first test images.
  assert.is(a.train.features[FEATURES - 1], 1);
  assert.is(a.test.labels[0], mnist.test.labels[0]);
  assert.is(a.test.features[200], mnist.test.images[200]! / 255);
  // Corruption spreads over the wrong classes (all 9 offsets appear).
  const offsets = new Set<number>();
  for (let i = 0; i < sizes.nTrain; i++) if (a.corrupted[i]) offsets.add((a.train.labels[i]! - a.cleanLabels[i]! + 10) % 10);
  assert.is(offsets.size, 9);
});

s('flag scores: precision, recall and F1 of lambda_i < -3', () => {
  // flagged: 0, 1, 3 (lambda < -3); corrupted: 0, 2, 3.
  const f = flagScores([-4, -3.5, 0, -10, -3], [1, 0, 1, 1, 0]);
  assert.is(f.flagged, 3);
  assert.is(f.truePositives, 2);
  assertClose([f.precision, f.recall, f.f1], [2 / 3, 2 / 3, 2 / 3], { rtol: 1e-12 });
  assert.is(flagScores([0, 0], [1, 0]).f1, 0);
  // Flagging everything: precision = corrupted fraction, recall 1.
  assertClose([flagScores([-5, -5, -5, -5], [1, 1, 0, 0]).f1], [2 / 3], { rtol: 1e-12 });
});

// ---- end to end -------------------------------------------------------------------------------

const TINY = ['--n-train', '120', '--n-val', '100', '--n-test', '400', '--T', '10', '--K', '1,3,10',
  '--hyper-iterations', '6', '--figure-every', '2', '--checkpoint-every', '2', '--seed', '5'];
const TABLE_KEYS = ['K', 'testAcc', 'valAcc', 'valLoss', 'f1', 'precision', 'recall', 'secPerHyperiter', 'secPerHyperiterMedian', 'peakBytes'];

/** W_T in float64 on the CPU: T GD steps on the weighted mean cross-entropy + rho ||W||^2. */
function cpuTrain(features: Float32Array, labels: Uint8Array, weights: number[], T: number, gamma: number, rho: number): Float64Array {
  const n = labels.length;
  const W = new Float64Array(10 * FEATURES);
  const z = new Float64Array(10);
  for (let t = 0; t < T; t++) {
    const G = new Float64Array(10 * FEATURES);
    for (let i = 0; i < n; i++) {
      const x = features.subarray(i * FEATURES, (i + 1) * FEATURES);
      for (let c = 0; c < 10; c++) {
        let acc = 0;
        for (let j = 0; j < FEATURES; j++) acc += W[c * FEATURES + j]! * x[j]!;
        z[c] = acc;
      }
      const m = Math.max(...z);
      let total = 0;
      for (let c = 0; c < 10; c++) total += Math.exp(z[c]! - m);
      for (let c = 0; c < 10; c++) {
        const r = (weights[i]! / n) * (Math.exp(z[c]! - m) / total - (labels[i] === c ? 1 : 0));
        for (let j = 0; j < FEATURES; j++) G[c * FEATURES + j] += r * x[j]!;
      }
    }
    for (let k = 0; k < W.length; k++) W[k] -= gamma * (G[k]! + 2 * rho * W[k]!);
  }
  return W;
}

function cpuEvaluate(W: Float64Array, features: Float32Array, labels: Uint8Array): { acc: number; loss: number } {
  let right = 0;
  let loss = 0;
  for (let i = 0; i < labels.length; i++) {
    const z: number[] = [];
    for (let c = 0; c < 10; c++) {
      let acc = 0;
      for (let j = 0; j < FEATURES; j++) acc += W[c * FEATURES + j]! * features[i * FEATURES + j]!;
      z.push(acc);
    }
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0));
    loss += lse - z[labels[i]!]!;
    if (z.indexOf(m) === labels[i]) right++;
  }
  return { acc: right / labels.length, loss: loss / labels.length };
}

let uninterrupted: { dir: string; outcome: RunOutcome<HypercleaningResults> } | null = null;

async function runTiny(dir: string, extra: string[] = [], experiment: Experiment<any> = hypercleaning): Promise<RunOutcome> {
  return runExperiment(experiment, parseOptions(experiment, [...TINY, '--out', dir, ...extra]), quiet);
}

s('a tiny profile end to end: results.json complete and consistent with the saved lambda', async () => {
  const dir = join(root, 'whole');
  const outcome = await runTiny(dir);
  uninterrupted = { dir, outcome: outcome as RunOutcome<HypercleaningResults> };
  for (const p of outcome.paths) assert.ok(existsSync(p), `${p} was written`);
  for (const name of ['figure5', 'f1', 'validation-loss']) {
    const svg = readFileSync(join(dir, `${name}.svg`), 'utf8');
    assert.ok(svg.startsWith('<svg') && svg.includes('</svg>'), `${name}.svg is an SVG document`);
  }
  assert.ok(readFileSync(join(dir, 'summary.md'), 'utf8').includes('## Table 2'));
  const r = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
  assert.is(r.experiment, 'hypercleaning');
  assert.is(r.complete, true);
  assert.equal(r.table.map((row: any) => row.K), [1, 3, 10]);
  for (const row of r.table) {
    for (const k of TABLE_KEYS) assert.ok(Number.isFinite(row[k]), `table K=${row.K}: ${k} = ${row[k]}`);
    assert.ok(row.secPerHyperiter > 0 && row.peakBytes > 0);
  }
  // K-RMD keeps K steps: its memory grows with K.
  assert.ok(r.table[0].peakBytes < r.table[1].peakBytes && r.table[1].peakBytes < r.table[2].peakBytes,
    `peak bytes should grow with K: ${r.table.map((row: any) => row.peakBytes).join(', ')}`);
  assert.ok(Number.isFinite(r.baselineTestAcc) && Number.isFinite(r.oracleTestAcc));
  assert.is(r.problem.nCorrupted, 60);

  const state = loadState(dir);
  const data = makeHypercleaningData(mnist, { nTrain: 120, nVal: 100, nTest: 400 }, 5);
  const cpuRef = (weights: number[]) => {
    const W = cpuTrain(data.train.features, data.train.labels, weights, 10, 1, 0.001);
    return { test: cpuEvaluate(W, data.test.features, data.test.labels), val: cpuEvaluate(W, data.val.features, data.val.labels) };
  };
  // One prediction may flip between float32 and float64 near a decision boundary.
  const accTol = 1.5 / 400;
  for (const row of r.table) {
    const run = state.runs.find((x) => x.K === row.K)!;
    assert.is(run.lambda.length, 120);
    assert.is(run.tau, 6);
    assert.is(run.seconds.length, 6);
    const flags = flagScores(run.lambda, data.corrupted);
    assertClose([row.f1, row.precision, row.recall], [flags.f1, flags.precision, flags.recall], { rtol: 1e-12 }, `F1 of K=${row.K}`);
    const ref = cpuRef(run.lambda.map((l) => 1 / (1 + Math.exp(-l))));
    assert.ok(Math.abs(row.testAcc - ref.test.acc) <= accTol, `K=${row.K} test accuracy ${row.testAcc} vs float64 ${ref.test.acc}`);
    assertClose([row.valLoss], [ref.val.loss], { rtol: 1e-4 }, `K=${row.K} validation loss`);
    // Figure 5 samples tau = 0, 2, 4 and the last iterate; at tau = 0 every run is at lambda0.
    const fig = r.figure5.series.find((x: any) => x.K === row.K);
    assert.equal(fig.tau, [0, 2, 4, 6]);
    assert.ok(fig.norm.every((v: number) => v > 0));
    assertClose([fig.norm[0]], [r.figure5.series[0].norm[0]], { rtol: 1e-5 }, 'the exact hypergradient at lambda0');
    assert.is(r.validationLoss.find((x: any) => x.K === row.K).values.length, 6);
    // F1 vs hyper-iteration: at tau = 0 nothing is flagged (every lambda_i = lambda0 = 0 > -3).
    const hist = r.flagHistory.find((x: any) => x.K === row.K);
    assert.equal(hist.tau, [0, 1, 2, 3, 4, 5]);
    assert.is(hist.f1[0], 0);
    for (const k of ['f1', 'precision', 'recall']) assert.ok(hist[k].length === 6 && hist[k].every((v: number) => v >= 0 && v <= 1), `${k} history of K=${row.K}`);
  }
  // The no-cleaning baseline: weights 1 at the largest stable step, the same as float64 training
  // at that step, whose training loss a float64 check confirms decreases at every step.
  const stable = r.references.baselineStable;
  assert.is(stable.gamma, 1 / 2 ** stable.halvings);
  const stableRef = cpuTrain(data.train.features, data.train.labels, new Array(120).fill(1), 10, stable.gamma, 0.001);
  const stableTest = cpuEvaluate(stableRef, data.test.features, data.test.labels);
  assert.ok(Math.abs(stable.testAcc - stableTest.acc) <= accTol, `stable baseline ${stable.testAcc} vs float64 ${stableTest.acc}`);
  assertClose([stable.valLoss], [cpuEvaluate(stableRef, data.val.features, data.val.labels).loss], { rtol: 1e-4 }, 'stable baseline validation loss');
  // The K = T run's validation loss series starts where every run starts: f at lambda0 (= 0).
  const start = cpuRef(new Array(120).fill(0.5));
  assertClose([r.validationLoss[0].values[0], r.references.initial.valLoss], [start.val.loss, start.val.loss], { rtol: 1e-4 }, 'f(lambda0)');
  assert.ok(Math.abs(r.references.initial.testAcc - start.test.acc) <= accTol, `initial ${r.references.initial.testAcc} vs float64 ${start.test.acc}`);
  const baseline = cpuRef(new Array(120).fill(1));
  assert.ok(Math.abs(r.baselineTestAcc - baseline.test.acc) <= accTol, `baseline ${r.baselineTestAcc} vs float64 ${baseline.test.acc}`);
  const oracle = cpuRef(Array.from(data.corrupted, (c) => (c ? 0 : 2)));
  assert.ok(Math.abs(r.oracleTestAcc - oracle.test.acc) <= accTol, `oracle ${r.oracleTestAcc} vs float64 ${oracle.test.acc}`);
});

s('an interrupted run resumes and ends with the same numbers as an uninterrupted one', async () => {
  assert.ok(uninterrupted, 'the end-to-end test ran first');
  const dir = join(root, 'interrupted');
  class Interrupt extends Error {}
  let saves = 0;
  const interrupting: Experiment<any> = {
    ...hypercleaning,
    run: (o, ctx) => runHypercleaning(o, ctx, {
      onSaved: (state) => {
        saves++;
        const second = state.runs.find((r) => r.K === 3);
        if (second && second.tau === 2 && !second.final) throw new Interrupt('interrupted');
      },
    }),
  };
  try {
    await runTiny(dir, [], interrupting);
    assert.unreachable('the run should have been interrupted');
  } catch (e) {
    if (!(e instanceof Interrupt)) throw e;
  }
  assert.ok(saves >= 3);
  // What an interrupt leaves: a readable state and partial results.
  const saved = loadState(dir);
  assert.ok(saved.runs[0]!.final, 'K = 1 finished before the interrupt');
  assert.is(saved.runs[1]!.tau, 2);
  const partial = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
  assert.is(partial.complete, false);
  assert.is(partial.table.length, 1);

  const outcome = await resumeToSameNumbers(dir);
  assert.is(outcome.dir, dir, '--resume continues in the folder it names');
});

/** Resumes DIR in-process and checks it ends with the uninterrupted run's numbers. */
async function resumeToSameNumbers(dir: string): Promise<RunOutcome<HypercleaningResults>> {
  const outcome = await runExperiment(hypercleaning, parseOptions(hypercleaning, [...TINY, '--resume', dir]), quiet);
  const a = uninterrupted!.outcome.results;
  const b = outcome.results;
  assert.equal(withoutTimings(b.table), withoutTimings(a.table));
  assert.equal(b.figure5, a.figure5);
  assert.equal(b.validationLoss, a.validationLoss);
  assert.equal(b.references, a.references);
  assert.equal(loadState(dir).runs.map((r) => r.lambda), loadState(uninterrupted!.dir).runs.map((r) => r.lambda));
  assert.is(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')).complete, true);
  return outcome;
}

s('a killed process (SIGKILL after its first save) resumes to the same numbers', async () => {
  assert.ok(uninterrupted, 'the end-to-end test ran first');
  const dir = join(root, 'killed');
  // The real command in a child process (dist/cli.js, built by npm test), killed without warning.
  const child = await hypertape(['hypercleaning', ...TINY, '--out', dir], { dir, signal: 'SIGKILL' });
  assert.is(child.code, null, 'the run was killed before it finished');
  const saved = loadState(dir);
  const Ks = 3; // TINY's --K 1,3,10
  assert.ok(saved.runs.length < Ks || saved.runs.some((r) => !r.final), 'the saved state is readable and partial');
  await resumeToSameNumbers(dir);
});

s('Ctrl-C (SIGINT after the first save) saves, prints the resume command, exits 130; --resume finishes it', async () => {
  assert.ok(uninterrupted, 'the end-to-end test ran first');
  const dir = join(root, 'ctrl-c');
  const child = await hypertape(['hypercleaning', ...TINY, '--out', dir], { dir, signal: 'SIGINT' });
  assert.is(child.code, 130, `exit code (output: ${child.output})`);
  assert.ok(child.output.includes('Interrupt: saving the state'), child.output);
  const resume = child.output.split('\n').find((l) => l.includes('--resume'));
  assert.ok(resume, `the output names the command that resumes: ${child.output}`);
  assert.ok(resume!.trim().startsWith('hypertape hypercleaning') && resume!.trim().endsWith(`--resume ${dir}`), resume);
  for (const flag of ['--seed 5', '--n-train 120', '--K 1,3,10', '--hyper-iterations 6']) assert.ok(resume!.includes(flag), `${resume} lacks ${flag}`);
  const saved = loadState(dir);
  assert.ok(saved.runs.length < 3 || saved.runs.some((r) => !r.final), 'stopped before the end');
  assert.ok(noCompleteResults(dir), 'results.json is not marked complete');
  await resumeToSameNumbers(dir);
});

s('the abort signal stops a run in-process at the next hyper-iteration with RunInterrupted', async () => {
  const dir = join(root, 'aborted');
  const controller = new AbortController();
  const stopping: Experiment<any> = {
    ...hypercleaning,
    run: (o, ctx) => runHypercleaning(o, ctx, { onSaved: (state) => { if (state.runs.length === 2) controller.abort(); } }),
  };
  const e = await expectError(() => runExperiment(stopping, parseOptions(stopping, [...TINY, '--out', dir]), { ...quiet, signal: controller.signal }),
    'K = 3, after 2 of 6 hyper-iterations', `--resume ${dir}`);
  assert.ok(e instanceof RunInterrupted);
  assert.is(loadState(dir).runs[1]!.tau, 2);
  await resumeToSameNumbers(dir);
});

s('refuses a resume with other options, a folder without state, and a fresh run over a saved one', async () => {
  assert.ok(uninterrupted);
  const dir = uninterrupted!.dir;
  const expectError = async (argv: string[], ...parts: string[]) => {
    try {
      await runExperiment(hypercleaning, parseOptions(hypercleaning, argv), quiet);
    } catch (e) {
      const msg = (e as Error).message;
      for (const p of parts) assert.ok(msg.includes(p), `error "${msg}" lacks "${p}"`);
      return e;
    }
    assert.unreachable(`expected an error mentioning ${parts.join(', ')}`);
  };
  const other = await expectError([...TINY.map((a) => (a === '120' ? '100' : a)), '--resume', dir], '--n-train was 120, now 100', 'hypertape hypercleaning', '--n-train 120');
  assert.ok(other instanceof UsageError);
  await expectError([...TINY, '--resume', join(root, 'nothing-here')], join(root, 'nothing-here', STATE_FILE), 'no such file');
  await expectError([...TINY, '--out', dir], 'already holds a hypercleaning run', `--resume ${dir}`);
  await expectError([...TINY, '--K', '1,30'], '--K values must be at most --T = 10');
});

s('--resume validates state.json: each bad field is an Error naming the file and the field', async () => {
  assert.ok(uninterrupted);
  const from = uninterrupted!.dir;
  const resume = (dir: string, argv = TINY) => () => runExperiment(hypercleaning, parseOptions(hypercleaning, [...argv, '--resume', dir]), quiet);
  const cases: [string, (st: any) => void, ...string[]][] = [
    ['tau-99', (st) => (st.runs[1].tau = 99), 'runs[1].tau is 99', 'an integer in [0, 6]'],
    ['short-lambda', (st) => (st.runs[0].lambda = st.runs[0].lambda.slice(0, 50)), 'runs[0].lambda is an array of length 50', 'of length 120'],
    ['no-setting', (st) => delete st.settings.nTrain, 'settings.nTrain is missing', '--n-train'],
    ['tau-string', (st) => (st.runs[2].tau = '6'), 'runs[2].tau is the string "6"', 'an integer'],
    ['lambda-text', (st) => (st.runs[0].lambda[7] = 'x'), 'runs[0].lambda[7] is the string "x"', 'a finite number'],
    ['seconds-short', (st) => st.runs[0].seconds.pop(), 'runs[0].seconds is an array of length 5', 'of length 6'],
    ['unknown-K', (st) => (st.runs[1].K = 7), 'runs[1].K is 7', 'one of the run\'s K values 1, 3, 10'],
    ['no-runs', (st) => delete st.runs, 'runs is missing'],
    ['final-early', (st) => { st.runs[0].tau = 4; st.runs[0].seconds.length = 4; st.runs[0].valLoss.length = 4; for (const k of ['f1History', 'precisionHistory', 'recallHistory']) st.runs[0][k].length = 4; st.runs[0].exactGradNorm.length = 2; }, 'runs[0].tau is 4', 'final metrics'],
  ];
  for (const [name, edit, ...parts] of cases) {
    const dir = editedState(from, join(root, `bad-${name}`), edit);
    const e = await expectError(resume(dir), join(dir, STATE_FILE), ...parts);
    assert.not.ok(e instanceof TypeError, `${name}: ${e.message}`);
    assert.ok(noCompleteResults(dir), `${name}: no results.json marked complete`);
  }
  // A different option: the first difference named, with the command line that resumes.
  const dir = editedState(from, join(root, 'other-option'), () => {});
  const e = await expectError(resume(dir, TINY.map((a) => (a === '6' ? '7' : a))), join(dir, STATE_FILE), '--hyper-iterations was 6, now 7', '--hyper-iterations 6 ', `--checkpoint-every 2 --resume ${dir}`);
  assert.ok(e instanceof UsageError);
});

s('the command: a resume from an edited state.json exits non-zero with the message and writes no complete results.json', async () => {
  assert.ok(uninterrupted);
  const dir = editedState(uninterrupted!.dir, join(root, 'cli-tau-99'), (st) => (st.runs[0].tau = 99));
  const child = await hypertape(['hypercleaning', ...TINY, '--resume', dir]);
  assert.is(child.code, 1, child.output);
  assert.ok(child.output.includes(`${join(dir, STATE_FILE)}: runs[0].tau is 99; expected an integer in [0, 6]`), child.output);
  assert.ok(noCompleteResults(dir));
});

s('--data-dir without the MNIST files: an error naming the file', async () => {
  const empty = mkdtempSync(join(root, 'no-mnist-'));
  try {
    await runTiny(join(root, 'never'), ['--data-dir', empty]);
    assert.unreachable('expected an error');
  } catch (e) {
    const msg = (e as Error).message;
    assert.ok(msg.includes(join(empty, 'train-images-idx3-ubyte')) && msg.includes('no such file'), msg);
  }
});

s.run();
