// Metrics of a classifier on the GPU that several experiments report: accuracy of the arg-max
// class, and a scalar loss read back. Each frees what it computed.
import { argmax, dispose, tidy, type Tensor } from '../../index.js';

/**
 * The fraction of examples whose arg-max class is their label: `scores` makes the class scores
 * [C, n] (one column per example), `labels` holds the n true classes.
 */
export async function argmaxAccuracy(scores: () => Tensor, labels: ArrayLike<number>): Promise<number> {
  const predicted = tidy(() => argmax(scores(), 0));
  const p = await predicted.data();
  predicted.dispose();
  let right = 0;
  for (let i = 0; i < labels.length; i++) if (p[i] === labels[i]) right++;
  return right / labels.length;
}

/** The value of the scalar that `f` computes, read back (temporaries freed). */
export async function readScalar(f: () => Tensor): Promise<number> {
  const l = tidy(f);
  const v = await l.item();
  dispose(l);
  return v;
}
