// MNIST's shapes and in-memory layout, apart from the reader (mnist.ts, which needs Node's fs) so
// that code running in a browser (the demo's hypercleaning) can use them too.
export const MNIST_ROWS = 28;
export const MNIST_COLS = 28;
export const MNIST_PIXELS = MNIST_ROWS * MNIST_COLS;
export const MNIST_CLASSES = 10;

/** One split: `count` images of 28x28 bytes (0 = background, 255 = ink), row-major, and labels 0..9. */
export interface MnistSplit {
  count: number;
  images: Uint8Array;
  labels: Uint8Array;
}

export interface Mnist {
  train: MnistSplit;
  test: MnistSplit;
  /** The folder the files were read from. */
  source: string;
}
