import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** Built by `npm run build` into apps/console/dist, which the gateway serves at `/`. */
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: false },
  // `npm run console:dev` proxies the API to a gateway started by `npm start`.
  server: {
    proxy: Object.fromEntries(
      ['/v1', '/api', '/limiquantix.network.v1.', '/ready', '/health'].map((p) => [
        p,
        process.env.QNET_GATEWAY ?? 'http://127.0.0.1:8080',
      ]),
    ),
  },
});
