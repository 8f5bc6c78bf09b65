#!/usr/bin/env node
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import { JunctionError } from "../core/errors.js";
import { PACKAGE_VERSION } from "../engine/runtime.js";
import { CliError, EXIT_FAILURE, EXIT_USAGE } from "./cli-error.js";
import { registerCheck } from "./commands/check.js";
import { registerCheckpoints } from "./commands/checkpoints.js";
import { registerConfig } from "./commands/config-print.js";
import { registerDlq } from "./commands/dlq.js";
import { registerInit } from "./commands/init.js";
import { registerMemory } from "./commands/memory.js";
import { registerRun } from "./commands/run.js";
import { registerRuns } from "./commands/runs.js";
import { registerSchema } from "./commands/schema.js";
import { registerValidate } from "./commands/validate.js";
import { registerWebhooks } from "./commands/webhooks.js";

export function buildProgram(): Command {
  const program = new Command("junction")
    .description("Junction: connect services, APIs, databases, brokers and webhooks, reliably and observably.")
    .version(PACKAGE_VERSION)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  registerInit(program);
  registerValidate(program);
  registerSchema(program);
  registerRun(program);
  registerCheck(program);
  registerRuns(program);
  registerCheckpoints(program);
  registerDlq(program);
  registerWebhooks(program);
  registerMemory(program);
  registerConfig(program);
  for (const command of program.commands) command.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    return reportError(error);
  }
}

function reportError(error: unknown): number {
  if (error instanceof CommanderError) {
    // Commander already printed the message; help and version are not failures.
    if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help") return 0;
    return EXIT_USAGE;
  }
  if (error instanceof CliError) {
    process.stderr.write(`${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof JunctionError) {
    process.stderr.write(`error: ${error.message}\n`);
    return error.kind === "config" ? EXIT_USAGE : EXIT_FAILURE;
  }
  if (error instanceof TypeError || error instanceof RangeError) {
    process.stderr.write(`error: ${error.message}\n`);
    return EXIT_USAGE;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`error: ${message}\n`);
  if (process.env.JUNCTION_DEBUG) process.stderr.write(`${(error as Error)?.stack ?? ""}\n`);
  else process.stderr.write("(set JUNCTION_DEBUG=1 for a stack trace)\n");
  return EXIT_FAILURE;
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`error: ${String(error)}\n`);
      process.exitCode = EXIT_FAILURE;
    },
  );
}
