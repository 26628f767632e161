// The benchmark sections `npm run bench` runs, in order. Each area adds its own file here
// (bench/autodiff.ts, bench/bilevel.ts, ...) exporting a BenchSection.
import type { BenchSection } from './util.js';
import { kernels } from './kernels.js';
import { conv } from './conv.js';
import { autodiff } from './autodiff.js';
import { bilevel } from './bilevel.js';
import { data } from './data.js';
import { omniglot } from './omniglot.js';
import { scatter } from './scatter.js';
import { fusion } from './fusion.js';
import { targets } from './targets.js';
import { vsTorch } from './vs-torch.js';
import { texture } from './texture.js';

export const sections: BenchSection[] = [kernels, scatter, fusion, conv, autodiff, bilevel, omniglot, data, vsTorch, texture, targets];
