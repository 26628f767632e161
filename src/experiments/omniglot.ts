// `hypertape omniglot`: the paper's section 4.3, one-shot learning on Omniglot.
//   Table 4: per method (K-RMD for each K, full RMD, the short horizon T = 1), the mean test
//            accuracy over sampled meta-test tasks with its 95% interval, the hyper-iterations,
//            seconds per hyper-iteration and the peak GPU bytes of one hypergradient; next to it,
//            the same network with lambda left at its initial value.
//   Figure 7: test accuracy and validation loss against hyper-iteration; the cosine similarity of
//            each K-RMD hypergradient with full RMD's; the relative error of h_{T-K} against K,
//            with and without the pull rho.
// The network is in omniglot-net.ts, the per-task bilevel problem in omniglot-problem.ts, the
// evaluation in omniglot-eval.ts, the state layout in omniglot-state.ts, tables and figures in
// omniglot-report.ts.
import { dispose, tensor, type Tensor } from '../index.js';
import { Adam, cosineSimilarity, flattenTree, type HypergradientOptions } from '../bilevel/index.js';
import { loadOmniglotSplits, defaultOmniglotSources, omniglotSourcesIn, type OmniglotSet } from '../data/omniglot.js';
import { sampleTask } from '../data/tasks.js';
import { mulberry32 } from '../data/random.js';
import { initialHyper, hyperFromArray, hyperSize, type Hyper, type NetConfig } from './omniglot-net.js';
import { omniglotHypergradient, taskToDevice, disposeTask, truncationErrors, type InnerSettings } from './omniglot-problem.js';
import { evaluate, drawTask, deriveSeed, STREAM, type TaskSampler, type Evaluation } from './omniglot-eval.js';
import { omniglotState, STATE_FILE, type OmniglotRun, type OmniglotState, type OmniglotStateSettings, type TestPoint } from './omniglot-state.js';
import { omniglotResults, omniglotSummary, omniglotFigures, type OmniglotResults } from './omniglot-report.js';
import { defineExperiment, UsageError, type OptionValues, type RunContext, type ExperimentReport } from './registry.js';
import { formatNumber } from './report.js';
import type { Progress } from './progress.js';
import { openState, saveState, fingerprint, commandFor, resumeCommand, resumeOptions } from './shared/state.js';
import { hyperIterate, recordPeaks } from './shared/loop.js';

const options = {
  k: { type: 'int', min: 2, max: 255, default: 5, help: 'k-way classification: classes per task' },
  queries: { type: 'int', min: 1, default: 5, help: 'images per class in Q (the validation set of each task; S has one per class)' },
  methods: {
    type: 'string', default: '1,10,25,full,short', quick: '1,10,full,short',
    help: 'comma-separated: a K for K-RMD, full (full RMD), short (full RMD with T = 1, the short-horizon baseline); one run each',
  },
  hyperIterations: { type: 'int', min: 1, default: 5000, quick: 40, help: 'hyper-iterations (Adam steps, one sampled task each) of each run; the paper also runs 15000' },
  T: { type: 'int', min: 1, default: 50, help: 'inner gradient-descent steps' },
  filters: { type: 'int', min: 1, default: 64, quick: 16, help: 'filters of every convolution' },
  size: { type: 'int', min: 4, max: 105, default: 28, help: 'side of the resized images' },
  lr: { type: 'number', min: 0, default: 0.001, quick: 0.01, help: 'Adam step size of the outer optimizer' },
  rho0: { type: 'number', min: 0, default: 0.1, help: 'initial pull rho_j of every adapted layer' },
  gamma0: { type: 'number', min: 0, default: 0.3, help: 'initial inner step size gamma' },
  evalTasks: { type: 'int', min: 2, default: 120, quick: 20, help: 'meta-test tasks of each accuracy (the same tasks for every method)' },
  evalEvery: { type: 'int', min: 1, default: 500, quick: 40, help: 'Figure 7 measures the test accuracy every this-many hyper-iterations (and at the first and last)' },
  exactEvery: { type: 'int', min: 1, default: 100, quick: 20, help: 'Figure 7 compares each K-RMD hypergradient with full RMD\'s every this-many hyper-iterations' },
  truncationCurves: { type: 'boolean', default: true, help: 'compute Figure 7\'s relative error of h_{T-K} for K = 1..T at the end' },
  ...resumeOptions(50, 10),
  dataDir: { type: 'string', default: '', help: 'folder with images_background.zip (meta-training) and images_evaluation.zip (meta-test) (default: the two small background splits in shared/data/omniglot)' },
} as const;

/** The parsed options of `hypertape omniglot`. */
export type OmniglotOptions = OptionValues<typeof options>;

const DESCRIPTION = `
Section 4.3: k-way one-shot classification on Omniglot. Each hyper-iteration samples a task
from the meta-training classes: k classes, one image per class in S and --queries per class
in Q. The network is MAML's: four blocks of 3x3 convolution (--filters), batch normalisation
with batch statistics, ReLU and stride-2 down-sampling, then a linear k-way output. Blocks 1-2
are hyperparameters (lambda_l1, lambda_l2); blocks 3-4 and the output layer are the adapted
weights w_j (V = 3), each with a centre c_j and a pull rho_j:
  inner  g_S(w, lambda) = mean CE on S + sum_j rho_j ||w_j - c_j||^2, T GD steps of size gamma from w_0 = c
  outer  f(w_T, lambda) = mean CE on Q
lambda = {lambda_l1, lambda_l2, c, rho, gamma}, optimized by Adam. Each method runs its own
hyper-iterations from the same initial lambda on the same task stream.

Table 4: mean accuracy on Q over --eval-tasks tasks from the meta-test classes (95% interval),
hyper-iterations, seconds per hyper-iteration (hypergradient and Adam step; mean and median),
and the peak GPU bytes of one hypergradient; next to it, lambda at its initial value.
Figure 7: test accuracy and validation loss (f of each hyper-iteration's task, running mean)
against hyper-iteration; the cosine similarity of each K-RMD hypergradient with full RMD's on the
same task every --exact-every hyper-iterations; ||h_{T-K} - d f|| / ||d f|| for K = 1..T at the
final lambda of full RMD (or the last run), with rho as learned and with rho = 0.

Choices the paper leaves open:
- Data: by default the two small background splits shipped in shared/data/omniglot: small1
  for meta-training, small2 for meta-testing. The two share the Greek and Latin alphabets (50
  identical characters), so those are dropped from meta-testing (106 of small2's 156 characters
  remain). --data-dir takes the full
  images_background.zip and images_evaluation.zip. Images are resized to 28x28 by area averaging,
  ink = 1, and each character at 0/90/180/270 degrees is its own class (MAML).
- Network: stride-2 convolutions (MAML's Omniglot setting), no convolution bias (batch norm
  removes it), batch-norm offset beta and no scale (MAML), the output layer on the mean of the
  last block over its positions (MAML). He-normal initial kernels.
- g uses the mean over S (the paper writes a sum; it only rescales gamma and rho by k).
- rho_j = exp(.), gamma = exp(.): Adam updates their logarithms, so both stay positive.
- Q has 5 images per class (S has 1); batch statistics are those of S in the inner loop and of
  Q in f and in testing.
- The hypergradient with respect to blocks 1-2 through the inner steps: their output on S is
  computed once per hyper-iteration, and the chain rule carries its gradient back (exact for
  every method; see omniglot-problem.ts).

--quick: 16 filters (instead of 64), methods 1, 10, full, short (25-RMD left out), 40
hyper-iterations (instead of 5,000) with Adam step 0.01 (instead of 0.001), 20 test tasks
(instead of 120), test accuracy at the first and last hyper-iteration only, cosine with full
RMD every 20 hyper-iterations; k, T, Q, the initial lambda's scalars and the data unchanged.
The run saves its state (${STATE_FILE}) every --checkpoint-every hyper-iterations; after an
interrupt, run the same command with --resume <its output folder> to continue it there. A first
Ctrl-C saves the state after the hyper-iteration in progress and prints the command that resumes.`;

/** Hooks for tests: called after each save of the state (a throw there simulates an interrupt). */
export interface OmniglotHooks {
  onSaved?: (state: OmniglotState) => void;
}

/** One entry of --methods. */
export interface MethodSpec {
  /** As written: a K, 'full' or 'short'. */
  name: string;
  K: number;
  T: number;
  options: HypergradientOptions;
}

/** Parses --methods against the horizon T. */
export function parseMethods(text: string, T: number): MethodSpec[] {
  const names = text.split(',').map((x) => x.trim().toLowerCase()).filter((x) => x !== '');
  if (names.length === 0) throw new UsageError(`--methods is empty; give K values, full and/or short, e.g. 1,10,25,full,short.`);
  const out: MethodSpec[] = [];
  for (const name of names) {
    let m: MethodSpec;
    if (name === 'full') m = { name, K: T, T, options: { method: 'rmd' } };
    else if (name === 'short') m = { name, K: 1, T: 1, options: { method: 'rmd' } };
    else {
      const K = Number(name);
      if (!Number.isInteger(K) || K < 1 || K > T) {
        throw new UsageError(`--methods: '${name}' is not a method; use integers K from 1 to --T = ${T}, full or short.`);
      }
      m = K === T ? { name, K, T, options: { method: 'rmd' } } : { name, K, T, options: { method: 'krmd', K } };
    }
    if (out.some((x) => x.name === m.name)) throw new UsageError(`--methods lists '${name}' twice.`);
    out.push(m);
  }
  return out;
}

function validate(o: OmniglotOptions): void {
  parseMethods(o.methods, o.T);
  if (1 + o.queries > 20) {
    throw new UsageError(`--queries ${o.queries}: S and Q together take 1 + ${o.queries} images per class, but an Omniglot character has 20 (one per drawer).`);
  }
}

/** Options that change the numbers; a resumed run must be given the same ones. */
function numericSettings(o: OmniglotOptions): OmniglotStateSettings & Record<string, unknown> {
  const { resume: _r, checkpointEvery: _c, dataDir: _d, ...rest } = o;
  return rest;
}

/** The data and everything fixed for a run. */
interface Session {
  train: OmniglotSet;
  test: OmniglotSet;
  sampleTrain: TaskSampler;
  sampleTest: TaskSampler;
  cfg: NetConfig;
}

/**
 * Refuses a set that cannot give k-way tasks with 1 + queries images per class (tasks draw k
 * distinct characters), naming the file and the numbers.
 */
export function checkSet(set: OmniglotSet, what: string, o: Pick<OmniglotOptions, 'k' | 'queries'>): void {
  const characters = new Set(set.classes.map((c) => `${c.alphabet}/${c.character}`)).size;
  if (characters < o.k) {
    throw new Error(`${set.source}: the ${what} set has ${characters} characters (${set.classes.length} classes), fewer than k = ${o.k}; use a smaller --k or a larger set (--data-dir)`);
  }
  const need = 1 + o.queries;
  const short = set.classes.filter((c) => c.m < need);
  if (short.length) {
    const c = short[0]!;
    throw new Error(`${set.source}: ${short.length} of the ${what} set's ${set.classes.length} classes have fewer than 1 + --queries = ${need} images ` +
      `(${c.alphabet}/${c.character}${c.rotation ? ` rotated ${c.rotation}` : ''} has ${c.m}); use a smaller --queries`);
  }
}

async function openSession(o: OmniglotOptions): Promise<Session> {
  const sources = o.dataDir ? omniglotSourcesIn(o.dataDir) : defaultOmniglotSources();
  const { train, test } = await loadOmniglotSplits(sources, { size: o.size });
  checkSet(train, 'meta-training', o);
  checkSet(test, 'meta-test', o);
  const sampler = (set: OmniglotSet): TaskSampler => (random) => sampleTask(set, { k: o.k, shots: 1, queries: o.queries, random });
  return { train, test, sampleTrain: sampler(train), sampleTest: sampler(test), cfg: { k: o.k, filters: o.filters, size: o.size } };
}

function dataFingerprint(s: Session): string {
  return fingerprint(...[s.train, s.test].flatMap((set) => set.classes.map((c) => c.images)));
}

/** The initial lambda of every run (drawn from the seed). */
function initialLambda(s: Session, o: OmniglotOptions, seed: number): Hyper {
  return initialHyper(s.cfg, { rho: o.rho0, gamma: o.gamma0 }, mulberry32(deriveSeed(seed, 0)));
}

async function flat(ts: Tensor[]): Promise<number[]> {
  const out: number[] = [];
  for (const t of ts) for (const x of await t.data()) out.push(x);
  return out;
}

/** Splits a flat array into one array per tensor of `like` (their sizes in order). */
function splitLike(values: number[], like: Tensor[]): number[][] {
  let offset = 0;
  return like.map((t) => values.slice(offset, (offset += t.size)));
}

/** Adam's moments into the run's flat arrays (state.json keeps them flat, like lambda). */
async function persistAdam(adam: Adam<Hyper>, run: OmniglotRun): Promise<void> {
  const { m, v } = await adam.save();
  run.adamM = m ? m.flat() : [];
  run.adamV = v ? v.flat() : [];
}

const point = (tau: number, e: Evaluation): TestPoint => ({ tau, accuracy: e.accuracy, ci95: e.ci95, loss: e.loss });

/** One method's run: hyper-iterations from wherever `run` stands, saving every few; then its test accuracy. */
async function optimize(s: Session, o: OmniglotOptions, ctx: RunContext, state: OmniglotState, m: MethodSpec, run: OmniglotRun, save: () => void, progress: Progress): Promise<void> {
  const inner: InnerSettings = { T: m.T, regularised: true };
  let hyper = run.lambda.length ? hyperFromArray(s.cfg, run.lambda) : initialLambda(s, o, ctx.seed);
  const adam = new Adam<Hyper>({ lr: o.lr });
  const leaves = () => flattenTree(hyper).leaves;
  const saved = run.adamM.length > 0;
  adam.restore({ tau: run.tau, m: saved ? splitLike(run.adamM, leaves()) : null, v: saved ? splitLike(run.adamV, leaves()) : null }, hyper);
  const compareWithFull = m.options.method === 'krmd';
  try {
    await hyperIterate({
      run,
      hyperIterations: o.hyperIterations,
      checkpointEvery: o.checkpointEvery,
      step: async (tau, time) => {
        const task = taskToDevice(drawTask(s.sampleTrain, ctx.seed, STREAM.train, tau));
        try {
          const { h, next } = await time(async () => {
            const h = await omniglotHypergradient(task, hyper, inner, m.options);
            return { h, next: adam.step(hyper, h.grad) };
          });
          recordPeaks(run, h.stats);
          run.valLoss.push(h.value);
          if (compareWithFull && tau % o.exactEvery === 0) {
            const exact = await omniglotHypergradient(task, hyper, inner, { method: 'rmd' });
            run.cosine.push({ tau, cos: await cosineSimilarity(h.grad, exact.grad) });
            dispose(exact.grad);
          }
          dispose([hyper, h.grad]);
          hyper = next;
          if ((tau + 1) % o.evalEvery === 0 && tau + 1 < o.hyperIterations) {
            run.test.push(point(tau + 1, await evaluate(s.sampleTest, hyper, inner, o.evalTasks, ctx.seed)));
          }
          return `${m.name}: f = ${formatNumber(h.value, 3)}`;
        } finally {
          disposeTask(task);
        }
      },
      persist: async () => {
        run.lambda = await flat(leaves());
        await persistAdam(adam, run);
      },
      save,
      progress,
      stop: { signal: ctx.signal, dir: ctx.out, resumeCommand: resumeCommand(state, ctx.out), label: `method ${m.name}` },
    });
    run.lambda = await flat(leaves());
    await persistAdam(adam, run);
    run.final = point(o.hyperIterations, await evaluate(s.sampleTest, hyper, inner, o.evalTasks, ctx.seed));
    save();
  } finally {
    dispose(hyper);
    adam.dispose();
  }
}

/** Figure 7's last plot at the final lambda of full RMD (or of the last run with the full horizon). */
async function curves(s: Session, o: OmniglotOptions, ctx: RunContext, state: OmniglotState): Promise<void> {
  const runs = state.runs.filter((r) => r.final && r.T === o.T);
  const run = runs.find((r) => r.method === 'full') ?? runs[runs.length - 1];
  if (!run) return;
  const hyper = hyperFromArray(s.cfg, run.lambda);
  const task = taskToDevice(drawTask(s.sampleTrain, ctx.seed, STREAM.curve, 0));
  try {
    const regularised = await truncationErrors(task, hyper, { T: o.T, regularised: true });
    const unregularised = await truncationErrors(task, hyper, { T: o.T, regularised: false });
    state.curves = { method: run.method, regularised, unregularised };
  } finally {
    disposeTask(task);
    dispose(hyper);
  }
}

/** The experiment, with test hooks; the registry's `run` calls it without. */
export async function runOmniglot(o: OmniglotOptions, ctx: RunContext, hooks: OmniglotHooks = {}): Promise<ExperimentReport<OmniglotResults>> {
  validate(o);
  const methods = parseMethods(o.methods, o.T);
  ctx.log(`Reading Omniglot (${o.dataDir ? o.dataDir : 'the shared small splits'}), ${o.size}x${o.size}, with rotations.`);
  const s = await openSession(o);
  ctx.log(`Meta-training: ${s.train.classes.length} classes (${s.train.source}); meta-test: ${s.test.classes.length} classes (${s.test.source}).`);
  const { resume: _r, ...rest } = o;
  const command = commandFor('omniglot', ctx.quick, ctx.seed, rest);
  const state = openState(omniglotState, { out: ctx.out, resume: o.resume, quick: ctx.quick, command },
    { seed: ctx.seed, settings: numericSettings(o), dataFingerprint: dataFingerprint(s), dataHint: 'the Omniglot zips of this run' }, {});
  if (o.resume) ctx.log(`Resuming ${o.resume}: ${state.runs.filter((r) => r.final).length} of ${methods.length} runs finished.`);
  const save = () => {
    saveState(ctx.out, state);
    ctx.checkpoint(omniglotResults(o, state, methods, s));
    hooks.onSaved?.(state);
  };
  const size = hyperSize(s.cfg);
  if (!state.initial) {
    ctx.log(`lambda at its initial value (${size} values), on ${o.evalTasks} test tasks.`);
    const hyper = initialLambda(s, o, ctx.seed);
    try {
      state.initial = point(0, await evaluate(s.sampleTest, hyper, { T: o.T, regularised: true }, o.evalTasks, ctx.seed));
      if (methods.some((m) => m.T === 1)) state.initialShort = point(0, await evaluate(s.sampleTest, hyper, { T: 1, regularised: true }, o.evalTasks, ctx.seed));
    } finally {
      dispose(hyper);
    }
    save();
  }
  const progress = ctx.progress('omniglot', methods.length * o.hyperIterations, state.runs.reduce((a, r) => a + r.tau, 0));
  for (const m of methods) {
    let run = state.runs.find((r) => r.method === m.name);
    if (!run) {
      run = { method: m.name, K: m.K, T: m.T, tau: 0, seconds: [], peakBytes: 0, peakBytesTotal: 0, lambda: [], adamM: [], adamV: [], valLoss: [], test: [], cosine: [] };
      state.runs.push(run);
    }
    if (run.final) continue;
    await optimize(s, o, ctx, state, m, run, save, progress);
    ctx.log(`${m.name}: test accuracy ${(100 * run.final!.accuracy).toFixed(2)} % ± ${(100 * run.final!.ci95).toFixed(2)}`);
  }
  progress.done();
  if (o.truncationCurves && !state.curves) {
    ctx.log(`Figure 7 (right): h_{T-K} for K = 1..${o.T}, with and without the pull.`);
    await curves(s, o, ctx, state);
    save();
  }
  const results = omniglotResults(o, state, methods, s);
  return { results, summary: omniglotSummary(o, results), figures: omniglotFigures(o, results) };
}

/** `hypertape omniglot`, as the command registers it. */
export const omniglot = defineExperiment({
  name: 'omniglot',
  summary: 'Table 4 and Figure 7 of the paper: one-shot learning on Omniglot with K-RMD (section 4.3)',
  description: DESCRIPTION,
  options,
  validate,
  run: (o, ctx) => runOmniglot(o, ctx),
});
