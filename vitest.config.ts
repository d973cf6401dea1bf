import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // CI also writes a JSON report, from which .ci/run prints its closing "N passed, N failed" line.
    reporters: process.env.CI ? ["default", "json"] : ["default"],
    outputFile: { json: ".tmp/vitest-results.json" },
    projects: [
      {
        test: {
          name: "unit",
          include: ["cmd/**/*.test.ts", "controllers/**/*.test.ts", "reconcilers/**/*.test.ts"],
          environment: "node",
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Each file starts its own emulator on a free port; two at a time fit 2 cores.
          maxWorkers: 2,
        },
      },
      {
        test: {
          // The project's Docker image, built and run against the AWS emulator (test/e2e/docker-harness.ts starts a
          // Docker engine and builds the base image where they are missing; it fails, never skips, without them).
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          // The first run on a machine installs docker.io, bootstraps the base image and builds: minutes, not seconds.
          testTimeout: 180_000,
          hookTimeout: 600_000,
          // One engine, two cores: image builds and containers one file at a time.
          maxWorkers: 1,
        },
      },
    ],
  },
});
