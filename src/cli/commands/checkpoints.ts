import type { Command } from "commander";
import { CliError, EXIT_FAILURE } from "../cli-error.js";
import { formatTime, printJson, printTable } from "../output.js";
import { withState } from "../state-access.js";
import type { StateOptions } from "../state-access.js";

interface CheckpointOptions extends StateOptions {
  json?: boolean;
}

const STATE_OPTIONS: Array<[string, string]> = [
  ["-c, --config <file>", "config file whose state store to use"],
  ["--state <url>", "state store URL instead of the config's (sqlite:path or postgres://…)"],
];

/** `junction checkpoints list | show <integration> | reset <integration>`: where each source resumes. */
export function registerCheckpoints(program: Command): void {
  const command = program.command("checkpoints").description("show or reset where each integration's source resumes (its saved position)");

  const list = command.command("list").description("every saved position, by integration").option("--json", "print as JSON");
  const show = command.command("show").description("one integration's saved position").argument("<integration>", "integration name").option("--json", "print as JSON");
  const reset = command
    .command("reset")
    .description("forget an integration's saved position: its next run reads from the beginning (full reads) or from the CDC slot's position")
    .argument("<integration>", "integration name")
    .option("--yes", "confirm: without it nothing is deleted");
  for (const sub of [list, show, reset]) for (const [flags, description] of STATE_OPTIONS) sub.option(flags, description);

  list.action(async (options: CheckpointOptions) => {
    await withState(options, async (state) => {
      const checkpoints = await state.listCheckpoints();
      if (options.json) return printJson(checkpoints);
      if (checkpoints.length === 0) return void process.stdout.write("no checkpoints yet\n");
      printTable(
        ["INTEGRATION", "UPDATED", "POSITION"],
        checkpoints.map((checkpoint) => [checkpoint.scope, formatTime(checkpoint.updatedAt), JSON.stringify(checkpoint.value)]),
      );
    });
  });

  show.action(async (integration: string, options: CheckpointOptions) => {
    await withState(options, async (state) => {
      const checkpoint = await state.getCheckpoint(integration);
      if (checkpoint === undefined) throw new CliError(`integration "${integration}" has no saved position (it has not run yet, or it was reset)`, EXIT_FAILURE);
      if (options.json) return printJson(checkpoint);
      process.stdout.write(`${checkpoint.scope}  updated ${formatTime(checkpoint.updatedAt)}\n${JSON.stringify(checkpoint.value, null, 2)}\n`);
    });
  });

  reset.action(async (integration: string, options: CheckpointOptions & { yes?: boolean }) => {
    if (!options.yes) {
      throw new CliError(`add --yes to forget the saved position of "${integration}": its next run starts over (rows already written are written again, idempotently for upsert targets)`);
    }
    await withState(options, async (state) => {
      const deleted = await state.deleteCheckpoint(integration);
      if (!deleted) throw new CliError(`integration "${integration}" has no saved position; nothing to reset`, EXIT_FAILURE);
      process.stdout.write(`reset: "${integration}" starts from the beginning on its next run\n`);
    });
  });
}
