// Node entry point: everything in src/index.ts, with `init` acquiring a GPU through Dawn.
export * from './index.js';
export { init } from './gpu/node.js';
// HYPERTAPE_PRINT_KERNELS=1 is read in ./gpu/node.ts, which the library and the command share.
