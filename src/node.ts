// Node entry point: everything in src/index.ts, with `init` acquiring a GPU through Dawn.
import { setKernelLog } from './ops/fusion/log.js';

export * from './index.js';
export { init } from './gpu/node.js';

// HYPERTAPE_PRINT_KERNELS=1 prints each generated elementwise kernel (with the ops it fused) on
// stderr, once per distinct kernel; setKernelLog replaces or removes the printer.
if (process.env.HYPERTAPE_PRINT_KERNELS === '1') setKernelLog((text) => process.stderr.write(text));
