// `npm run demo`: serves the browser demo (built into dist/demo by scripts/build.mjs) on
// localhost and prints its address. Ctrl-C stops it. Options: --port N (default 8080, or the
// PORT environment variable; if that port is taken, a free one is used).
import { existsSync } from 'node:fs';
import { serveStatic } from './static-server.mjs';
import { writeMnistSubset } from './mnist-subset.mjs';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log('Usage: npm run demo [-- --port N]\nBuilds and serves the hypertape browser demo on http://127.0.0.1:N/ (default 8080). Ctrl-C stops it.');
  process.exit(0);
}
const portArg = args.indexOf('--port');
const wanted = Number(portArg >= 0 ? args[portArg + 1] : process.env.PORT ?? 8080);
if (!Number.isInteger(wanted) || wanted < 0 || wanted > 65535) {
  console.error(`demo: --port expects a port number 0-65535, got ${portArg >= 0 ? args[portArg + 1] : process.env.PORT}`);
  process.exit(2);
}
if (!existsSync('dist/demo/index.html')) {
  console.error('demo: dist/demo is missing; run `npm run demo` (it builds first) or `node scripts/build.mjs`.');
  process.exit(1);
}

// The page's hypercleaning section fetches this MNIST subset from the server.
await writeMnistSubset('dist/demo');

const routes = { '/': 'dist/demo' };
let server;
try {
  server = await serveStatic({ routes, port: wanted });
} catch (e) {
  if (e.code !== 'EADDRINUSE') throw e;
  server = await serveStatic({ routes, port: 0 });
  console.log(`(port ${wanted} is taken; using ${server.port})`);
}

console.log(`hypertape demo: ${server.url}
Open it in a browser with WebGPU (Chrome or Edge 113+; on Linux, Chromium with --enable-unsafe-webgpu).
Press Ctrl-C to stop.`);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    await server.close();
    console.log('\ndemo stopped.');
    process.exit(0);
  });
}
