// What the experiments share (src/experiments/shared/): the state-file schema and its error
// messages, the resumable state (settings compared, fields validated), seeded splits, examples
// on the CPU and the GPU, the statistics, the hyper-iteration loop and the Ctrl-C handling.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as s from '../src/experiments/shared/schema.js';
import {
  defineState, openState, saveState, loadState, hasState, commandFor, resumeCommand, fingerprint, hyperRunFields, StateError, STATE_FILE, type HyperRun,
} from '../src/experiments/shared/state.js';
import { permutation, takeSplits, perClassSplits } from '../src/experiments/shared/split.js';
import { examples, selectRows, fitStandardizer, toDevice, disposeExamples, type Examples } from '../src/experiments/shared/examples.js';
import { mean, median, std, ci95 } from '../src/experiments/shared/stats.js';
import { hyperIterate } from '../src/experiments/shared/loop.js';
import { RunInterrupted, interruptOnSigint, INTERRUPTED_EXIT_CODE } from '../src/experiments/shared/interrupt.js';
import { UsageError } from '../src/experiments/registry.js';
import { mulberry32 } from '../src/data/random.js';
import { setup, assertClose, values } from './helpers.js';
import { expectError } from './experiment-helpers.js';

const t = suite('experiment-shared');
t.before(setup);

let root = '';
t.before(() => {
  root = mkdtempSync(join(tmpdir(), 'hypertape-shared-'));
});
t.after(() => rmSync(root, { recursive: true, force: true }));

const schemaError = (f: () => unknown, message: string) => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof s.SchemaError, String(e));
    assert.is((e as Error).message, message);
    return;
  }
  assert.unreachable(`expected: ${message}`);
};

t('schema: types, bounds, lengths from earlier fields, optional and unknown fields', () => {
  const run = s.object({
    tau: s.int({ min: 0, max: 5 }),
    loss: s.numbers({ length: (r: { tau: number }) => r.tau, nullable: true }),
    name: s.string(['a', 'b']),
    note: s.optional(s.string()),
    points: s.array(s.object({ x: s.number() }), { maxLength: 2 }),
  });
  const ok = run.check({ tau: 2, loss: [1, null], name: 'a', points: [{ x: 1.5 }] }, 'runs[0]');
  assert.equal(ok, { tau: 2, loss: [1, NaN], name: 'a', points: [{ x: 1.5 }] });
  schemaError(() => run.check({ tau: 9, loss: [], name: 'a', points: [] }, 'runs[0]'), 'runs[0].tau is 9; expected an integer in [0, 5]');
  schemaError(() => run.check({ tau: 1.5, loss: [], name: 'a', points: [] }, 'r'), 'r.tau is number 1.5; expected an integer in [0, 5]');
  schemaError(() => run.check({ tau: 2, loss: [1], name: 'a', points: [] }, 'r'), 'r.loss is an array of length 1; expected an array of finite numbers (or null) of length 2');
  schemaError(() => run.check({ tau: 1, loss: ['1'], name: 'a', points: [] }, 'r'), 'r.loss[0] is the string "1"; expected a finite number or null');
  schemaError(() => run.check({ tau: 0, loss: [], name: 'c', points: [] }, 'r'), 'r.name is the string "c"; expected one of "a", "b"');
  schemaError(() => run.check({ tau: 0, loss: [], points: [] }, 'r'), 'r.name is missing; expected one of "a", "b"');
  schemaError(() => run.check({ tau: 0, loss: [], name: 'a', points: [], extra: 1 }, 'r'), 'r.extra is a field this version does not know; expected only tau, loss, name, note, points');
  schemaError(() => run.check({ tau: 0, loss: [], name: 'a', points: [{ x: 1 }, { x: 2 }, { x: 3 }] }, 'r'), 'r.points is an array of length 3; expected an array of an object with x of length at most 2');
  schemaError(() => run.check({ tau: 0, loss: [], name: 'a', points: [{ x: Infinity }] }, 'r'), 'r.points[0].x is number Infinity; expected a finite number');
  schemaError(() => run.check([], 'r'), 'r is an array of length 0; expected an object with tau, loss, name, note, points');
  schemaError(() => s.numbers().check([1, null], 'v'), 'v[1] is null; expected a finite number');
  const refined = s.object({ a: s.int(), b: s.int() }, { refine: (v) => (v.a > v.b ? ['a', String(v.a), `at most b = ${v.b}`] : undefined) });
  schemaError(() => refined.check({ a: 3, b: 2 }, 'p'), 'p.a is 3; expected at most b = 2');
});

// A small experiment state: settings { n, hyperIterations, K }, one run per K.
interface Run extends HyperRun { K: number; lambda: number[] }
interface Settings { n: number; hyperIterations: number; K: number[] }
const spec = defineState<Settings, Run, { note?: string }>({
  experiment: 'demo',
  version: 2,
  run: (o) => s.object({ K: s.int({ min: 1 }), ...hyperRunFields(o.hyperIterations), lambda: s.numbers({ length: o.n }) }),
  extra: () => ({ note: s.optional(s.string()) }),
  maxRuns: (o) => o.K.length,
  checkRuns: (runs, o) => {
    const i = runs.findIndex((r) => !o.K.includes(r.K));
    return i >= 0 ? [`runs[${i}].K`, String(runs[i]!.K), `one of ${o.K.join(', ')}`] : undefined;
  },
});
const settings = { n: 3, hyperIterations: 4, K: [1, 2] };
const demoRun = (K: number, tau: number): Run => ({ K, tau, seconds: new Array(tau).fill(0.5), peakBytes: 10, peakBytesTotal: 20, lambda: [0, 1, 2] });

t('state: a fresh state, saved and read back; a second fresh run in the same folder is refused', async () => {
  const dir = join(root, 'fresh');
  const command = commandFor('demo', true, 7, settings);
  assert.is(command, 'hypertape demo --quick --seed 7 --n 3 --hyper-iterations 4 --K 1,2');
  const state = openState(spec, { out: dir, resume: '', quick: true, command }, { seed: 7, settings, dataFingerprint: 'abcd0123' }, { note: 'x' });
  state.runs.push(demoRun(1, 4), demoRun(2, 1));
  mkdirSync(dir, { recursive: true });
  saveState(dir, state);
  assert.ok(hasState(dir));
  const back = loadState(spec, dir);
  assert.equal(back, state);
  assert.is(back.format, 'hypertape/demo-state');
  assert.is(resumeCommand(back, '/tmp/a b'), `${command} --resume '/tmp/a b'`);
  await expectError(async () => openState(spec, { out: dir, resume: '', quick: true, command }, { seed: 7, settings }, {}), `${dir} already holds a demo run`, `--resume ${dir}`);
  // Resume: the same settings pass; other ones name the first difference and the command.
  assert.equal(openState(spec, { out: dir, resume: dir, quick: true, command }, { seed: 7, settings, dataFingerprint: 'abcd0123' }, {}).runs.length, 2);
  const other = await expectError(async () => loadState(spec, dir, { seed: 7, settings: { ...settings, n: 4 } }), join(dir, STATE_FILE), '--n was 3, now 4', `${command} --resume ${dir}`);
  assert.ok(other instanceof UsageError);
  await expectError(async () => loadState(spec, dir, { seed: 8, settings }), '--seed was 7, now 8');
  await expectError(async () => loadState(spec, dir, { seed: 7, settings, dataFingerprint: 'ffff0000', dataHint: 'these files' }), 'other data (fingerprint abcd0123 saved, ffff0000 from these files)');
  assert.is(fingerprint(new Uint8Array([1, 2, 3])), fingerprint(new Uint8Array([1, 2, 3])));
  assert.is.not(fingerprint(new Uint8Array([1, 2, 3])), fingerprint(new Uint8Array([1, 2, 4])));
});

t('state: every damaged field is a StateError naming state.json, the field, what was found and expected', async () => {
  const good = { format: 'hypertape/demo-state', version: 2, command: 'hypertape demo --seed 0', seed: 0, settings, runs: [demoRun(1, 2)] };
  const write = (name: string, doc: unknown) => {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, STATE_FILE), typeof doc === 'string' ? doc : JSON.stringify(doc));
    return dir;
  };
  const check = async (name: string, doc: unknown, field: string, ...parts: string[]) => {
    const dir = write(name, doc);
    const e = await expectError(async () => loadState(spec, dir, { seed: 0, settings }), `${join(dir, STATE_FILE)}: `, ...parts);
    assert.ok(e instanceof StateError, `${name}: ${e.name}`);
    assert.is((e as StateError).field, field, name);
  };
  const edit = (f: (d: any) => void) => {
    const d = structuredClone(good) as any;
    f(d);
    return d;
  };
  await check('json', '{ "format": ', '', 'not valid JSON');
  await check('format', { ...good, format: 'hypertape/other-state' }, 'format', "format the string \"hypertape/other-state\", expected 'hypertape/demo-state'");
  await check('version', { ...good, version: 1 }, 'version', 'state version number 1; this hypertape reads version 2');
  await check('tau', edit((d) => (d.runs[0].tau = 99)), 'runs[0].tau', 'runs[0].tau is 99; expected an integer in [0, 4]');
  await check('seconds', edit((d) => d.runs[0].seconds.push(1)), 'runs[0].seconds', 'runs[0].seconds is an array of length 3; expected an array of finite numbers of length 2');
  await check('lambda', edit((d) => d.runs[0].lambda.pop()), 'runs[0].lambda', 'of length 3');
  await check('type', edit((d) => (d.runs[0].peakBytes = '10')), 'runs[0].peakBytes', 'runs[0].peakBytes is the string "10"; expected an integer >= 0');
  await check('setting', edit((d) => delete d.settings.n), 'settings.n', 'settings.n is missing', '--n', 'this run has 3');
  await check('extra-setting', edit((d) => (d.settings.zeta = 1)), 'settings.zeta', 'settings.zeta is not a setting');
  await check('seed', edit((d) => (d.seed = -1)), 'seed', 'seed is -1; expected an integer >= 0');
  await check('too-many', edit((d) => d.runs.push(demoRun(2, 0), demoRun(1, 0))), 'runs', 'runs is an array of length 3; expected', 'of length at most 2');
  await check('K', edit((d) => (d.runs[0].K = 5)), 'runs[0].K', 'runs[0].K is 5; expected one of 1, 2');
  await check('note', edit((d) => (d.note = 3)), 'note', 'note is number 3; expected a string');
  await check('unknown', edit((d) => (d.surprise = true)), 'surprise', 'surprise is a field this version does not know');
  await expectError(async () => loadState(spec, join(root, 'nowhere')), join(root, 'nowhere', STATE_FILE), 'no such file', '--resume takes the output folder');
});

t('splits: a seeded permutation, consecutive subsets, per-class balanced subsets', () => {
  const p = permutation(50, mulberry32(3));
  assert.equal([...p].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  assert.equal(p, permutation(50, mulberry32(3)));
  assert.not.equal(p, permutation(50, mulberry32(4)));
  const [a, b] = takeSplits(p, [10, 5]);
  assert.equal([...a!], [...p.subarray(0, 10)]);
  assert.equal([...b!], [...p.subarray(10, 15)]);
  assert.throws(() => takeSplits(p, [40, 11], 'demo'), /demo: subsets of 40 \+ 11 = 51 examples, but only 50 are available/);
  // 3 classes, class c has 10 + c examples.
  const labels: number[] = [];
  for (let c = 0; c < 3; c++) for (let k = 0; k < 10 + c; k++) labels.push(c);
  labels.reverse();
  const [train, val] = perClassSplits(labels, 3, [4, 5], mulberry32(1));
  assert.is(train!.length, 12);
  assert.is(val!.length, 15);
  for (let c = 0; c < 3; c++) {
    assert.is([...train!].filter((i) => labels[i] === c).length, 4);
    assert.is([...val!].filter((i) => labels[i] === c).length, 5);
  }
  assert.is(new Set([...train!, ...val!]).size, 27, 'disjoint');
  assert.equal(perClassSplits(labels, 3, [4, 5], mulberry32(1)), [train, val]);
  assert.throws(() => perClassSplits(labels, 3, [6, 5], mulberry32(1), 'cifar10'), /cifar10: class 0 has 10 examples; 6 \+ 5 = 11 per class are needed/);
  assert.throws(() => perClassSplits([0, 3], 3, [1], mulberry32(1)), /example 1 has label 3, expected 0..2/);
});

t('examples: checks, selectRows, standardization from a reference set, upload with one-hot columns', async () => {
  const e: Examples = examples('demo', { n: 3, nFeatures: 2, nClasses: 4, features: Float32Array.from([1, 10, 2, 10, 3, 10]), labels: Uint8Array.from([3, 0, 1]) });
  assert.throws(() => examples('demo', { ...e, labels: Uint8Array.from([3, 0, 4]) }), /demo: example 2 has label 4, expected 0..3/);
  assert.throws(() => examples('demo', { ...e, n: 4 }), /demo: 6 feature values do not fit 4 examples of 2 features \(expected 8\)/);
  const picked = selectRows(e, [2, 0]);
  assert.equal([...picked.features], [3, 10, 1, 10]);
  assert.equal([...picked.labels], [1, 3]);
  assert.throws(() => selectRows(e, [3]), /index 3 \(position 0\) is outside the 3 examples/);
  const st = fitStandardizer(e);
  const z = st.apply(picked);
  assertClose([...z.features], [Math.sqrt(1.5), 0, -Math.sqrt(1.5), 0], { rtol: 1e-6 }, 'standardized');
  const d = toDevice(e);
  assert.equal(d.x.shape, [3, 2]);
  assert.equal(d.yT.shape, [4, 3]);
  assert.equal(Array.from(await values(d.yT)), [0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0]);
  disposeExamples(d);
});

t('stats: mean, median, sample std, 95% interval', () => {
  assert.is(mean([1, 2, 6]), 3);
  assert.is(median([5, 1, 3]), 3);
  assert.is(median([4, 1, 3, 2]), 2.5);
  assertClose([std([1, 2, 3, 4])], [Math.sqrt(5 / 3)], { rtol: 1e-12 });
  assert.is(std([7]), 0);
  assertClose([ci95([1, 2, 3, 4])], [(1.96 * Math.sqrt(5 / 3)) / 2], { rtol: 1e-12 });
});

t('the loop: timing, checkpoints, and a stop request saves and throws RunInterrupted', async () => {
  const run = { tau: 1, seconds: [0.25], peakBytes: 0, peakBytesTotal: 0, x: 1 };
  const saves: number[] = [];
  let persisted = 0;
  const controller = new AbortController();
  const ticks: string[] = [];
  const e = await expectError(() => hyperIterate({
    run,
    hyperIterations: 10,
    checkpointEvery: 2,
    step: async (tau, time) => {
      if (tau % 2) await time(() => (run.x *= 2));
      if (tau === 4) controller.abort();
      return `tau ${tau}`;
    },
    persist: async () => { persisted++; },
    save: () => { saves.push(run.tau); },
    progress: { tick: (_n, note) => ticks.push(note ?? ''), done: () => {} },
    stop: { signal: controller.signal, dir: '/out', resumeCommand: 'hypertape demo --resume /out', label: 'K = 2' },
  }), 'interrupted (K = 2, after 5 of 10 hyper-iterations); the state is saved in /out', 'hypertape demo --resume /out');
  assert.ok(e instanceof RunInterrupted);
  assert.equal(saves, [2, 4, 5]);
  assert.is(persisted, 3);
  assert.is(run.tau, 5);
  assert.is(run.seconds.length, 5);
  assert.ok(run.seconds.every((x) => x >= 0));
  assert.equal(ticks, ['tau 1', 'tau 2', 'tau 3', 'tau 4']);
  // To the end: no save after the last hyper-iteration (the caller saves with its final results).
  saves.length = 0;
  await hyperIterate({ run, hyperIterations: 7, checkpointEvery: 2, step: async () => {}, save: () => { saves.push(run.tau); } });
  assert.equal(saves, [6]);
  assert.is(run.tau, 7);
});

t('Ctrl-C: the first aborts the signal, the second exits at once with 130', () => {
  const lines: string[] = [];
  const exits: number[] = [];
  const exit = process.exit;
  const write = process.stderr.write;
  process.exit = ((code: number) => { exits.push(code); }) as typeof process.exit;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  const before = process.listenerCount('SIGINT');
  const interrupt = interruptOnSigint((l) => lines.push(l));
  try {
    process.emit('SIGINT', 'SIGINT');
    assert.ok(interrupt.signal.aborted);
    assert.equal(exits, []);
    assert.ok(lines[0]!.includes('saving the state after the current hyper-iteration'));
    process.emit('SIGINT', 'SIGINT');
    assert.equal(exits, [INTERRUPTED_EXIT_CODE]);
  } finally {
    interrupt.dispose();
    process.exit = exit;
    process.stderr.write = write;
  }
  assert.is(process.listenerCount('SIGINT'), before);
});

t.run();
