import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// The gateway serves the built app with a CSP of script-src 'self' / style-src 'self':
// keep index.html free of inline scripts and styles.
export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      "/api": { target: "http://127.0.0.1:8000", changeOrigin: false },
    },
  },
  build: {
    outDir: "dist",
    assetsDir: "assets",
    sourcemap: false,
    // Vite names assets [name]-[hash].js by default; the gateway can cache /assets/* forever.
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
  },
});
