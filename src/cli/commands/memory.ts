import type { Command } from "commander";
import type { Decision } from "../../state/types.js";
import { CliError, EXIT_FAILURE } from "../cli-error.js";
import { formatTime, parseLimit, printJson, printTable } from "../output.js";
import { withState } from "../state-access.js";

interface MemoryOptions {
  config?: string;
  state?: string;
  tag?: string[];
  subject?: string;
  limit?: string;
  json?: boolean;
}

function stateOptions(command: Command): Command {
  return command
    .option("-c, --config <file>", "config file whose state store to use")
    .option("--state <url>", "state store URL instead of the config's");
}

export function registerMemory(program: Command): void {
  const memory = program.command("memory").description("record and search integration decisions (why a thing is the way it is)");

  stateOptions(memory.command("store").description("record a decision"))
    .argument("<text...>", "the decision and its reasons")
    .requiredOption("-t, --title <title>", "a one-line title")
    .option("--tag <tag>", "a tag (repeat, or separate with commas: --tag stripe,payments)", collect, [])
    .option("--subject <name>", "the integration or connection it concerns")
    .option("--json", "print the stored decision as JSON")
    .action(async (words: string[], options: MemoryOptions & { title: string }) => {
      const text = words.join(" ").trim();
      if (!text) throw new CliError("the decision text is empty");
      const tags = normaliseTags(options.tag);
      await withState(options, async (state) => {
        const decision = await state.recordDecision({ title: options.title, text, tags, ...(options.subject ? { subject: options.subject } : {}) });
        if (options.json) printJson(decision);
        else process.stdout.write(`recorded ${decision.id}: ${decision.title}\n`);
      });
    });

  stateOptions(memory.command("query").description("search decisions by words (all must match) and tags"))
    .argument("[text...]", "words to find in the title or text")
    .option("--tag <tag>", "only decisions with this tag (repeat for several; all must match)", collect, [])
    .option("--subject <name>", "only decisions about this integration or connection")
    .option("--limit <n>", "how many", "20")
    .option("--json", "print as JSON")
    .action(async (words: string[], options: MemoryOptions) => {
      await query(options, words.join(" ").trim());
    });

  stateOptions(memory.command("list").description("list recorded decisions, newest first"))
    .option("--limit <n>", "how many", "20")
    .option("--json", "print as JSON")
    .action(async (options: MemoryOptions) => {
      await query(options, "");
    });

  stateOptions(memory.command("show").description("show one decision in full"))
    .argument("<id>", "decision id")
    .option("--json", "print as JSON")
    .action(async (id: string, options: MemoryOptions) => {
      await withState(options, async (state) => {
        const decision = await state.getDecision(id);
        if (!decision) throw new CliError(`no decision with id "${id}"`, EXIT_FAILURE);
        if (options.json) return printJson(decision);
        process.stdout.write(`${decision.title}\n${formatTime(decision.createdAt)}  tags: ${decision.tags.join(", ") || "-"}${decision.subject ? `  subject: ${decision.subject}` : ""}\n\n${decision.text}\n`);
      });
    });
}

async function query(options: MemoryOptions, text: string): Promise<void> {
  const limit = parseLimit(options.limit, 20);
  const tags = normaliseTags(options.tag);
  await withState(options, async (state) => {
    const found = await state.queryDecisions({ limit, ...(text ? { text } : {}), ...(tags.length ? { tags } : {}), ...(options.subject ? { subject: options.subject } : {}) });
    if (options.json) return printJson(found);
    if (found.length === 0) return void process.stdout.write("no decisions found\n");
    printTable(["ID", "CREATED", "TITLE", "TAGS", "SUBJECT"], found.map((d: Decision) => [d.id, formatTime(d.createdAt), d.title, d.tags.join(","), d.subject ?? ""]));
  });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function normaliseTags(tags: string[] | undefined): string[] {
  return [...new Set((tags ?? []).flatMap((t) => t.split(",")).map((t) => t.trim().toLowerCase()).filter(Boolean))];
}
