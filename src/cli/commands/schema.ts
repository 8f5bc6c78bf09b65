import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { buildJsonSchema } from "../../config/index.js";
import { builtinComponents } from "../../engine/components.js";

export function registerSchema(program: Command): void {
  program
    .command("schema")
    .description("print the JSON Schema of junction.yaml (for editors: yaml-language-server)")
    .option("-o, --output <file>", "write to a file instead of stdout")
    .action((options: { output?: string }) => {
      const text = `${JSON.stringify(buildJsonSchema(builtinComponents), null, 2)}\n`;
      if (options.output) {
        writeFileSync(options.output, text);
        process.stderr.write(`wrote ${options.output}\n  use it in VS Code with a first line: # yaml-language-server: $schema=${options.output}\n`);
      } else process.stdout.write(text);
    });
}
