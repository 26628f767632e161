// The browser demo: the paper's toy problem (section 4.1) optimized live with K-RMD for several K.
// Every hypergradient h_{T-K} is computed by hypertape on this browser's GPU (WebGPU); the page
// draws the iterates lambda_tau over the contours of f(w_T(lambda)) as they arrive, with the time
// and peak GPU memory of each hypergradient. Settings are those of `hypertape toy --quick`; the
// query string may override them: ?iterations=40&K=1,5,25,100&start=-1,1
// Then the second section (cleaning.ts) runs data hypercleaning on an MNIST subset.
import { init, engine, tensor, dispose, type Tensor } from '../../src/browser.js';
import { hypergradient, SGD, norm } from '../../src/bilevel/index.js';
import { TOY, toyOptimum, toyProblem, toyOuterValue } from '../../src/experiments/toy-problem.js';
import { ContourPlot, type Path } from './plot.js';
import { runCleaning, CLEANING, type CleaningState } from './cleaning.js';
import { FLAG_THRESHOLD } from '../../src/experiments/hypercleaning-problem.js';

const query = new URLSearchParams(location.search);
const numbers = (name: string, fallback: number[]) => query.get(name)?.split(',').map(Number).filter(Number.isFinite) ?? fallback;

const SETTINGS = {
  iterations: Math.max(1, Math.floor(numbers('iterations', [40])[0] ?? 40)),
  K: numbers('K', [1, 5, 25, 100]).filter((k) => Number.isInteger(k) && k >= 1 && k <= TOY.T),
  start: numbers('start', [-1, 1]).slice(0, 2),
  /** eta_0 is set so that the first update has this norm (the paper's footnote 4). */
  firstStep: 0.6,
  window: { x: [-1.5, 1.5] as [number, number], y: [-1.5, 1.5] as [number, number] },
};
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

/** What the page shows, also published as window.hypertapeDemo (read by test/browser.test.ts). */
interface DemoState {
  done: boolean;
  webgpu: boolean | null;
  adapter?: string;
  error?: string;
  runs: { K: number; lambdas: number[][]; values: number[]; ms: number[]; peakBytes: number[] }[];
  cleaning: CleaningState;
}
const state: DemoState = { done: false, webgpu: null, runs: [], cleaning: { done: false, hyperIterations: CLEANING.hyperIterations, iterations: [] } };
(window as unknown as { hypertapeDemo: DemoState }).hypertapeDemo = state;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const optimum = toyOptimum({ objective: 'f' });

const plot = new ContourPlot($<HTMLCanvasElement>('plot'), SETTINGS.window);

function setStatus(text: string): void {
  $('status').textContent = text;
}

function fail(message: string): void {
  state.error = message;
  state.done = true;
  const box = $('error');
  box.hidden = false;
  box.textContent = message;
  setStatus('Stopped by an error.');
}

/** Small numbers in exponent form, so values near the optimum do not read as 0. */
function num(v: number, digits = 3): string {
  return v !== 0 && Math.abs(v) < 10 ** -digits ? v.toExponential(1) : v.toFixed(digits);
}

function kib(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/** One row per K: its colour, tau, lambda_tau, f, and the cost of its hypergradients. */
function renderTable(): void {
  const body = $('runs');
  body.replaceChildren(
    ...state.runs.map((r, i) => {
      const tr = document.createElement('tr');
      const last = r.lambdas[r.lambdas.length - 1]!;
      const mean = r.ms.length ? r.ms.reduce((a, b) => a + b, 0) / r.ms.length : NaN;
      const cells = [
        `<span class="swatch" style="background:${COLORS[i % COLORS.length]}"></span>${r.K}${r.K === TOY.T ? ' (full RMD)' : ''}`,
        String(r.ms.length),
        `(${last.map((v) => num(v)).join(', ')})`,
        r.values.length ? num(r.values[r.values.length - 1]!, 4) : '',
        r.ms.length ? `${r.ms[r.ms.length - 1]!.toFixed(1)} / ${mean.toFixed(1)}` : '',
        r.peakBytes.length ? kib(r.peakBytes[r.peakBytes.length - 1]!) : '',
      ];
      for (const html of cells) {
        const td = document.createElement('td');
        td.innerHTML = html;
        tr.append(td);
      }
      return tr;
    }),
  );
}

function redraw(): void {
  const paths: Path[] = state.runs.map((r, i) => ({ label: `K = ${r.K}`, color: COLORS[i % COLORS.length]!, points: r.lambdas }));
  plot.redraw(paths, optimum);
  renderTable();
}

async function optimize(): Promise<void> {
  const problem = toyProblem();
  const runs = SETTINGS.K.map((K) => ({ K, lambda: tensor(SETTINGS.start) as Tensor, sgd: null as SGD<Tensor> | null }));
  state.runs = runs.map(({ K }) => ({ K, lambdas: [SETTINGS.start], values: [], ms: [], peakBytes: [] }));
  redraw();
  try {
    // All K advance together, one hyper-iteration each per round, so the paths grow side by side.
    for (let tau = 1; tau <= SETTINGS.iterations; tau++) {
      for (const [i, run] of runs.entries()) {
        const shown = state.runs[i]!;
        const h = await hypergradient(problem, run.lambda, { method: 'krmd', K: run.K });
        shown.peakBytes.push(h.stats.peakBytes);
        shown.ms.push(h.stats.ms);
        shown.values.push(h.value);
        // The paper's footnote 4: ||h_{T-K}|| varies widely with K, so eta_0 fixes the first step's norm.
        run.sgd ??= new SGD<Tensor>({ eta0: SETTINGS.firstStep / (await norm(h.grad)), schedule: 'inverse-sqrt' });
        const next = run.sgd.step(run.lambda, h.grad);
        dispose([run.lambda, h.grad]);
        run.lambda = next;
        shown.lambdas.push(Array.from(await next.data()));
      }
      setStatus(`Hyper-iteration ${tau} of ${SETTINGS.iterations} on ${state.adapter}.`);
      redraw();
      // Let the browser paint between rounds.
      await new Promise((r) => requestAnimationFrame(() => r(null)));
    }
    setStatus(`Done: ${SETTINGS.iterations} hyper-iterations for each K on ${state.adapter}.`);
  } finally {
    dispose(runs.map((r) => r.lambda));
    problem.dispose();
  }
}

async function main(): Promise<void> {
  // The contours are closed-form (CPU, float64), so they show even without WebGPU.
  plot.drawFunction((x, y) => toyOuterValue([x, y]));
  plot.redraw([], optimum);
  $('settings').textContent =
    `T = ${TOY.T} inner steps of gradient descent with γ = ${TOY.gamma} from w₀ = (${TOY.w0.join(', ')}); ` +
    `starting at λ = (${SETTINGS.start.join(', ')}); η(τ) = η₀/√τ with η₀ chosen so the first step has norm ${SETTINGS.firstStep}; ` +
    `K ∈ {${SETTINGS.K.join(', ')}}; the red X is the optimum λ* = (${optimum.map((v) => num(v)).join(', ')}).`;
  $('cleaning-settings').textContent =
    `Settings: T = ${CLEANING.settings.T} inner steps with γ = ${CLEANING.settings.gamma}, ρ = ${CLEANING.settings.rho}; ` +
    `K = ${CLEANING.K}; ${CLEANING.hyperIterations} hyper-iterations (the paper: 1,000) of SGD λ ← λ − ${CLEANING.outerStep}·n·∇λf from λ = 0. ` +
    `Reduced from the paper's 5,000 + 5,000 examples and 1,000 hyper-iterations so that it finishes in well under a minute even on a software GPU.`;

  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) {
    state.webgpu = false;
    state.done = true;
    $('no-webgpu').hidden = false;
    setStatus('This browser has no WebGPU, so hypertape cannot run here.');
    return;
  }
  try {
    await init();
  } catch (e) {
    state.webgpu = false;
    state.done = true;
    $('no-webgpu').hidden = false;
    $('no-webgpu-detail').textContent = (e as Error).message;
    setStatus('This browser has no usable WebGPU adapter, so hypertape cannot run here.');
    return;
  }
  state.webgpu = true;
  const a = engine().adapter;
  state.adapter = `${a.description}${a.software ? ' (a software GPU: expect it to be slow)' : ''}`;
  setStatus(`Running on ${state.adapter}…`);
  await optimize();
  await clean();
  state.done = true;
}

async function clean(): Promise<void> {
  $('cleaning-status').textContent = 'Starting…';
  const started = performance.now();
  await runCleaning(state.cleaning, $<HTMLCanvasElement>('grid'), (text) => {
    $('cleaning-status').textContent = text;
  });
  const c = state.cleaning;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const last = c.iterations[c.iterations.length - 1]!;
  const meanMs = c.iterations.reduce((a, r) => a + r.ms, 0) / c.iterations.length;
  $('cleaning-status').textContent =
    `Done in ${seconds} s: ${c.iterations.length} hyper-iterations, validation loss ${c.iterations[0]!.valLoss.toFixed(4)} → ${last.valLoss.toFixed(4)}, ` +
    `${meanMs.toFixed(0)} ms per hypergradient (mean).`;
  $('cleaning-result').textContent = (c.rule === 'threshold'
    ? `${c.flagged} of ${c.nTrain} training examples flagged (σ(λᵢ) < σ(${FLAG_THRESHOLD})); `
    : `No λᵢ crossed ${FLAG_THRESHOLD} yet, so the grid shows the ${c.flagged} lowest λᵢ; `) +
    `precision ${num(c.precision!, 2)} (flagging at random: ${num(c.corrupted! / c.nTrain!, 2)}), recall ${num(c.recall!, 2)} of the ${c.corrupted} corrupted labels` +
    (c.shown! < c.flagged! ? `; the grid shows the ${c.shown} with the lowest λᵢ.` : '.');
  c.done = true;
}

window.addEventListener('error', (e) => fail(`Error: ${e.message}`));
window.addEventListener('unhandledrejection', (e) => fail(`Error: ${(e.reason as Error)?.stack ?? e.reason}`));
main().catch((e) => fail(`Error: ${(e as Error).stack ?? e}`));
