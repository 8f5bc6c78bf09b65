import type { Command } from "commander";
import { loadConfigFile, configPath } from "../config-file.js";
import { printJson } from "../output.js";

export function registerValidate(program: Command): void {
  program
    .command("validate")
    .description("check a config file and print every problem as file:line:col  path  message (exit 2 when invalid)")
    .argument("[file]", "config file", undefined)
    .option("--json", "print the result as JSON")
    .action(async (file: string | undefined, options: { json?: boolean }) => {
      const { config } = await loadConfigFile(file);
      const summary = {
        valid: true,
        file: configPath(file),
        connections: Object.keys(config.connections).length,
        integrations: Object.keys(config.integrations).length,
      };
      if (options.json) printJson(summary);
      else process.stdout.write(`${file ?? "junction.yaml"} is valid: ${summary.connections} connection(s), ${summary.integrations} integration(s)\n`);
    });
}
