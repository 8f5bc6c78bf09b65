import type { Logger } from "pino";
import type { SecretRedactor } from "../core/redact.js";
import { configError } from "../core/errors.js";
import type { IntegrationConfig, TargetConfig } from "../config/model.js";
import type { JunctionMetrics } from "../observability/metrics.js";
import type { Policy } from "../resilience/policy.js";
import type { StateStore } from "../state/types.js";
import { buildTransforms } from "../transform/pipeline.js";
import type { ConnectionPool } from "./connection-pool.js";
import { IntegrationRunner } from "./runner.js";
import type { TargetSink } from "./runner.js";

export interface IntegrationFactoryDeps {
  connections: ConnectionPool;
  state: StateStore;
  logger: Logger;
  metrics: JunctionMetrics;
  redactor: SecretRedactor;
  baseDir: string;
}

/** Builds a runner for one integration: its source, transforms and the sink of each target, wired to the shared services. */
export async function createIntegrationRunner(
  integration: IntegrationConfig,
  deps: IntegrationFactoryDeps,
  options: { follow: boolean; callFor?: (target: TargetConfig) => Policy; onWriteObserved?: (seconds: number, size: number, failures: number) => void },
): Promise<IntegrationRunner> {
  const logger = deps.logger.child({ integration: integration.name });
  const sourceConnection = await deps.connections.get(integration.source.connection);
  if (!sourceConnection.source) throw configError(`integration "${integration.name}": connection "${integration.source.connection}" cannot be a source`);
  const targets: TargetSink[] = [];
  for (const target of integration.targets) {
    const connection = await deps.connections.get(target.connection);
    if (!connection.sink) throw configError(`integration "${integration.name}": connection "${target.connection}" cannot be a target`);
    const sink = connection.sink(target.options, {
      integration: integration.name,
      logger: integration.routing === "single" ? logger : logger.child({ target: target.name }),
      ...(deps.state.sharedCheckpoints ? { sharedCheckpoints: deps.state.sharedCheckpoints } : {}),
    });
    const call = options.callFor?.(target);
    targets.push({ sink, ...(call ? { call } : {}) });
  }
  const scope = integration.name;
  const source = sourceConnection.source(integration.source.options, {
    integration: integration.name,
    logger,
    follow: options.follow,
    batchSize: integration.batching.count,
    checkpoints: {
      get: async () => (await deps.state.getCheckpoint(scope))?.value,
      set: (value) => deps.state.setCheckpoint(scope, value),
    },
  });
  const transforms = buildTransforms(integration.transforms, {
    baseDir: deps.baseDir,
    caller: async (name, options) => {
      const connection = await deps.connections.get(name);
      if (!connection.caller) throw configError(`integration "${integration.name}": connection "${name}" cannot be called from a call step`);
      return connection.caller(options, { integration: integration.name, logger: logger.child({ call: name }) });
    },
  });
  return new IntegrationRunner({
    integration,
    source,
    targets,
    transforms,
    state: deps.state,
    logger: deps.logger,
    metrics: deps.metrics,
    redactor: deps.redactor,
    ...(options.onWriteObserved ? { onWriteObserved: options.onWriteObserved } : {}),
  });
}
