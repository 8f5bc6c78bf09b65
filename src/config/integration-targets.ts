import type { RoutingKind } from "./model.js";
import { isPlainMap } from "./validation/plain-map.js";

type Path = Array<string | number>;
type Raw = Record<string, unknown>;

/** The keys that give an integration its targets; exactly one of them is allowed. */
export const TARGET_KEYS = ["target", "targets", "switch"] as const;

const ROUTING_OF: Record<(typeof TARGET_KEYS)[number], RoutingKind> = { target: "single", targets: "fan_out", switch: "switch" };

/** Keys of a `targets:` item that belong to the engine; the others are the connector's sink options. */
export const FAN_OUT_ENGINE_KEYS = ["connection", "name", "when"] as const;

/** One target as written, with where its parts are in the file. */
export interface WrittenTarget {
  /** Path of the map holding `connection` and the sink options. */
  path: Path;
  endpoint: unknown;
  /** Keys of `endpoint` that are not sink options. */
  engineKeys: readonly string[];
  /** Where `name` and `when` are written (beside the endpoint in a `targets:` item, on the case in a `switch:`). */
  holderPath: Path;
  name: unknown;
  when: unknown;
}

/** The routing an integration asks for: the one target key written, undefined when none or several are. */
export function writtenRouting(integration: Raw): RoutingKind | undefined {
  const present = TARGET_KEYS.filter((key) => integration[key] !== undefined);
  return present.length === 1 ? ROUTING_OF[present[0] as (typeof TARGET_KEYS)[number]] : undefined;
}

/** Every target written under `target`, `targets` and `switch` (all of them, even when several keys are given). */
export function writtenTargets(integrationPath: Path, integration: Raw): WrittenTarget[] {
  const out: WrittenTarget[] = [];
  if (integration.target !== undefined) {
    const path = [...integrationPath, "target"];
    out.push({ path, endpoint: integration.target, engineKeys: ["connection"], holderPath: path, name: undefined, when: undefined });
  }
  if (Array.isArray(integration.targets)) {
    integration.targets.forEach((item: unknown, index) => {
      const path = [...integrationPath, "targets", index];
      const held = isPlainMap(item) ? item : {};
      out.push({ path, endpoint: item, engineKeys: FAN_OUT_ENGINE_KEYS, holderPath: path, name: held.name, when: held.when });
    });
  }
  if (Array.isArray(integration.switch)) {
    integration.switch.forEach((item: unknown, index) => {
      const holderPath = [...integrationPath, "switch", index];
      const held = isPlainMap(item) ? item : {};
      out.push({ path: [...holderPath, "target"], endpoint: held.target, engineKeys: ["connection"], holderPath, name: held.name, when: held.when });
    });
  }
  return out;
}

/**
 * Each target's name: `name:` as written, else its connection's name. In a switch, where
 * several cases commonly write to one connection, a connection used by several cases
 * without a name gives `<connection>_<case index>`.
 */
export function targetNames(routing: RoutingKind, targets: ReadonlyArray<{ name: unknown; endpoint: unknown }>): string[] {
  const connectionOf = (target: { endpoint: unknown }): string => {
    const endpoint = target.endpoint;
    if (!isPlainMap(endpoint)) return "";
    return typeof endpoint.connection === "string" ? endpoint.connection : typeof endpoint.webhook === "string" ? endpoint.webhook : "";
  };
  const unnamedUses = new Map<string, number>();
  for (const target of targets) {
    if (typeof target.name !== "string") unnamedUses.set(connectionOf(target), (unnamedUses.get(connectionOf(target)) ?? 0) + 1);
  }
  return targets.map((target, index) => {
    if (typeof target.name === "string") return target.name;
    const connection = connectionOf(target);
    return routing === "switch" && (unnamedUses.get(connection) ?? 0) > 1 ? `${connection}_${index}` : connection;
  });
}

/** The sink options of a written endpoint: everything but the engine's keys. */
export function sinkOptions(endpoint: Raw, engineKeys: readonly string[]): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(endpoint)) if (!engineKeys.includes(key)) options[key] = value;
  return options;
}
