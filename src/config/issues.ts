/** A problem found in a config block by a component's own semantic check. Paths are relative to the block. */
export interface ConfigIssue {
  path: Array<string | number>;
  message: string;
}
