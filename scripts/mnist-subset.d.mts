// Types for mnist-subset.mjs (imported by test/browser.test.ts).
export interface MnistSubsetHeader {
  format: string;
  nTrain: number;
  nVal: number;
  seed: number;
  features: number;
  offsets: Record<'trainFeatures' | 'valFeatures' | 'trainLabels' | 'valLabels' | 'corrupted', number>;
  bytes: number;
}
export const DEMO_SUBSET: { nTrain: number; nVal: number; seed: number };
export function writeMnistSubset(outDir: string, sizes?: { nTrain: number; nVal: number; seed: number }): Promise<MnistSubsetHeader>;
