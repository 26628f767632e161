// Run by test/init-gpu.test.ts in a child process (a second Dawn GPU object must live until the
// process exits): init({ gpu }) with a GPU object of the caller's gives an engine that sleeps
// between polls while it waits (without it the main thread spins a core), and ops work on it.
// Prints one JSON line and exits by itself.
const { create, globals } = await import('webgpu');
const ht = await import(new URL('../dist/node.js', import.meta.url).href);
for (const [k, v] of Object.entries(globals)) globalThis[k] ??= v;
const gpu = create([`backend=${process.env.HYPERTAPE_BACKEND === 'opengles' ? 'opengles' : 'vulkan'}`]);
let engine;
try {
  engine = await ht.init({ gpu });
} catch (e) {
  console.log(JSON.stringify({ noAdapter: e.message }));
  process.exit(0);
}
const x = ht.tensor([1, 2, 3]);
const value = Array.from(await ht.mul(x, 2).data());
console.log(JSON.stringify({ sleeps: typeof engine.sleep === 'function', value }));
process.exit(0);
