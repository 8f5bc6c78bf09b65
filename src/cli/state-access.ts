import type { LoadedConfig } from "../config/index.js";
import { openStateStore } from "../state/open.js";
import type { StateStore } from "../state/types.js";
import { loadConfigFile } from "./config-file.js";

export interface StateOptions {
  config?: string;
  state?: string;
}

/** The state store named by `--state URL`, or else by the config file's `state:`. */
export async function openStateFor(options: StateOptions): Promise<{ state: StateStore; loaded?: LoadedConfig }> {
  if (options.state) return { state: await openStateStore(options.state, { baseDir: process.cwd() }) };
  const loaded = await loadConfigFile(options.config);
  return { state: await openStateStore(loaded.config.state, { baseDir: loaded.config.baseDir }), loaded };
}

export async function withState<T>(options: StateOptions, use: (state: StateStore, loaded?: LoadedConfig) => Promise<T>): Promise<T> {
  const { state, loaded } = await openStateFor(options);
  try {
    return await use(state, loaded);
  } finally {
    await state.close();
  }
}
