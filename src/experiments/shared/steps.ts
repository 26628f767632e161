// Running an iteration w_{t+1} = step(w_t) with no tape, keeping only the current iterate: how
// the experiments train their reference classifiers and evaluate a final lambda.
import { tidy, type Tensor } from '../../index.js';

/** w_T from w_0 by T calls of `step` (each inside tidy); every earlier iterate is freed, w_0 included. */
export function runSteps(w0: Tensor, T: number, step: (w: Tensor) => Tensor): Tensor {
  let w = w0;
  for (let t = 0; t < T; t++) {
    const prev = w;
    w = tidy(() => step(prev));
    prev.dispose();
  }
  return w;
}
