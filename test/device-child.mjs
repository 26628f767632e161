// Run by test/device.test.ts in a child process, because the failure it guards against killed
// Node (SIGABRT, SIGSEGV) or hung: tensors of a device that was replaced by a second init() or
// lost must throw a clear error when used, do nothing when disposed, and the new device must work.
// argv[2] picks the scenario ('replaced' or 'lost'). Prints one JSON line and exits by itself.
const ht = await import(new URL('../dist/node.js', import.meta.url).href);
const scenario = process.argv[2];
const report = { scenario, steps: [] };

async function attempt(name, fn) {
  try {
    const value = await fn();
    report.steps.push({ name, ok: true, value });
  } catch (e) {
    report.steps.push({ name, ok: false, message: e.message });
  }
}

await ht.init();
const old = ht.tensor([1, 2, 3]);
const oldView = ht.reshape(old, [3, 1]);
const oldGrad = ht.grad((x) => ht.sum(ht.mul(x, x)))(old);
const oldPending = ht.exp(ht.mul(old, 2)); // a lazy value, not computed before the device goes
if (scenario === 'lost') {
  ht.engine().device.destroy(); // what a driver reset looks like to WebGPU
  await new Promise((r) => setTimeout(r, 50));
  await attempt('op on the lost device', () => ht.add(ht.tensor([1, 2]), 1).data().then((d) => Array.from(d)));
  await ht.init();
} else {
  await ht.init();
}
await attempt('dispose old', () => {
  old.dispose();
  oldGrad.dispose();
  return 'ok';
});
await attempt('new op after dispose', async () => {
  const a = ht.tensor([1, 2]);
  const b = ht.add(a, 1);
  const d = Array.from(await b.data());
  a.dispose();
  b.dispose();
  return d;
});
await attempt('use old view', () => ht.add(oldView, 1));
await attempt('read old view', () => oldView.data());
await attempt('use old pending', () => ht.add(oldPending, 1));
await attempt('read old pending', () => oldPending.data());
await attempt('dispose old view', () => (oldView.dispose(), oldPending.dispose(), 'ok'));
await attempt('old disposed after', () => old.disposed);
// Many allocations on the new device: a buffer of the old device in its pool would show here.
await attempt('new work', async () => {
  let acc = ht.zeros([64]);
  for (let i = 0; i < 200; i++) {
    const one = ht.tensor(new Float32Array(64).fill(1));
    const next = ht.add(acc, one);
    one.dispose();
    acc.dispose();
    acc = next;
  }
  return (await acc.data())[0];
});
await attempt('memory', () => ht.memory().liveBuffers);
console.log(JSON.stringify(report));
