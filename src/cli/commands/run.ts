import type { Command } from "commander";
import { JunctionRuntime } from "../../engine/runtime.js";
import type { RunSummary } from "../../engine/runner.js";
import { createLogger } from "../../observability/logger.js";
import { parseDuration } from "../../core/duration.js";
import { CliError, EXIT_FAILURE } from "../cli-error.js";
import { loadConfigFile } from "../config-file.js";
import { printJson } from "../output.js";
import { ProgressReporter } from "../progress/progress-reporter.js";
import type { ProgressOutput } from "../progress/progress-reporter.js";
import { StatusLine } from "../progress/status-line.js";

const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"];

interface RunCommandOptions {
  once?: boolean;
  integration?: string[];
  admin?: boolean;
  json?: boolean;
  logLevel?: string;
  progress?: boolean;
  progressInterval?: string;
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
    .option("--no-progress", "no progress display (on a terminal: a status line per running sync; otherwise: a log line every --progress-interval)")
    .option("--progress-interval <duration>", "how often a progress log line is written when stderr is not a terminal", "10s")
    .action(async (file: string | undefined, options: RunCommandOptions) => {
      const level = options.logLevel ?? process.env.JUNCTION_LOG_LEVEL;
      if (level !== undefined && !LOG_LEVELS.includes(level)) throw new CliError(`log level must be one of ${LOG_LEVELS.join(", ")}, got "${level}"`);
      const progressEveryMs = parseDuration(options.progressInterval);
      if (progressEveryMs === undefined || progressEveryMs < 100) {
        throw new CliError(`--progress-interval must be a duration of at least 100ms such as "10s" or "1m", got "${String(options.progressInterval)}"`);
      }
      const loaded = await loadConfigFile(file);
      const status = options.progress !== false && process.stderr.isTTY === true ? new StatusLine(process.stderr) : undefined;
      const logger = createLogger({ level: level ?? loaded.config.log.level, format: loaded.config.log.format, redactor: loaded.redactor, destination: status ?? process.stderr });
      const runtime = await JunctionRuntime.open(loaded, { logger });
      const output: ProgressOutput | undefined =
        options.progress === false ? undefined : status !== undefined ? { kind: "tty", status } : { kind: "log", logger, everyMs: progressEveryMs };
      const progress = output === undefined ? undefined : new ProgressReporter({ runs: () => runtime.progress(), output });
      progress?.start();
      const onSignal = (signal: NodeJS.Signals): void => runtime.shutdown(`received ${signal}`);
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
      try {
        const result = await runtime.run({
          once: options.once ?? false,
          ...(options.integration ? { integrations: options.integration } : {}),
          ...(options.admin === false ? { admin: false } : {}),
        });
        progress?.stop();
        if (options.json) printJson({ ok: result.ok, errors: result.errors, runs: result.summaries.map((s) => s.run) });
        else for (const summary of result.summaries) process.stderr.write(`${describeSummary(summary)}\n`);
        for (const error of result.errors) if (!options.json) process.stderr.write(`error: ${error}\n`);
        if (!result.ok) process.exitCode = EXIT_FAILURE;
      } finally {
        progress?.stop();
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
