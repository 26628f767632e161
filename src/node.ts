// Node entry point: everything in src/index.ts, with `init` acquiring a GPU through Dawn.
export * from './index.js';
export { init } from './gpu/node.js';
