// A small static file server for the browser demo and the browser tests. It binds to localhost
// only: WebGPU needs a secure context, and http://127.0.0.1 / http://localhost count as one
// (file:// and about:blank do not).
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { resolve, sep, extname } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.wgsl': 'text/plain; charset=utf-8',
  '.gz': 'application/gzip',
};

/**
 * Serves `routes` ({ '/': 'dist/demo', '/data/': 'some/dir' }: URL prefix -> folder; the longest
 * matching prefix wins) on host:port (port 0 picks a free one). Resolves to { url, close }.
 */
export async function serveStatic({ routes, host = '127.0.0.1', port = 0 }) {
  const table = Object.entries(routes)
    .map(([prefix, dir]) => [prefix.endsWith('/') ? prefix : prefix + '/', resolve(dir)])
    .sort((a, b) => b[0].length - a[0].length);
  const server = createServer(async (req, res) => {
    try {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      const hit = table.find(([prefix]) => path.startsWith(prefix) || path + '/' === prefix);
      if (!hit) return send(res, 404, 'not found');
      const [prefix, dir] = hit;
      let file = resolve(dir, '.' + sep + path.slice(prefix.length));
      // Never serve anything outside the routed folder (no ../ escapes).
      if (file !== dir && !file.startsWith(dir + sep)) return send(res, 403, 'forbidden');
      if ((await stat(file).catch(() => null))?.isDirectory()) file = resolve(file, 'index.html');
      const body = await readFile(file).catch(() => null);
      if (!body) return send(res, 404, `not found: ${path}`);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    } catch (e) {
      send(res, 500, String(e));
    }
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, ok);
  });
  const { port: chosen } = server.address();
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${chosen}/`,
    port: chosen,
    close: () => new Promise((ok) => { server.closeAllConnections?.(); server.close(() => ok()); }),
  };
}

function send(res, status, text) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text);
}
