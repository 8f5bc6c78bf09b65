import type { FallbackPolicy } from "./fallback.js";
import type { PolicyContext, PolicyFn } from "./policy.js";
import { neverAbortedSignal } from "./policy.js";

/** Anything `pipeline` can compose: every `Policy<C>`, `FallbackPolicy<R>` and pipelines themselves. */
export interface PipelineMember {
  execute<T>(fn: PolicyFn<T, PolicyContext>, signal?: AbortSignal): Promise<unknown>;
}

/** The context a member hands to the function it runs. */
export type ContextOf<P> = P extends { execute<T>(fn: PolicyFn<T, infer C>, signal?: AbortSignal): Promise<unknown> } ? C : PolicyContext;

/** What a member may resolve with besides the call's own result (a fallback's value). */
export type ExtraResultOf<P> = P extends FallbackPolicy<infer R> ? R : P extends PipelinePolicy<PolicyContext, infer R> ? R : never;

export type MergedContext<P extends readonly unknown[]> = P extends readonly [infer Head, ...infer Rest] ? ContextOf<Head> & MergedContext<Rest> : PolicyContext;

export type MergedExtraResult<P extends readonly unknown[]> = P extends readonly [infer Head, ...infer Rest] ? ExtraResultOf<Head> | MergedExtraResult<Rest> : never;

/**
 * Policies composed outer → inner: `pipeline(retry, timeout)` retries around a timeout. `fn`
 * receives every member's context fields merged (inner ones win, so `signal` is the innermost,
 * which is linked to every outer one). `R` is what a fallback in the pipeline may resolve with.
 */
export class PipelinePolicy<C extends PolicyContext, R = never> {
  readonly policies: readonly PipelineMember[];

  constructor(policies: readonly PipelineMember[]) {
    this.policies = policies;
  }

  execute<T>(fn: PolicyFn<T, C>, signal?: AbortSignal): Promise<T | R> {
    const policies = this.policies;
    if (policies.length === 0) {
      try {
        return Promise.resolve(fn({ signal: signal ?? neverAbortedSignal } as C));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    const run = (index: number, merged: PolicyContext | undefined, callerSignal: AbortSignal | undefined): Promise<unknown> =>
      (policies[index] as PipelineMember).execute(((context: PolicyContext) => {
        const next = merged === undefined ? context : Object.assign({}, merged, context);
        return index + 1 === policies.length ? fn(next as C) : run(index + 1, next, context.signal);
      }) as PolicyFn<unknown, PolicyContext>, callerSignal);
    return run(0, undefined, signal) as Promise<T | R>;
  }
}

/** Composes policies outer → inner (like cockatiel's `wrap`). */
export function pipeline<P extends readonly PipelineMember[]>(...policies: P): PipelinePolicy<MergedContext<P>, MergedExtraResult<P>> {
  return new PipelinePolicy(policies);
}

/** Alias of `pipeline`, for those coming from cockatiel. */
export const wrap = pipeline;
