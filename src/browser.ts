// Browser entry point: everything in src/index.ts, with `init` using navigator.gpu (or an
// injected GPUDevice). Nothing Node-only is reachable from here.
export * from './index.js';
export { initWith as init } from './gpu/device.js';
