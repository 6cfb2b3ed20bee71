import { defineConfig } from 'vite';
import { resolve } from 'node:path';

// Two pages: the app (index.html) and the encryption benchmark (bench.html). `base: './'`
// lets dist/ be served from any path; the wasm envelope and the worker are assets beside it.
export default defineConfig({
  base: './',
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
    rollupOptions: {
      input: {
        main: resolve(import.meta.dirname, 'index.html'),
        bench: resolve(import.meta.dirname, 'bench.html')
      }
    }
  },
  worker: { format: 'es' }
});
