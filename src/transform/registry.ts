import { callTransform } from "./call.js";
import { filterTransform } from "./filter.js";
import { mapTransform } from "./map.js";
import { renameTransform } from "./rename.js";
import { selectTransform } from "./select.js";
import { setTransform } from "./set.js";
import type { AnyTransformSpec } from "./types.js";
import { validateTransform } from "./validate.js";

/** Every transform a config step can name. A new transform is one file plus one line here. */
export const transformSpecs: readonly AnyTransformSpec[] = [mapTransform, filterTransform, selectTransform, renameTransform, setTransform, validateTransform, callTransform];

const byName = new Map(transformSpecs.map((spec) => [spec.name, spec]));

export function findTransform(name: string): AnyTransformSpec | undefined {
  return byName.get(name);
}
