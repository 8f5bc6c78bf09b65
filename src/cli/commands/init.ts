import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type { Command } from "commander";
import { buildJsonSchema } from "../../config/index.js";
import { builtinComponents } from "../../engine/components.js";
import { starterConfig } from "../../scaffold/starter-config.js";
import { CliError } from "../cli-error.js";

export function registerInit(program: Command): void {
  program
    .command("init")
    .description("write a commented starter junction.yaml (and its JSON Schema for editors)")
    .argument("[dir]", "directory to write into", ".")
    .option("--force", "overwrite an existing junction.yaml")
    .action((dir: string, options: { force?: boolean }) => {
      const target = resolve(dir);
      mkdirSync(target, { recursive: true });
      const file = join(target, "junction.yaml");
      if (existsSync(file) && !options.force) throw new CliError(`${file} already exists; use --force to overwrite it`);
      writeFileSync(file, starterConfig(basename(target)));
      writeFileSync(join(target, "junction.schema.json"), `${JSON.stringify(buildJsonSchema(builtinComponents), null, 2)}\n`);
      process.stdout.write(
        `wrote ${file}\nwrote ${join(target, "junction.schema.json")} (editor completion via yaml-language-server)\n\nnext:\n  junction validate ${file}\n  junction run ${file} --once\n  junction runs -c ${file}\n`,
      );
    });
}
