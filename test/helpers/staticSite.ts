import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import path from 'node:path';
import { promisify } from 'node:util';

export interface StaticSite {
  url: string;
  close(): Promise<void>;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/**
 * Serves a built page from `root` on a loopback port and forwards `/graphql` to `apiUrl`, so the
 * page talks to the API on its own origin, as it does behind Vite's proxy or a reverse proxy.
 * WebSocket upgrades of `/graphql` (subscriptions) are forwarded as they are.
 */
export async function serveStaticSite(
  root: string,
  apiUrl: string,
  options: { port?: number } = {},
): Promise<StaticSite> {
  const api = new URL(apiUrl);
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname === '/graphql') {
      const upstream = httpRequest(
        {
          hostname: api.hostname,
          port: api.port,
          path: `/graphql${url.search}`,
          method: request.method,
          headers: { ...request.headers, host: api.host },
        },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      upstream.on('error', () => {
        response.writeHead(502).end();
      });
      request.pipe(upstream);
      return;
    }
    const file = path.resolve(root, `.${decodeURIComponent(url.pathname)}`);
    const target = file.startsWith(root + path.sep) ? file : path.join(root, 'index.html');
    void stat(target)
      .then((info) => (info.isFile() ? target : path.join(root, 'index.html')))
      .catch(() => path.join(root, 'index.html'))
      .then((served) => {
        response.writeHead(200, {
          'content-type': CONTENT_TYPES[path.extname(served)] ?? 'application/octet-stream',
          'cache-control': 'no-store',
        });
        createReadStream(served).pipe(response);
      });
  });
  // Upgraded sockets leave the HTTP server's bookkeeping, so they are tracked for close().
  const tunnels = new Set<Duplex>();
  server.on('upgrade', (request, socket: Duplex, head: Buffer) => {
    const upstream = net.connect(Number(api.port), api.hostname, () => {
      const headers: string[] = [];
      for (let i = 0; i < request.rawHeaders.length; i += 2) {
        const name = request.rawHeaders[i]!;
        headers.push(
          `${name}: ${name.toLowerCase() === 'host' ? api.host : request.rawHeaders[i + 1]}`,
        );
      }
      upstream.write(
        `${request.method} ${request.url} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`,
      );
      if (head.length > 0) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    for (const end of [socket, upstream]) {
      tunnels.add(end);
      end.on('close', () => tunnels.delete(end));
    }
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        for (const tunnel of tunnels) tunnel.destroy();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

const REPO_ROOT = path.resolve(__dirname, '../..');

/** Builds the example page (examples/web) with Vite into `outDir`, as `npm run web` serves it. */
export async function buildExampleSite(outDir: string): Promise<void> {
  await promisify(execFile)(
    process.execPath,
    [
      path.join(REPO_ROOT, 'node_modules/vite/bin/vite.js'),
      'build',
      '--config',
      path.join(REPO_ROOT, 'examples/web/vite.config.mjs'),
      '--outDir',
      outDir,
      '--logLevel',
      'error',
    ],
    { cwd: REPO_ROOT },
  );
}
