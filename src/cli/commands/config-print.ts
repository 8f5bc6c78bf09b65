import type { Command } from "commander";
import { renderResolvedConfig } from "../../config/index.js";
import { loadConfigFile } from "../config-file.js";

export function registerConfig(program: Command): void {
  const config = program.command("config").description("inspect the resolved configuration");
  config
    .command("print")
    .description("print the config after interpolation and defaults, with secrets redacted")
    .argument("[file]", "config file")
    .action(async (file: string | undefined) => {
      const loaded = await loadConfigFile(file);
      process.stdout.write(renderResolvedConfig(loaded));
    });
}
