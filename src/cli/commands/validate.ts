import type { Command } from "commander";
import { CliError, EXIT_USAGE } from "../cli-error.js";
import { configPath, DEFAULT_CONFIG_FILE, loadConfigFile } from "../config-file.js";
import { printJson } from "../output.js";

interface FileVerdict {
  file: string;
  valid: boolean;
  connections?: number;
  integrations?: number;
  problems?: string;
}

export function registerValidate(program: Command): void {
  program
    .command("validate")
    .description("check config files and print every problem as file:line:col  path  message (exit 2 when any is invalid)")
    .argument("[files...]", `config files (default: ${DEFAULT_CONFIG_FILE})`)
    .option("--json", "print the result as JSON")
    .action(async (files: string[], options: { json?: boolean }) => {
      const verdicts: FileVerdict[] = [];
      for (const file of files.length > 0 ? files : [undefined]) {
        try {
          const { config } = await loadConfigFile(file);
          verdicts.push({ file: configPath(file), valid: true, connections: Object.keys(config.connections).length, integrations: Object.keys(config.integrations).length });
        } catch (error) {
          if (!(error instanceof CliError)) throw error;
          verdicts.push({ file: configPath(file), valid: false, problems: error.message });
        }
      }
      if (options.json) printJson(verdicts);
      else
        for (const verdict of verdicts) {
          if (verdict.valid) process.stdout.write(`${verdict.file}: valid, ${verdict.connections} connection(s), ${verdict.integrations} integration(s)\n`);
          else process.stderr.write(`${verdict.problems}\n`);
        }
      if (verdicts.some((v) => !v.valid)) process.exitCode = EXIT_USAGE;
    });
}
