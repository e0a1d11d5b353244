import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    environment: 'node',
    include: ['test/**/*.spec.ts'],
    // JupyterLab's packages ship ES modules that vite must transform rather than hand to node as is.
    server: { deps: { inline: [/@jupyterlab\//, /@lumino\//] } }
  }
});
