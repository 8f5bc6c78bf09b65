import { relative, isAbsolute } from "node:path";
import { JunctionError } from "../core/errors.js";

/** One thing wrong with a config file, pointing at where it is written. */
export interface ConfigProblem {
  /** Absolute path of the config file, or "<inline>". */
  file: string;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  col: number;
  /** Dotted path of the offending value, e.g. "integrations.users.source.cursor"; "" for the whole file. */
  path: string;
  message: string;
}

export type ConfigPath = ReadonlyArray<string | number>;

/** "integrations.users.transform.0.map"; the empty path is the file itself. */
export function formatPath(path: ConfigPath): string {
  return path.map(String).join(".");
}

const ROOT_PATH_LABEL = "(root)";

/** One line per problem: `file:line:col  path  message`, the file relative to `cwd`. */
export function formatProblems(problems: readonly ConfigProblem[], cwd: string = process.cwd()): string {
  return problems
    .map((p) => `${displayFile(p.file, cwd)}:${p.line}:${p.col}  ${p.path === "" ? ROOT_PATH_LABEL : p.path}  ${p.message}`)
    .join("\n");
}

function displayFile(file: string, cwd: string): string {
  if (!isAbsolute(file)) return file;
  const shown = relative(cwd, file);
  return shown === "" ? file : shown;
}

export function sortProblems(problems: readonly ConfigProblem[]): ConfigProblem[] {
  return [...problems].sort((a, b) => a.line - b.line || a.col - b.col || a.path.localeCompare(b.path));
}

/** Thrown when a config file cannot be used; `problems` lists everything found, not just the first. */
export class ConfigProblemsError extends JunctionError {
  readonly problems: ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const sorted = sortProblems(problems);
    const count = sorted.length === 1 ? "1 problem" : `${sorted.length} problems`;
    const file = sorted[0] ? displayFile(sorted[0].file, process.cwd()) : "config";
    super(`${file} has ${count}; fix ${sorted.length === 1 ? "it" : "them"} and try again:\n${formatProblems(sorted)}`, {
      kind: "config",
      code: "config.invalid",
      context: { problems: sorted.length },
    });
    this.name = "ConfigProblemsError";
    this.problems = sorted;
  }
}
