import type { Command } from "commander";
import { JunctionRuntime } from "../../engine/runtime.js";
import type { RunSummary } from "../../engine/runner.js";
import { createLogger } from "../../observability/logger.js";
import { CliError, EXIT_FAILURE } from "../cli-error.js";

const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];
import { loadConfigFile } from "../config-file.js";
import { printJson } from "../output.js";

interface RunCommandOptions {
  once?: boolean;
  integration?: string[];
  admin?: boolean;
  json?: boolean;
  logLevel?: string;
}

export function registerRun(program: Command): void {
  program
    .command("run")
    .description("run the integrations of a config file by their triggers (Ctrl-C drains in-flight work and stops)")
    .argument("[file]", "config file")
    .option("--once", "run every selected integration once, until its source is drained, then exit")
    .option("-i, --integration <name...>", "run only these integrations")
    .option("--no-admin", "do not start the admin server")
    .option("--json", "print the run summaries as JSON on stdout when done")
    .option("--log-level <level>", "trace, debug, info, warn, error or silent (default: the config's log.level, or $JUNCTION_LOG_LEVEL)")
    .action(async (file: string | undefined, options: RunCommandOptions) => {
      const level = options.logLevel ?? process.env.JUNCTION_LOG_LEVEL;
      if (level !== undefined && !LOG_LEVELS.includes(level)) throw new CliError(`log level must be one of ${LOG_LEVELS.join(", ")}, got "${level}"`);
      const loaded = await loadConfigFile(file);
      const logger = createLogger({ level: level ?? loaded.config.log.level, format: loaded.config.log.format, redactor: loaded.redactor, destination: process.stderr });
      const runtime = await JunctionRuntime.open(loaded, { logger });
      const onSignal = (signal: NodeJS.Signals): void => runtime.shutdown(`received ${signal}`);
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
      try {
        const result = await runtime.run({
          once: options.once ?? false,
          ...(options.integration ? { integrations: options.integration } : {}),
          ...(options.admin === false ? { admin: false } : {}),
        });
        if (options.json) printJson({ ok: result.ok, errors: result.errors, runs: result.summaries.map((s) => s.run) });
        else for (const summary of result.summaries) process.stderr.write(`${describeSummary(summary)}\n`);
        for (const error of result.errors) if (!options.json) process.stderr.write(`error: ${error}\n`);
        if (!result.ok) process.exitCode = EXIT_FAILURE;
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
        await runtime.close();
      }
    });
}

export function describeSummary(summary: RunSummary): string {
  const { run } = summary;
  const c = run.counts;
  const seconds = run.finishedAt ? ((run.finishedAt.getTime() - run.startedAt.getTime()) / 1000).toFixed(2) : "?";
  const tail = summary.error ? ` — ${summary.error}` : "";
  return `${run.integration}: ${summary.status} in ${seconds}s — read ${c.read}, written ${c.written}, filtered ${c.filtered}, dead-lettered ${c.deadLettered}, retried ${c.retried} (run ${run.id})${tail}`;
}
