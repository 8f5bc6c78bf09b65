import { configError } from "../../core/errors.js";
import type { SecretList } from "./types.js";

/** Normalises one-or-many secrets; an empty list or an empty secret is a configuration mistake. Messages never include the values. */
export function secretList(secrets: SecretList, what: string): string[] {
  const list = typeof secrets === "string" ? [secrets] : [...secrets];
  if (list.length === 0) throw configError(`${what}: at least one secret is required`);
  list.forEach((secret, index) => {
    if (typeof secret !== "string" || secret.trim() === "") {
      throw configError(`${what}: secret #${index + 1} is empty; set it to the signing secret the sender gave you`);
    }
  });
  return list;
}
