import type { Command } from "commander";
import { JunctionRuntime } from "../../engine/runtime.js";
import { createLogger } from "../../observability/logger.js";
import { EXIT_FAILURE } from "../cli-error.js";
import { loadConfigFile } from "../config-file.js";
import { printJson, printTable } from "../output.js";

export function registerCheck(program: Command): void {
  program
    .command("check")
    .description("check every connection's health with latency (exit 1 if any is unhealthy)")
    .argument("[file]", "config file")
    .option("--json", "print the health report as JSON")
    .option("--timeout <ms>", "per-connection timeout in milliseconds", "5000")
    .action(async (file: string | undefined, options: { json?: boolean; timeout: string }) => {
      const loaded = await loadConfigFile(file);
      const logger = createLogger({ level: "warn", format: loaded.config.log.format, redactor: loaded.redactor, destination: process.stderr });
      const runtime = await JunctionRuntime.open(loaded, { logger, processMetrics: false });
      try {
        const timeoutMs = Number(options.timeout);
        const rows: Array<{ name: string; type: string; status: string; latencyMs: number; detail?: string }> = [];
        for (const [name, definition] of Object.entries(loaded.config.connections)) {
          try {
            const connection = await runtime.connections.get(name);
            runtime.health.register(name, (signal) => connection.health(signal), { required: definition.required, timeoutMs: Number.isFinite(timeoutMs) && timeoutMs > 0 ? timeoutMs : 5000 });
          } catch (error) {
            rows.push({ name, type: definition.type, status: "unhealthy", latencyMs: 0, detail: loaded.redactor.redact(String((error as Error)?.message ?? error)) });
          }
        }
        const report = await runtime.health.check();
        for (const [name, result] of Object.entries(report.checks)) {
          rows.push({ name, type: loaded.config.connections[name]?.type ?? "?", status: result.status, latencyMs: result.latencyMs, ...(result.detail ? { detail: result.detail } : {}) });
        }
        rows.sort((a, b) => a.name.localeCompare(b.name));
        if (options.json) printJson({ connections: rows });
        else printTable(["CONNECTION", "TYPE", "STATUS", "LATENCY", "DETAIL"], rows.map((r) => [r.name, r.type, r.status, `${r.latencyMs.toFixed(1)}ms`, r.detail ?? ""]));
        if (rows.some((r) => r.status === "unhealthy")) process.exitCode = EXIT_FAILURE;
      } finally {
        await runtime.close();
      }
    });
}
