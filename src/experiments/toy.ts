// `hypertape toy`: the paper's section 4.1 on its 2-D toy problem (src/experiments/toy-problem.ts).
//   Figure 1: ||h_{T-K} - d_lambda f|| against K at lambda = (1, 1), under Proposition 3.1's bound.
//   Figure 2: h_{T-K}^T d f / ||d f||^2 along the K = 1 trajectory, for f and for f~ (Lemma 3.2).
//   Figure 3: optimizing f~ (grad_lambda f~ != 0) with K-RMD stops short of the optimum (Theorem 3.3).
//   Figure 4: optimizing f with K-RMD converges exactly for every K (Theorem 3.4).
// Every hypergradient comes from the engine (hypergradient(), method krmd); every one is also
// compared with the closed form of docs/methods.md section 2, and the largest deviation is reported.
import { Tensor, tensor, tidy, dispose } from '../tensor.js';
import { grad } from '../autodiff/api.js';
import { mul, sub } from '../ops/elementwise.js';
import { hypergradient, SGD, norm, distance, descentRatio, prop31Bound } from '../bilevel/index.js';
import { TOY, toyProblem, toyF, toyHypergradient, toyOptimum, toyOuterValue, type ToyObjective } from './toy-problem.js';
import { defineExperiment, flagName, UsageError, type OptionValues, type RunContext } from './registry.js';
import { contourPlot, formatNumber, lineChart, markdownTable, type Figure } from './report.js';
import type { Progress } from './progress.js';

const OBJECTIVES: readonly ToyObjective[] = ['f', 'f~'];

const options = {
  start: { type: 'numbers', length: 2, default: [-1, 1], help: 'lambda_1, where every optimization run starts' },
  hyperIterations: { type: 'int', min: 1, default: 200, quick: 50, help: 'hyper-iterations of each optimization run' },
  K: { type: 'ints', min: 1, default: [1, 2, 5, 10, 25, 100], quick: [1, 5, 25, 100], help: 'truncation depths of the runs of Figures 3 and 4 (K = T is full RMD)' },
  ratioK: { type: 'ints', min: 1, default: [1, 2, 5, 10, 25, 50], quick: [1, 2, 5, 25], help: 'truncation depths compared in Figure 2' },
  ratioIterates: { type: 'int', min: 1, default: 100, quick: 30, help: 'Figure 2 uses the first this-many iterates of the K = 1 run' },
  figure1Every: { type: 'int', min: 1, default: 1, quick: 2, help: 'Figure 1 evaluates K = 1, 1 + this, ... up to T' },
  firstStep: { type: 'number', min: 0, default: 0.6, help: 'eta_0 is set so that the first update eta_1 h_{T-K}(lambda_1) has this norm' },
  T: { type: 'int', min: 1, default: TOY.T, help: 'inner gradient-descent steps' },
  gamma: { type: 'number', min: 0, max: 1, default: TOY.gamma, help: 'inner step size (at most 1: g is 1-smooth)' },
  window: { type: 'numbers', length: 4, default: [-1.5, 1.5, -1.5, 1.5], help: 'lambda_1 min, max, lambda_2 min, max of the contour plots' },
  grid: { type: 'int', min: 8, max: 400, default: 121, quick: 81, help: 'contour grid points per axis' },
  innerStep: {
    type: 'string', choices: ['explicit', 'autodiff'], default: 'explicit',
    help: 'the inner step w - gamma G (w - lambda) with grad_w g written out, or w - gamma grad_w g with grad_w g by autodiff at every step (same numbers, several times slower)',
  },
} as const;

export type ToyOptions = OptionValues<typeof options>;

/** One optimization run of Figures 3 and 4 (and the K = 1 trajectories of Figure 2). */
export interface ToyRun {
  objective: ToyObjective;
  K: number;
  /** eta_0 of eta_tau = eta_0 / sqrt(tau), chosen so that ||eta_1 h_{T-K}(lambda_1)|| = firstStep. */
  eta0: number;
  /** lambda_1 .. lambda_{R+1}: the start, then the iterate after each of the R updates. */
  lambdas: number[][];
  /** The outer objective at lambda_1 .. lambda_R (returned by the engine with each hypergradient). */
  values: number[];
  /** ||lambda_tau - lambda*|| for tau = 1 .. R+1. */
  distance: number[];
  final: number[];
}

/** Largest deviation of the engine's hypergradients from the closed form. */
interface ClosedFormCheck {
  hypergradients: number;
  /** max over calls and components of |h_engine - h_closed|. */
  maxAbsDeviation: number;
  /** max of ||h_engine - h_closed|| / ||h_closed|| over the calls with ||h_closed|| > 1e-3. */
  maxRelativeDeviation: number;
  worst: { lambda: number[]; K: number; objective: ToyObjective; engine: number[]; closedForm: number[] } | null;
}

// ---- the engine's side ----------------------------------------------------------------------------

const RELATIVE_FLOOR = 1e-3;

const dist2 = (a: readonly number[], b: readonly number[]) => Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!);

class Toy {
  readonly problems: Record<ToyObjective, ReturnType<typeof toyProblem>>;
  readonly check: ClosedFormCheck = { hypergradients: 0, maxAbsDeviation: 0, maxRelativeDeviation: 0, worst: null };
  private readonly gammaG: Tensor;
  /** What the hypergradients are for now, shown next to the progress bar. */
  phase = '';

  constructor(readonly settings: { T: number; gamma: number }, innerStep: string, private readonly progress: Progress) {
    const gammaG = (this.gammaG = tensor(TOY.G.map((g) => settings.gamma * g)));
    const build = (objective: ToyObjective) => {
      const p = toyProblem({ ...settings, objective });
      // Xi(w, lambda) = w - gamma G (w - lambda): the paper's step with grad_w g written out
      // (so B_{t+1} = gamma G as in section 4.1). Three kernels a step instead of the dozen that
      // differentiating g inside every step takes; on a 2-element problem kernel launches are
      // the whole cost. --inner-step autodiff keeps the generic step.
      if (innerStep === 'explicit') p.step = (w: Tensor, lambda: Tensor) => sub(w, mul(gammaG, sub(w, lambda)));
      return p;
    };
    this.problems = { f: build('f'), 'f~': build('f~') };
  }

  dispose(): void {
    for (const p of Object.values(this.problems)) p.dispose();
    this.gammaG.dispose();
  }

  /**
   * h_{T-K}(lambda) from the engine (K = T: the exact d_lambda f), checked against the closed
   * form at the same float32 lambda. The caller disposes `grad`.
   */
  async hypergradient(objective: ToyObjective, lambda: Tensor, K: number): Promise<{ value: number; grad: Tensor; h: number[] }> {
    const res = await hypergradient(this.problems[objective], lambda, { method: 'krmd', K });
    const [l, h] = await Promise.all([lambda.data(), res.grad.data()]);
    const lam = Array.from(l);
    const hv = Array.from(h);
    const closed = toyHypergradient(lam, K, { ...this.settings, objective });
    const abs = Math.max(...hv.map((x, i) => Math.abs(x - closed[i]!)));
    const c = this.check;
    c.hypergradients++;
    if (abs > c.maxAbsDeviation) {
      c.maxAbsDeviation = abs;
      c.worst = { lambda: lam, K, objective, engine: hv, closedForm: closed };
    }
    // Relative to the hypergradient's size, where it has one (at an optimum it is ~0).
    const size = Math.hypot(...closed);
    if (size > RELATIVE_FLOOR) c.maxRelativeDeviation = Math.max(c.maxRelativeDeviation, dist2(hv, closed) / size);
    this.progress.tick(1, this.phase);
    return { value: res.value, grad: res.grad, h: hv };
  }

  /** ||grad_w f(w_hat)||, with w_hat from running the inner iteration forward on the GPU. */
  async outerGradNorm(lambda: Tensor): Promise<number> {
    const p = this.problems.f;
    const g = tidy(() => {
      let w = p.init(lambda);
      for (let t = 0; t < p.T; t++) w = tidy(() => p.step(w, lambda, t));
      return grad((ww: Tensor) => p.outer(ww, lambda))(w);
    });
    const n = await norm(g);
    g.dispose();
    return n;
  }
}

// ---- the experiment ------------------------------------------------------------------------------

async function figure1(toy: Toy, o: ToyOptions) {
  toy.phase = 'Figure 1: h_{T-K} at (1, 1)';
  const lambda = tensor([1, 1]);
  const exact = await toy.hypergradient('f', lambda, o.T);
  const gradWNorm = await toy.outerGradNorm(lambda);
  const K: number[] = [];
  const error: number[] = [];
  const bound: number[] = [];
  for (let k = 1; k <= o.T; k += o.figure1Every) {
    const h = await toy.hypergradient('f', lambda, k);
    K.push(k);
    error.push(await distance(h.grad, exact.grad));
    // alpha = 1/2 (the smallest eigenvalue of G), M_B = ||gamma G|| = gamma.
    bound.push(prop31Bound({ gamma: o.gamma, alpha: TOY.alpha, K: k, gradWNorm, MB: o.gamma * Math.max(...TOY.G) }));
    h.grad.dispose();
  }
  dispose([lambda, exact.grad]);
  return { lambda: [1, 1], gradWNorm, alpha: TOY.alpha, MB: o.gamma * Math.max(...TOY.G), exact: exact.h, K, error, bound };
}

async function optimize(toy: Toy, o: ToyOptions, objective: ToyObjective, K: number, optimum: number[]): Promise<ToyRun> {
  toy.phase = `${objective} with K = ${K}`;
  let lambda = tensor([...o.start]);
  const lambdas: number[][] = [];
  const values: number[] = [];
  let sgd: SGD<Tensor> | null = null;
  let eta0 = NaN;
  for (let tau = 1; tau <= o.hyperIterations; tau++) {
    const h = await toy.hypergradient(objective, lambda, K);
    lambdas.push(Array.from(await lambda.data()));
    values.push(h.value);
    if (!sgd) {
      // Footnote 4: ||h_{T-K}|| varies widely with K, so eta_0 makes the first step's norm fixed.
      eta0 = o.firstStep / (await norm(h.grad));
      sgd = new SGD<Tensor>({ eta0, schedule: 'inverse-sqrt' });
    }
    const next = sgd.step(lambda, h.grad);
    dispose([lambda, h.grad]);
    lambda = next;
  }
  lambdas.push(Array.from(await lambda.data()));
  lambda.dispose();
  return { objective, K, eta0, lambdas, values, distance: lambdas.map((l) => dist2(l, optimum)), final: lambdas[lambdas.length - 1]! };
}

async function figure2(toy: Toy, o: ToyOptions, run: ToyRun) {
  toy.phase = `Figure 2: ${run.objective}`;
  const iterates = run.lambdas.slice(0, Math.min(o.ratioIterates, run.lambdas.length));
  const ratio: Record<string, number[]> = Object.fromEntries(o.ratioK.map((k) => [String(k), [] as number[]]));
  for (const point of iterates) {
    const lambda = tensor(point);
    const exact = await toy.hypergradient(run.objective, lambda, o.T);
    for (const k of o.ratioK) {
      const h = await toy.hypergradient(run.objective, lambda, k);
      ratio[String(k)]!.push(await descentRatio(h.grad, exact.grad));
      h.grad.dispose();
    }
    dispose([lambda, exact.grad]);
  }
  return { objective: run.objective, tau: iterates.map((_, i) => i + 1), lambdas: iterates, K: o.ratioK, ratio };
}

/** The outer objective on a grid of cell centres over the window (closed form, float64). */
function contourGrid(o: ToyOptions, objective: ToyObjective) {
  const [x0, x1, y0, y1] = o.window as [number, number, number, number];
  const n = o.grid;
  const xs = Array.from({ length: n }, (_, i) => x0 + ((i + 0.5) * (x1 - x0)) / n);
  const ys = Array.from({ length: n }, (_, j) => y0 + ((j + 0.5) * (y1 - y0)) / n);
  const values = new Float64Array(n * n);
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) values[j * n + i] = toyOuterValue([xs[i]!, ys[j]!], { T: o.T, gamma: o.gamma, objective });
  return { xs, ys, values };
}

/**
 * Contour levels min + (max - min) (k / (count + 1))^2: denser towards the minimum, so that a
 * quadratic bowl shows evenly spaced rings.
 */
function contourLevels(values: ArrayLike<number>, count: number): number[] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    lo = Math.min(lo, values[i]!);
    hi = Math.max(hi, values[i]!);
  }
  return Array.from({ length: count }, (_, k) => Number((lo + (hi - lo) * ((k + 1) / (count + 1)) ** 2).toPrecision(3)));
}

function trajectoryFigure(name: string, title: string, caption: string, o: ToyOptions, objective: ToyObjective, runs: ToyRun[], optimum: number[]): Figure {
  const grid = contourGrid(o, objective);
  return {
    name,
    title,
    caption,
    grammar: 'vega',
    spec: contourPlot({
      title,
      grid,
      thresholds: contourLevels(grid.values, 16),
      valueTitle: objective === 'f' ? 'f(w_hat(λ))' : 'f~(w_hat(λ), λ)',
      xTitle: 'λ1',
      yTitle: 'λ2',
      paths: runs.flatMap((r) => r.lambdas.map((l, order) => ({ series: `K = ${r.K}`, x: l[0]!, y: l[1]!, order }))),
      seriesTitle: 'K-RMD',
      seriesOrder: runs.map((r) => `K = ${r.K}`),
      markers: [{ label: 'optimum', x: optimum[0]!, y: optimum[1]! }],
    }),
  };
}

function distanceFigure(name: string, title: string, caption: string, runs: ToyRun[]): Figure {
  return {
    name,
    title,
    caption,
    grammar: 'vega-lite',
    spec: lineChart({
      title,
      rows: runs.flatMap((r) => r.distance.map((d, i) => ({ tau: i + 1, distance: d, K: `K = ${r.K}` }))),
      x: { field: 'tau', title: 'hyper-iteration τ' },
      y: { field: 'distance', title: '||λ_τ − λ*||', log: true },
      series: { field: 'K', title: 'K-RMD', sort: runs.map((r) => `K = ${r.K}`) },
    }),
  };
}

function figures(o: ToyOptions, f1: Awaited<ReturnType<typeof figure1>>, f2: Awaited<ReturnType<typeof figure2>>[], runs: ToyRun[], optima: Record<ToyObjective, number[]>): Figure[] {
  const n = 121;
  const ws = Array.from({ length: n }, (_, i) => -3.5 + ((i + 0.5) * 7) / n);
  const fValues = new Float64Array(n * n);
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) fValues[j * n + i] = toyF([ws[i]!, ws[j]!]);
  const runsOf = (objective: ToyObjective) => runs.filter((r) => r.objective === objective);
  return [
    {
      name: 'figure1-f',
      title: 'Figure 1 (left): the graph of f(w) = ||w||² + 10 ||sin w||²',
      caption: 'Contours of f over w. Besides the global minimum at the origin, f has many saddle points and local minima, so a descent direction is not trivially one.',
      grammar: 'vega',
      spec: contourPlot({ title: 'f(w)', grid: { xs: ws, ys: ws, values: fValues }, thresholds: contourLevels(fValues, 16), valueTitle: 'f(w)', xTitle: 'w1', yTitle: 'w2' }),
    },
    {
      name: 'figure1-error',
      title: `Figure 1 (right): ||h_{T−K} − d_λ f|| and the bound of Proposition 3.1 at λ = (1, 1)`,
      caption: `The error of K-step truncated back-propagation decays exponentially in K and stays under the bound (1 − γα)^K / (γα) ||∇_w f|| M_B (α = 1/2, M_B = γ). At K = T = ${o.T} the error is exactly zero and has no place on the log axis.`,
      grammar: 'vega-lite',
      spec: lineChart({
        title: 'Truncation error against K at λ = (1, 1)',
        rows: f1.K.flatMap((k, i) => [
          { K: k, value: f1.error[i]!, series: '||h_{T−K} − d_λ f|| (engine)' },
          { K: k, value: f1.bound[i]!, series: 'bound of Prop. 3.1' },
        ]),
        x: { field: 'K', title: 'K' },
        y: { field: 'value', title: 'error', log: true },
        series: { field: 'series', title: '' },
      }),
    },
    {
      name: 'figure2-ratio',
      title: 'Figure 2: h_{T−K}ᵀ d_λ f / ||d_λ f||² along the K = 1 trajectory',
      caption: 'For f (left) the ratio stays well above zero for every K (Lemma 3.2): truncated hypergradients are descent directions. For f~ (right), where ∇_λ f~ ≠ 0, small K makes it negative at some iterates.',
      grammar: 'vega-lite',
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        data: { values: f2.flatMap((p) => p.K.flatMap((k) => p.ratio[String(k)]!.map((r, i) => ({ objective: p.objective, tau: p.tau[i]!, ratio: r, K: `K = ${k}` })))) },
        facet: { column: { field: 'objective', type: 'nominal', title: null, sort: ['f', 'f~'], header: { labelExpr: "'objective ' + datum.value", labelFontSize: 13 } } },
        spec: {
          width: 300,
          height: 240,
          layer: [
            { mark: { type: 'line', point: f2[0]!.tau.length <= 40 ? { size: 12 } : false }, encoding: { x: { field: 'tau', type: 'quantitative', title: 'hyper-iteration τ of the K = 1 run' }, y: { field: 'ratio', type: 'quantitative', title: 'h_{T−K}ᵀ d_λ f / ||d_λ f||²' }, color: { field: 'K', type: 'nominal', title: 'K', sort: o.ratioK.map((k) => `K = ${k}`) } } },
            { mark: { type: 'rule', color: '#888', strokeDash: [4, 4] }, encoding: { y: { datum: 0 } } },
          ],
        },
        resolve: { scale: { y: 'independent' } },
        config: { font: 'sans-serif' },
      },
    },
    trajectoryFigure('figure3-trajectories', 'Figure 3: optimizing f~ with K-RMD', `The iterates of each K over the contours of f~; the red X marks the optimum λ* = (${optima['f~'].map((x) => formatNumber(x)).join(', ')}). With K = 1 the iterates settle far from it (Theorem 3.3's bias), and the bias shrinks fast as K grows.`, o, 'f~', runsOf('f~'), optima['f~']),
    distanceFigure('figure3-distance', 'Figure 3 (distance): ||λ_τ − λ*|| for f~', 'Each truncated run levels off at a distance from the optimum that shrinks with K; only K = T (full RMD) keeps converging.', runsOf('f~')),
    trajectoryFigure('figure4-trajectories', 'Figure 4 (left): optimizing f with K-RMD', `The iterates of each K over the contours of f; the red X marks the optimum λ* = (${optima.f.map((x) => formatNumber(x)).join(', ')}), offset from the origin because T steps do not solve the inner problem. Every K reaches it, along different paths.`, o, 'f', runsOf('f'), optima.f),
    distanceFigure('figure4-distance', 'Figure 4 (right): ||λ_τ − λ*|| for f', 'The distance to the optimum on a log scale: every K converges to the exact optimum (Theorem 3.4), larger K somewhat faster.', runsOf('f')),
  ];
}

function summary(o: ToyOptions, results: Record<string, any>): string {
  const f1 = results.figure1;
  const check: ClosedFormCheck = results.closedFormCheck;
  const picks = f1.K.map((k: number, i: number) => [k, i] as const).filter(([k]: readonly [number, number]) => [1, 2, 5, 10, 20, 25, 40, 50, 75, 99, o.T].includes(k) || k === f1.K[f1.K.length - 1]);
  const runs: ToyRun[] = results.runs;
  const optima = results.optimum;
  const lines = [
    `Toy problem of section 4.1: T = ${o.T} gradient-descent steps with γ = ${o.gamma} from w0 = (${TOY.w0.join(', ')}), G = diag(${TOY.G.join(', ')}).`,
    `Every run starts at λ1 = (${o.start.join(', ')}) and takes ${o.hyperIterations} hyper-iterations of SGD with η_τ = η0/√τ, η0 chosen so that the first step has norm ${o.firstStep}.`,
    '',
    `**Closed-form check**: ${check.hypergradients} hypergradients from the engine; the largest deviation from the closed form h_{T−K} = (I − (I − γG)^K) ∇f(w_hat) (+ ∇_λ f~) is ${formatNumber(check.maxAbsDeviation, 3)} (relative ${formatNumber(check.maxRelativeDeviation, 3)}).`,
    '',
    '## Figure 1: truncation error at λ = (1, 1)',
    '',
    markdownTable(['K', '||h_{T−K} − d_λ f||', 'bound (Prop. 3.1)', 'error / bound'], picks.map(([k, i]: readonly [number, number]) => [k, f1.error[i], f1.bound[i], f1.bound[i] > 0 ? f1.error[i] / f1.bound[i] : 0])),
    '',
    '## Figure 2: h_{T−K}ᵀ d_λ f / ||d_λ f||² along the K = 1 trajectory',
    '',
    markdownTable(['objective', 'K', 'min ratio', 'max ratio', 'iterates with ratio < 0'], results.figure2.flatMap((p: any) => p.K.map((k: number) => {
      const r: number[] = p.ratio[String(k)];
      return [p.objective, k, Math.min(...r), Math.max(...r), `${r.filter((x) => x < 0).length} of ${r.length}`];
    }))),
    '',
    '## Figures 3 and 4: optimizing f~ and f with K-RMD',
    '',
    `Optima (closed form and a fine search, see --help): f: λ* = (${optima.f.map((x: number) => formatNumber(x, 6)).join(', ')}); ` +
      `f~: λ* = (${optima['f~'].map((x: number) => formatNumber(x, 6)).join(', ')}). The engine's exact hypergradient there has norm ` +
      `${formatNumber(results.optimumHypergradientNorm.f, 3)} (f) and ${formatNumber(results.optimumHypergradientNorm['f~'], 3)} (f~).`,
    '',
    markdownTable(['objective', 'K', 'η0', 'final λ', '||λ_final − λ*||', 'objective at final λ − at λ*'], runs.map((r) => [
      r.objective, r.K, r.eta0, `(${r.final.map((x) => formatNumber(x)).join(', ')})`, r.distance[r.distance.length - 1]!,
      toyOuterValue(r.final, { T: o.T, gamma: o.gamma, objective: r.objective }) - toyOuterValue(optima[r.objective], { T: o.T, gamma: o.gamma, objective: r.objective }),
    ])),
  ];
  return lines.join('\n');
}

function validate(o: ToyOptions): void {
  for (const [key, ks] of [['K', o.K], ['ratioK', o.ratioK]] as const) {
    const bad = ks.filter((k) => k > o.T);
    if (bad.length) throw new UsageError(`--${flagName(key)} values must be at most --T = ${o.T}; got ${bad.join(', ')}.`);
  }
  const [x0, x1, y0, y1] = o.window;
  if (!(x0! < x1! && y0! < y1!)) throw new UsageError(`--window expects min1,max1,min2,max2 with min < max; got ${o.window.join(',')}.`);
}

async function run(o: ToyOptions, ctx: RunContext) {
  const settings = { T: o.T, gamma: o.gamma };
  // Figure 2 needs the K = 1 trajectories whether or not K = 1 is among the runs asked for.
  const Ks = [...new Set([1, ...o.K])].sort((a, b) => a - b);
  const optimum = { f: toyOptimum({ ...settings, objective: 'f' }), 'f~': toyOptimum({ ...settings, objective: 'f~' }) };
  const figure1Calls = Math.ceil(o.T / o.figure1Every);
  const ratioPoints = Math.min(o.ratioIterates, o.hyperIterations + 1);
  // Progress counts hypergradients: Figure 1 (+ the exact one), the runs, Figure 2, the optima.
  const work = figure1Calls + 1 + OBJECTIVES.length * (Ks.length * o.hyperIterations + ratioPoints * (o.ratioK.length + 1) + 1);
  ctx.log(`Figure 1: ${figure1Calls} K-RMD hypergradients at λ = (1, 1). Figures 3, 4: objectives f and f~ × K in {${Ks.join(', ')}} × ${o.hyperIterations} hyper-iterations from λ1 = (${o.start.join(', ')}). Figure 2: ${ratioPoints} iterates × ${o.ratioK.length + 1} hypergradients per objective. ${work} hypergradients in all.`);
  const progress = ctx.progress('toy', work);
  const toy = new Toy(settings, o.innerStep, progress);
  const results: Record<string, unknown> = { problem: { ...settings, G: TOY.G, w0: TOY.w0, alpha: TOY.alpha, tildeCentre: TOY.tildeCentre }, optimum };
  try {
    const f1 = await figure1(toy, o);
    results.figure1 = f1;
    ctx.checkpoint(results);
    const runs: ToyRun[] = [];
    results.runs = runs;
    for (const objective of OBJECTIVES) {
      for (const K of Ks) runs.push(await optimize(toy, o, objective, K, optimum[objective]));
      ctx.checkpoint(results);
    }
    const f2 = [];
    for (const objective of OBJECTIVES) f2.push(await figure2(toy, o, runs.find((r) => r.objective === objective && r.K === 1)!));
    results.figure2 = f2;
    const optimumHypergradientNorm: Record<string, number> = {};
    toy.phase = 'd_lambda f at the optima';
    for (const objective of OBJECTIVES) {
      const lambda = tensor(optimum[objective]);
      const d = await toy.hypergradient(objective, lambda, o.T);
      optimumHypergradientNorm[objective] = Math.hypot(...d.h);
      dispose([lambda, d.grad]);
    }
    results.optimumHypergradientNorm = optimumHypergradientNorm;
    results.closedFormCheck = toy.check;
    return { results, summary: summary(o, results), figures: figures(o, f1, f2, runs, optimum) };
  } finally {
    progress.done();
    toy.dispose();
  }
}

export const toy = defineExperiment({
  name: 'toy',
  summary: 'Figures 1-4 of the paper: truncated back-propagation on the 2-D toy problem (section 4.1)',
  description: `
The inner problem: T = 100 steps of gradient descent (gamma = 0.1) from w0 = (2, 2) on
g(w, lambda) = 1/2 (w - lambda)^T G (w - lambda), G = diag(1, 1/2). The outer objectives:
f(w) = ||w||^2 + 10 ||sin w||^2 and f~(w, lambda) = f(w) + 5 ||lambda - (1, 0)||^2.

Figure 1: ||h_{T-K} - d_lambda f|| and Proposition 3.1's bound against K at lambda = (1, 1).
Figure 2: h_{T-K}^T d f / ||d f||^2 at the first iterates of the K = 1 run, for f and f~.
Figures 3, 4: SGD on lambda with K-RMD hypergradients for each K, eta_tau = eta_0 / sqrt(tau),
eta_0 set so that the first step has norm 0.6 (footnote 4); iterates over contours, and the
distance to the optimum per hyper-iteration.

Choices the paper leaves open: every run starts at lambda_1 = (-1, 1) (inside the basin of the
global optimum, and on the far side of f~'s optimum from its K = 1 limit, so Figure 2's ratio
for f~ changes sign) and takes 200 hyper-iterations (50 under --quick). The optima are exact:
for f, lambda* makes w_hat = 0 (closed form); for f~, each coordinate is minimised separately
by a 1e-3 scan and Newton's method (the problem is separable). Every engine hypergradient is
compared with the closed form; results.json holds the largest deviation (closedFormCheck).
The toy problem has nothing random in it: --seed is only recorded.`,
  options,
  validate,
  run,
});
