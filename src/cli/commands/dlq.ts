import type { Command } from "commander";
import { JunctionRuntime } from "../../engine/runtime.js";
import { replayDeadLetters } from "../../engine/replay.js";
import { createLogger } from "../../observability/logger.js";
import type { DeadLetter, DeadLetterFilter, DeadLetterStatus } from "../../state/types.js";
import { CliError, EXIT_FAILURE } from "../cli-error.js";
import { loadConfigFile } from "../config-file.js";
import { formatTime, parseLimit, printJson, printTable } from "../output.js";
import { withState } from "../state-access.js";

interface FilterOptions {
  config?: string;
  state?: string;
  integration?: string;
  status?: string;
  limit?: string;
  json?: boolean;
}

function filterFrom(options: FilterOptions, defaultStatus: DeadLetterStatus | "all"): DeadLetterFilter {
  const status = options.status ?? defaultStatus;
  if (!["pending", "replayed", "all"].includes(status)) throw new CliError(`--status must be pending, replayed or all, got "${status}"`);
  return {
    ...(options.integration ? { integration: options.integration } : {}),
    ...(status !== "all" ? { status: status as DeadLetterStatus } : {}),
  };
}

function stateOptions(command: Command): Command {
  return command
    .option("-c, --config <file>", "config file whose state store to use")
    .option("--state <url>", "state store URL instead of the config's");
}

export function registerDlq(program: Command): void {
  const dlq = program.command("dlq").description("list, inspect, replay and purge dead letters");

  stateOptions(dlq.command("list").description("list dead letters, newest first"))
    .option("-i, --integration <name>", "only this integration")
    .option("--status <status>", "pending, replayed or all", "pending")
    .option("--limit <n>", "how many", "50")
    .option("--json", "print as JSON")
    .action(async (options: FilterOptions) => {
      const filter = { ...filterFrom(options, "pending"), limit: parseLimit(options.limit, 50) };
      await withState(options, async (state) => {
        const letters = await state.listDeadLetters(filter);
        if (options.json) return printJson(letters);
        if (letters.length === 0) return void process.stdout.write("no dead letters\n");
        printTable(
          ["ID", "INTEGRATION", "STAGE", "STATUS", "ATTEMPTS", "CREATED", "ERROR"],
          letters.map((l) => [l.id, l.integration, l.stage, l.status, String(l.attempts), formatTime(l.createdAt), truncate(l.error.message, 80)]),
        );
      });
    });

  stateOptions(dlq.command("show").description("show one dead letter with its message and error"))
    .argument("<id>", "dead letter id")
    .option("--json", "print as JSON")
    .action(async (id: string, options: FilterOptions) => {
      await withState(options, async (state) => {
        const letter = await state.getDeadLetter(id);
        if (!letter) throw new CliError(`no dead letter with id "${id}"; list them with \`junction dlq list\``, EXIT_FAILURE);
        if (options.json) return printJson(letter);
        process.stdout.write(describeLetter(letter));
      });
    });

  dlq
    .command("replay")
    .description("send dead letters through their integration's current transforms and target again")
    .argument("[ids...]", "dead letter ids (or use --all)")
    .option("-c, --config <file>", "config file (replay needs the integrations)")
    .option("--all", "replay every pending dead letter (of --integration, when given)")
    .option("-i, --integration <name>", "only this integration's dead letters")
    .option("--json", "print results as JSON")
    .action(async (ids: string[], options: { config?: string; all?: boolean; integration?: string; json?: boolean }) => {
      if (ids.length === 0 && !options.all) throw new CliError("give dead letter ids, or --all (see `junction dlq list`)");
      const loaded = await loadConfigFile(options.config);
      const logger = createLogger({ level: "warn", format: loaded.config.log.format, redactor: loaded.redactor, destination: process.stderr });
      const runtime = await JunctionRuntime.open(loaded, { logger, processMetrics: false });
      try {
        let letters: DeadLetter[];
        if (ids.length > 0) {
          letters = [];
          for (const id of ids) {
            const letter = await runtime.state.getDeadLetter(id);
            if (!letter) throw new CliError(`no dead letter with id "${id}"`, EXIT_FAILURE);
            letters.push(letter);
          }
        } else {
          letters = await runtime.state.listDeadLetters({ status: "pending", ...(options.integration ? { integration: options.integration } : {}) });
          letters.reverse(); // oldest first, the order they failed in
        }
        const controller = new AbortController();
        const onSignal = (): void => controller.abort(new Error("interrupted"));
        process.once("SIGINT", onSignal);
        const results = await replayDeadLetters(runtime, letters, controller.signal).finally(() => process.off("SIGINT", onSignal));
        if (options.json) printJson(results);
        else {
          for (const r of results) process.stdout.write(`${r.id}  ${r.integration}  ${r.outcome}${r.error ? `  ${r.error}` : ""}\n`);
          const replayed = results.filter((r) => r.outcome === "replayed" || r.outcome === "filtered").length;
          process.stdout.write(`${replayed} of ${results.length} replayed\n`);
        }
        if (results.some((r) => r.outcome === "failed")) process.exitCode = EXIT_FAILURE;
      } finally {
        await runtime.close();
      }
    });

  stateOptions(dlq.command("purge").description("delete dead letters (requires --yes)"))
    .option("-i, --integration <name>", "only this integration's")
    .option("--status <status>", "pending, replayed or all", "all")
    .option("--before <date>", "only those created before this ISO date")
    .option("--yes", "really delete")
    .action(async (options: FilterOptions & { before?: string; yes?: boolean }) => {
      const filter = filterFrom(options, "all");
      if (options.before) {
        const before = new Date(options.before);
        if (Number.isNaN(before.getTime())) throw new CliError(`--before must be a date such as 2026-01-31 or 2026-01-31T12:00:00Z, got "${options.before}"`);
        filter.before = before;
      }
      await withState(options, async (state) => {
        const count = await state.countDeadLetters(filter);
        if (!options.yes) throw new CliError(`this would delete ${count} dead letter(s); run again with --yes to delete them`);
        const removed = await state.purgeDeadLetters(filter);
        process.stdout.write(`deleted ${removed} dead letter(s)\n`);
      });
    });
}

function truncate(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ");
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function describeLetter(letter: DeadLetter): string {
  const lines = [
    `id:           ${letter.id}`,
    `integration:  ${letter.integration}`,
    `status:       ${letter.status}${letter.replayedAt ? ` (replayed ${formatTime(letter.replayedAt)})` : ""}`,
    `stage:        ${letter.stage}`,
    `attempts:     ${letter.attempts}`,
    `created:      ${formatTime(letter.createdAt)}`,
    `error:        [${letter.error.kind}] ${letter.error.message}`,
  ];
  if (letter.replayAttempts > 0) lines.push(`replays:      ${letter.replayAttempts} failed, last: ${letter.lastReplayError ?? "?"}`);
  lines.push(`message id:   ${letter.message.id}`, `correlation:  ${letter.message.correlationId}`, "payload:", JSON.stringify(letter.message.payload, null, 2));
  return `${lines.join("\n")}\n`;
}
