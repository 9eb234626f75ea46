// @ts-check
import { defineConfig } from 'vite';

// The page calls /graphql on its own origin; both the dev server and `vite preview` forward it to
// the API, so no CORS is involved. API_URL points elsewhere than a local `npm run dev`.
const api = process.env.API_URL ?? 'http://127.0.0.1:4000';
// `ws: true` forwards the WebSocket upgrade of subscriptions too.
const proxy = { '/graphql': { target: api, changeOrigin: true, ws: true } };

export default defineConfig({
  root: import.meta.dirname,
  server: { port: 5173, strictPort: true, proxy },
  preview: { port: 4173, strictPort: true, proxy },
  build: { outDir: 'dist', emptyOutDir: true },
});
