/**
 * MQTT topic rules (MQTT 5 section 4.7): levels separated by "/", filters may use "+" for
 * one whole level and "#" for the rest as the last level; topic names (what is published
 * to) use no wildcard at all.
 */

const SHARED_PREFIX = "$share/";

/** What is wrong with a subscription filter, or undefined when it is valid. */
export function topicFilterProblem(filter: string): string | undefined {
  if (filter === "") return "a topic filter cannot be empty";
  if (filter.includes("\u0000")) return "a topic filter cannot contain the NUL character";
  const levels = filter.split("/");
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] as string;
    if (level.includes("#") && (level !== "#" || i !== levels.length - 1)) return `"#" must be a whole level and the last one, e.g. "orders/#" (in "${filter}")`;
    if (level.includes("+") && level !== "+") return `"+" must be a whole level, e.g. "orders/+/created" (in "${filter}")`;
  }
  return undefined;
}

/** What is wrong with a topic to publish to, or undefined when it is valid. */
export function topicNameProblem(topic: string): string | undefined {
  if (topic === "") return "the topic is empty";
  if (topic.includes("+") || topic.includes("#")) return `the topic "${topic}" contains a wildcard (+ or #); messages are published to one topic`;
  if (topic.includes("\u0000")) return `the topic "${topic}" contains the NUL character`;
  return undefined;
}

export function isSharedFilter(filter: string): boolean {
  return filter.startsWith(SHARED_PREFIX);
}

/** The filter to subscribe with: `$share/<group>/<filter>` for competing consumers. */
export function subscriptionFilter(filter: string, sharedGroup: string | undefined): string {
  return sharedGroup === undefined ? filter : `${SHARED_PREFIX}${sharedGroup}/${filter}`;
}
