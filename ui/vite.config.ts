// Builds the window's assets into dist/, which the Tauri binary embeds. No dev server: the app
// always loads the built files, so tests and the product run the same code.
import { defineConfig } from "vite";

export default defineConfig({
  clearScreen: false,
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: { target: "safari16", outDir: "dist", emptyOutDir: true, sourcemap: false },
});
