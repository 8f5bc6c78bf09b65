import type { Logger } from "pino";
import type { SecretRedactor } from "../core/redact.js";
import { configError } from "../core/errors.js";
import type { IntegrationConfig } from "../config/model.js";
import type { JunctionMetrics } from "../observability/metrics.js";
import type { Policy } from "../resilience/policy.js";
import type { StateStore } from "../state/types.js";
import { buildTransforms } from "../transform/pipeline.js";
import type { ConnectionPool } from "./connection-pool.js";
import { IntegrationRunner } from "./runner.js";

export interface IntegrationFactoryDeps {
  connections: ConnectionPool;
  state: StateStore;
  logger: Logger;
  metrics: JunctionMetrics;
  redactor: SecretRedactor;
  baseDir: string;
}

/** Builds a runner for one integration: its source, transforms and sink, wired to the shared services. */
export async function createIntegrationRunner(
  integration: IntegrationConfig,
  deps: IntegrationFactoryDeps,
  options: { follow: boolean; call?: Policy; onWriteObserved?: (seconds: number, size: number, failures: number) => void },
): Promise<IntegrationRunner> {
  const logger = deps.logger.child({ integration: integration.name });
  const sourceConnection = await deps.connections.get(integration.source.connection);
  const targetConnection = await deps.connections.get(integration.target.connection);
  if (!sourceConnection.source) throw configError(`integration "${integration.name}": connection "${integration.source.connection}" cannot be a source`);
  if (!targetConnection.sink) throw configError(`integration "${integration.name}": connection "${integration.target.connection}" cannot be a target`);
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
  const sink = targetConnection.sink(integration.target.options, {
    integration: integration.name,
    logger,
    ...(deps.state.sharedCheckpoints ? { sharedCheckpoints: deps.state.sharedCheckpoints } : {}),
  });
  const transforms = buildTransforms(integration.transforms, { baseDir: deps.baseDir });
  return new IntegrationRunner({
    integration,
    source,
    sink,
    transforms,
    state: deps.state,
    logger: deps.logger,
    metrics: deps.metrics,
    redactor: deps.redactor,
    ...(options.call ? { call: options.call } : {}),
    ...(options.onWriteObserved ? { onWriteObserved: options.onWriteObserved } : {}),
  });
}
