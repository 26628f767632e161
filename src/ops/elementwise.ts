// Elementwise ops, by family: unary math (math.ts), binary arithmetic, comparisons, clamp and
// where (binary.ts), activations (activations.ts), all made by the factories of map.ts.
export * from './math.js';
export * from './binary.js';
export * from './activations.js';
