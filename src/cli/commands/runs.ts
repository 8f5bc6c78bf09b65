import type { Command } from "commander";
import type { RunStatus } from "../../state/types.js";
import { CliError } from "../cli-error.js";
import { formatTime, parseLimit, printJson, printTable } from "../output.js";
import { withState } from "../state-access.js";

const STATUSES: RunStatus[] = ["running", "succeeded", "failed", "partial", "interrupted"];

export function registerRuns(program: Command): void {
  program
    .command("runs")
    .description("list run history, newest first")
    .option("-c, --config <file>", "config file whose state store to read", undefined)
    .option("--state <url>", "state store URL instead of the config's (sqlite:path or postgres://…)")
    .option("-i, --integration <name>", "only this integration")
    .option("--status <status>", `only runs with this status (${STATUSES.join(", ")})`)
    .option("--limit <n>", "how many runs", "20")
    .option("--json", "print as JSON")
    .action(async (options: { config?: string; state?: string; integration?: string; status?: string; limit?: string; json?: boolean }) => {
      if (options.status && !STATUSES.includes(options.status as RunStatus)) throw new CliError(`--status must be one of ${STATUSES.join(", ")}, got "${options.status}"`);
      const limit = parseLimit(options.limit, 20);
      await withState(options, async (state) => {
        const runs = await state.listRuns({
          limit,
          ...(options.integration ? { integration: options.integration } : {}),
          ...(options.status ? { status: options.status as RunStatus } : {}),
        });
        if (options.json) return printJson(runs);
        if (runs.length === 0) return void process.stdout.write("no runs yet\n");
        printTable(
          ["RUN", "INTEGRATION", "TRIGGER", "STATUS", "STARTED", "SECONDS", "READ", "WRITTEN", "FILTERED", "DEAD", "RETRIED"],
          runs.map((run) => [
            run.id,
            run.integration,
            run.trigger,
            run.status,
            formatTime(run.startedAt),
            run.finishedAt ? ((run.finishedAt.getTime() - run.startedAt.getTime()) / 1000).toFixed(2) : "-",
            String(run.counts.read),
            String(run.counts.written),
            String(run.counts.filtered),
            String(run.counts.deadLettered),
            String(run.counts.retried),
          ]),
        );
      });
    });
}
