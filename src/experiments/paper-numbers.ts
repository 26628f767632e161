// The paper's numbers, typed in once: "Truncated Back-propagation for Bilevel Optimization"
// (Shaban, Cheng, Hatch, Boots; AISTATS 2019). Each block names the table, figure or section it
// comes from. The reproduction report (`hypertape report`) puts ours beside these; ours come from
// the runs' results.json, never from here. Accuracies are percentages, as the paper prints them.
// The paper's appendix (its G.1-G.3 give more set-up) is not available to this project: where the
// main text does not state a setting, it is `null` here and "not stated" in the report.

/** Table 2: "Hypercleaning metrics after 1000 hyperiters." (section 4.2.1). */
export const TABLE2 = {
  source: 'Table 2 (section 4.2.1)',
  rows: [
    { K: 1, testAcc: 87.5, valAcc: 89.32, valLoss: 0.413, f1: 0.85 },
    { K: 5, testAcc: 88.05, valAcc: 89.9, valLoss: 0.383, f1: 0.89 },
    { K: 25, testAcc: 88.12, valAcc: 89.94, valLoss: 0.382, f1: 0.89 },
    { K: 50, testAcc: 88.17, valAcc: 90.18, valLoss: 0.381, f1: 0.89 },
    { K: 100, testAcc: 88.33, valAcc: 90.24, valLoss: 0.38, f1: 0.88 },
  ],
} as const;

/** Table 3: "Test accuracy for task interaction." (section 4.2.2); K = 100 is full RMD. Acc. is mean ± std over 10 trials. */
export const TABLE3 = {
  source: 'Table 3 (section 4.2.2)',
  rows: [
    { dataset: 'cifar10', K: 1, accMean: 61.11, accStd: 1.23, iters: 3300, secPerIter: 0.8 },
    { dataset: 'cifar10', K: 5, accMean: 61.33, accStd: 1.08, iters: 4950, secPerIter: 1.3 },
    { dataset: 'cifar10', K: 25, accMean: 61.31, accStd: 1.24, iters: 4825, secPerIter: 1.4 },
    { dataset: 'cifar10', K: 100, accMean: 61.28, accStd: 1.21, iters: 4500, secPerIter: 2.2 },
    { dataset: 'cifar100', K: 1, accMean: 34.37, accStd: 0.63, iters: 7440, secPerIter: 1.0 },
    { dataset: 'cifar100', K: 5, accMean: 34.34, accStd: 0.68, iters: 8805, secPerIter: 1.4 },
    { dataset: 'cifar100', K: 25, accMean: 34.51, accStd: 0.69, iters: 8660, secPerIter: 1.6 },
    { dataset: 'cifar100', K: 100, accMean: 34.7, accStd: 0.64, iters: 5670, secPerIter: 2.8 },
  ],
} as const;

/** Table 4: "Results for one-shot learning on Omniglot dataset." (section 4.3); method as `--methods` names it. */
export const TABLE4 = {
  source: 'Table 4 (section 4.3)',
  rows: [
    { method: '1', accuracy: 95.6, iters: 5000, secPerIter: 0.4 },
    { method: '10', accuracy: 96.3, iters: 5000, secPerIter: 0.7 },
    { method: '25', accuracy: 96.1, iters: 5000, secPerIter: 1.3 },
    { method: 'full', accuracy: 95.8, iters: 5000, secPerIter: 2.2 },
    { method: '1', accuracy: 97.7, iters: 15000, secPerIter: 0.4 },
    { method: '10', accuracy: 97.8, iters: 15000, secPerIter: 0.7 },
    { method: 'short', accuracy: 96.6, iters: 15000, secPerIter: 0.1 },
  ],
} as const;

/** A setting of an experiment as the paper states it (null: not stated in the main text). */
export interface PaperSetting {
  /** What it is, in words. */
  name: string;
  /** The paper's value (null: not stated), and where it says so. */
  paper: number | readonly number[] | null;
  where: string;
  /** The path of our value in results.json. */
  ours: string;
}

/** The settings of each experiment: the paper's value and where results.json has ours. */
export const SETTINGS: Record<'toy' | 'hypercleaning' | 'task-interaction' | 'omniglot', readonly PaperSetting[]> = {
  toy: [
    { name: 'inner steps T', paper: 100, where: 'section 4.1', ours: 'problem.T' },
    { name: 'inner step size γ', paper: 0.1, where: 'section 4.1', ours: 'problem.gamma' },
    { name: 'G (diagonal)', paper: [1, 0.5], where: 'section 4.1', ours: 'problem.G' },
    { name: 'w_0', paper: [2, 2], where: 'section 4.1', ours: 'problem.w0' },
    { name: 'λ of Figure 1', paper: [1, 1], where: 'section 4.1', ours: 'figure1.lambda' },
    { name: 'hyper-iterations', paper: null, where: 'not stated', ours: 'settings.hyperIterations' },
  ],
  hypercleaning: [
    { name: 'training examples', paper: 5000, where: 'section 4.2.1 (g sums over 5,000)', ours: 'problem.nTrain' },
    { name: 'corrupted training labels', paper: 2500, where: 'section 4.2.1 ("half")', ours: 'problem.nCorrupted' },
    { name: 'validation examples', paper: null, where: 'not stated', ours: 'problem.nVal' },
    { name: 'test examples', paper: null, where: 'not stated', ours: 'problem.nTest' },
    { name: 'features (with the bias)', paper: 785, where: 'section 4.2.1 (W is 10 × 785)', ours: 'problem.features' },
    { name: 'inner steps T', paper: 100, where: 'section 4.2.1', ours: 'problem.T' },
    { name: 'inner step size γ', paper: 1, where: 'section 4.2.1', ours: 'problem.gamma' },
    { name: 'ridge weight ρ', paper: 0.001, where: 'section 4.2.1', ours: 'problem.rho' },
    { name: 'hyper-iterations', paper: 1000, where: 'Table 2', ours: 'problem.hyperIterations' },
    { name: 'K values', paper: [1, 5, 25, 50, 100], where: 'Table 2', ours: 'settings.K' },
    { name: 'flagging threshold on λ_i', paper: -3, where: 'section 4.2.1 (σ(λ_i) < σ(−3))', ours: 'problem.flagThreshold' },
  ],
  'task-interaction': [
    { name: 'trials', paper: 10, where: 'section 4.2.2', ours: 'problem.trials' },
    { name: 'inner steps T', paper: 100, where: 'section 4.2.2', ours: 'problem.T' },
    { name: 'inner step size γ', paper: 0.1, where: 'section 4.2.2', ours: 'problem.gamma' },
    { name: 'K values', paper: [1, 5, 25, 100], where: 'Table 3', ours: 'problem.K' },
    { name: 'most hyper-iterations per run', paper: null, where: 'not stated (Table 3: 3,300-8,805 on average)', ours: 'problem.stopping.maxHyperIterations' },
    { name: 'training images per class', paper: null, where: 'not stated ("very small subsets")', ours: 'problem.datasets[*].trainPerClass' },
    { name: 'validation images per class', paper: null, where: 'not stated', ours: 'problem.datasets[*].valPerClass' },
    { name: 'early stopping: patience (hyper-iterations)', paper: null, where: 'not stated', ours: 'problem.stopping.patience' },
    { name: 'outer step size (Adam)', paper: null, where: 'not stated', ours: 'problem.outer.lr' },
  ],
  omniglot: [
    { name: 'classes per task k', paper: null, where: 'not stated ("k-way")', ours: 'problem.k' },
    { name: 'query images per class', paper: null, where: 'not stated', ours: 'problem.queries' },
    { name: 'inner steps T', paper: 50, where: 'section 4.3', ours: 'problem.T' },
    { name: 'hyper-iterations', paper: [5000, 15000], where: 'Table 4', ours: 'problem.hyperIterations' },
    { name: 'meta-test tasks', paper: 120, where: 'section 4.3', ours: 'problem.evalTasks' },
    { name: 'filters per convolution', paper: null, where: 'not stated ("similar to [20]")', ours: 'problem.filters' },
    { name: 'image side (pixels)', paper: null, where: 'not stated', ours: 'problem.size' },
    { name: 'outer step size (Adam)', paper: null, where: 'not stated', ours: 'problem.outer.lr' },
  ],
};

/** The datasets the paper's Table 3 reports (its names), by the experiment's dataset key. */
export const TABLE3_DATASETS = { cifar10: 'CIFAR-10', cifar100: 'CIFAR-100' } as const;

/** Time claims: the paper's words and, where its tables give times, the ratio they imply. */
export const TIME_CLAIMS = {
  hypercleaning: { words: '"it runs about twice as fast" (K = 5 against full RMD, section 4.2.1)' },
  'task-interaction': { words: 'Table 3: 0.8 s for 1-RMD against 2.2 s for full RMD on CIFAR-10 (1.0 against 2.8 on CIFAR-100)' },
  omniglot: { words: '"all truncated methods are faster than full RMD, sometimes even five times faster" (Table 4: 0.4 s for 1-RMD against 2.2 s)' },
} as const;

/** What each figure of the paper shows, in one line (by the name of our figure file, without .svg). */
export const FIGURE_STATEMENTS: Record<string, { figure: string; shows: string }> = {
  'figure1-f': { figure: 'Figure 1 (left)', shows: 'the graph of f; a picture, nothing to compare' },
  'figure1-error': { figure: 'Figure 1 (right)', shows: 'the error ||h_{T−K} − d_λ f|| at λ = (1, 1) falls exponentially in K and stays under the bound of Proposition 3.1' },
  'figure2-ratio': { figure: 'Figure 2', shows: 'h_{T−K}ᵀ d_λ f / ||d_λ f||² stays well above 0 for f (Lemma 3.2) and becomes negative for f~ (∇_λ f~ ≠ 0)' },
  'figure3-trajectories': { figure: 'Figure 3', shows: 'on f~, 1-RMD converges to a point away from the optimum, and the bias shrinks quickly as K grows' },
  'figure3-distance': { figure: 'Figure 3', shows: 'the same, as the distance to the optimum' },
  'figure4-trajectories': { figure: 'Figure 4', shows: 'on f, every K, even K = 1, converges to the exact optimum (Theorem 3.4)' },
  'figure4-distance': { figure: 'Figure 4', shows: 'the same, as the distance to the optimum on a log scale' },
  figure5: { figure: 'Figure 5', shows: '||d_λ f|| at the K-RMD iterates stalls above full RMD\'s (biased convergence), the limit decreasing slowly with K' },
  'figure6-cifar10': { figure: 'Figure 6 (CIFAR-10 row)', shows: 'for K > 1 the truncated and the exact hypergradient eventually point almost the same way (cosine near 1)' },
  'figure6-cifar100': { figure: 'Figure 6 (CIFAR-100 row)', shows: 'the cosine between 1-RMD\'s and the exact hypergradient takes negative values' },
  'figure7-accuracy': { figure: 'Figure 7, plot 1', shows: 'K-RMD reaches test accuracy similar to full RMD\'s' },
  'figure7-validation-loss': { figure: 'Figure 7, plot 2', shows: 'the validation loss of K-RMD is similar to full RMD\'s' },
  'figure7-cosine': { figure: 'Figure 7, plot 3', shows: 'the cosine between K-RMD\'s and full RMD\'s hypergradients is always positive and decays slightly over meta-training' },
  'figure7-truncation': { figure: 'Figure 7, plot 4', shows: 'the relative error of h_{T−K} decays exponentially in K with ρ as learned, and not with ρ = 0' },
};
