import { permanentError } from "../core/errors.js";
import type { Message } from "../core/message.js";
import type { RoutingKind, TargetConfig } from "../config/model.js";
import { isJsonataTrue } from "../transform/filter.js";
import { describeJsonataError, JsonataExpression } from "../transform/jsonata-expression.js";

const NOWHERE: readonly number[] = Object.freeze([]);

/**
 * Decides which targets a transformed message goes to: with `targets:` every target whose
 * `when` holds (a target without `when` always), with `switch:` the first case whose `when`
 * holds (a case without `when` is the default). Conditions are compiled once.
 */
export class MessageRouter {
  readonly #names: readonly string[];
  readonly #conditions: ReadonlyArray<JsonataExpression | undefined>;
  readonly #firstOnly: boolean;
  /** Every target, returned as is when none has a condition. */
  readonly #all: readonly number[] | undefined;
  /** `[index]` for each target, so that a switch allocates nothing per message. */
  readonly #each: ReadonlyArray<readonly number[]>;

  /** Throws a config error when a condition does not parse. */
  constructor(targets: readonly TargetConfig[], routing: RoutingKind) {
    this.#names = targets.map((target) => target.name);
    this.#conditions = targets.map((target) => (target.when === undefined ? undefined : new JsonataExpression(target.when, `when of target "${target.name}"`)));
    this.#firstOnly = routing === "switch";
    this.#each = targets.map((_, index) => Object.freeze([index]));
    this.#all = this.#conditions.every((condition) => condition === undefined) ? Object.freeze(targets.map((_, index) => index)) : undefined;
  }

  /**
   * Indexes of the targets `message` goes to, in config order; empty when none matches.
   * Rejects with a permanent error naming the target when a condition fails to evaluate.
   */
  async route(message: Message): Promise<readonly number[]> {
    if (this.#firstOnly) {
      for (let index = 0; index < this.#conditions.length; index++) {
        if (await this.#holds(index, message)) return this.#each[index] as readonly number[];
      }
      return NOWHERE;
    }
    if (this.#all !== undefined) return this.#all;
    let chosen: number[] | undefined;
    for (let index = 0; index < this.#conditions.length; index++) {
      if (await this.#holds(index, message)) (chosen ??= []).push(index);
    }
    return chosen ?? NOWHERE;
  }

  async #holds(index: number, message: Message): Promise<boolean> {
    const condition = this.#conditions[index];
    if (condition === undefined) return true;
    try {
      return isJsonataTrue(await condition.evaluate(message));
    } catch (error) {
      throw permanentError(`the when condition of target "${this.#names[index]}" failed${describeJsonataError(error)}`, { code: "route.condition_failed", cause: error });
    }
  }
}
