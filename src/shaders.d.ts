// WGSL sources are bundled as text by esbuild's `text` loader (scripts/build.mjs).
declare module '*.wgsl' {
  const source: string;
  export default source;
}
