import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { ConfigProblemsError, formatProblems, loadConfig } from "../config/index.js";
import type { LoadedConfig } from "../config/index.js";
import { builtinComponents } from "../engine/components.js";
import { CliError, EXIT_USAGE } from "./cli-error.js";

export const DEFAULT_CONFIG_FILE = "junction.yaml";

export function configPath(file: string | undefined): string {
  return resolve(file ?? process.env.JUNCTION_CONFIG ?? DEFAULT_CONFIG_FILE);
}

/** Loads and validates a config file; problems become a CliError listing each as file:line:col. */
export async function loadConfigFile(file: string | undefined): Promise<LoadedConfig> {
  const path = configPath(file);
  if (!existsSync(path)) {
    throw new CliError(`config file not found: ${path}\n  create one with \`junction init\`, or pass the path (e.g. \`junction run examples/quickstart/junction.yaml\`)`, EXIT_USAGE);
  }
  try {
    return await loadConfig(path, builtinComponents);
  } catch (error) {
    if (error instanceof ConfigProblemsError) {
      const count = error.problems.length;
      throw new CliError(`${formatProblems(error.problems)}\n${count} problem${count === 1 ? "" : "s"} in ${file ?? DEFAULT_CONFIG_FILE}`, EXIT_USAGE);
    }
    throw error;
  }
}
