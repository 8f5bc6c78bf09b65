import { hostname } from "node:os";
import type { Logger } from "pino";
import { closest } from "fastest-levenshtein";
import { pause } from "../core/abort.js";
import { configError, errorKind, errorMessage } from "../core/errors.js";
import type { ErrorKind } from "../core/errors.js";
import { backoffDelay } from "../resilience/backoff.js";
import { newId } from "../core/ids.js";
import type { SecretRedactor } from "../core/redact.js";
import type { LoadedConfig } from "../config/loader.js";
import type { IntegrationConfig, JunctionConfig, TargetConfig } from "../config/model.js";
import { HealthRegistry } from "../observability/health.js";
import { createLogger } from "../observability/logger.js";
import { JunctionMetrics } from "../observability/metrics.js";
import type { AdminServer } from "../server/admin-server.js";
import { startAdminServer } from "../server/admin-server.js";
import { startWebhookServer } from "../server/webhook-server.js";
import { openStateStore } from "../state/open.js";
import type { StateStore } from "../state/types.js";
import { ConnectionPool } from "./connection-pool.js";
import { createIntegrationRunner } from "./integration-factory.js";
import type { IntegrationRunner, RunSummary } from "./runner.js";
import type { ProgressSnapshot } from "./run-progress.js";
import { buildCallPolicy } from "../resilience/from-config.js";
import type { CallPolicy } from "../resilience/from-config.js";
import { Scheduler } from "./scheduler.js";
import { StateMaintenance } from "./state-maintenance.js";
import { IntegrationAlerts } from "./integration-alerts.js";
import { InboundWebhooks } from "../webhooks/inbound/inbound-webhooks.js";
import { OutboundWebhooks } from "../webhooks/outbound/outbound-webhooks.js";
import { webhookConnectionName } from "../config/normalise.js";
import type { Connection } from "../connectors/types.js";

export interface RuntimeOpenOptions {
  logger?: Logger;
  /** Default: true, the process metrics (CPU, memory, event loop) are exported too. */
  processMetrics?: boolean;
}

export interface RuntimeRunOptions {
  /** Run every selected integration once until its source is drained, then return. */
  once?: boolean;
  /** Only these integrations (default: all). */
  integrations?: string[];
  /** Start the admin server (default: when `admin.listen` is set). */
  admin?: boolean;
}

export interface RuntimeResult {
  summaries: RunSummary[];
  /** false when a run failed or could not start. */
  ok: boolean;
  errors: string[];
}

export const PACKAGE_VERSION = "0.1.0";

/**
 * The declarative runtime: opens the state store and connections of a loaded config,
 * runs its integrations by their triggers, serves the admin endpoints, and shuts down
 * gracefully, draining in-flight work within `shutdown_timeout`.
 */
export class JunctionRuntime {
  readonly config: JunctionConfig;
  readonly redactor: SecretRedactor;
  readonly state: StateStore;
  readonly logger: Logger;
  readonly metrics: JunctionMetrics;
  readonly health: HealthRegistry;
  readonly connections: ConnectionPool;
  readonly instanceId = `${hostname()}:${process.pid}:${newId().slice(0, 8)}`;
  readonly #stop = new AbortController();
  readonly #abort = new AbortController();
  #admin: AdminServer | undefined;
  #webhookServer: AdminServer | undefined;
  readonly inbound: InboundWebhooks;
  readonly outbound: OutboundWebhooks;
  #scheduler: Scheduler | undefined;
  #maintenance: StateMaintenance | undefined;
  #hardStopTimer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #callPolicies = new Map<string, CallPolicy>();
  readonly #healthChecked = new Set<string>();
  readonly #active = new Set<IntegrationRunner>();

  private constructor(loaded: LoadedConfig, state: StateStore, logger: Logger, metrics: JunctionMetrics) {
    this.config = loaded.config;
    this.redactor = loaded.redactor;
    this.state = state;
    this.logger = logger;
    this.metrics = metrics;
    this.health = new HealthRegistry({ metrics, redactor: loaded.redactor });
    this.inbound = new InboundWebhooks(this.config.webhooks.inbound, { state, logger, metrics });
    this.outbound = new OutboundWebhooks(this.config.webhooks.outbound, { state, logger, metrics });
    this.connections = new ConnectionPool(this.config, state, logger, this.#abort.signal, (name) => this.#providedConnection(name));
  }

  #providedConnection(name: string): Connection | undefined {
    for (const webhook of Object.keys(this.config.webhooks.inbound)) {
      if (name === webhookConnectionName("inbound", webhook)) return this.inbound.connection(webhook);
    }
    for (const webhook of Object.keys(this.config.webhooks.outbound)) {
      if (name === webhookConnectionName("outbound", webhook)) return this.outbound.connection(webhook);
    }
    return undefined;
  }

  static async open(loaded: LoadedConfig, options: RuntimeOpenOptions = {}): Promise<JunctionRuntime> {
    const logger = options.logger ?? createLogger({ level: loaded.config.log.level, format: loaded.config.log.format, redactor: loaded.redactor });
    const state = await openStateStore(loaded.config.state, { baseDir: loaded.config.baseDir });
    const metrics = new JunctionMetrics({ defaultMetrics: options.processMetrics ?? true });
    return new JunctionRuntime(loaded, state, logger, metrics);
  }

  get stopSignal(): AbortSignal {
    return this.#stop.signal;
  }

  get adminUrl(): string | undefined {
    return this.#admin?.url;
  }

  selectIntegrations(names?: string[]): IntegrationConfig[] {
    const all = this.config.integrations;
    if (!names || names.length === 0) return Object.values(all);
    return names.map((name) => {
      const found = all[name];
      if (found) return found;
      const known = Object.keys(all);
      const hint = known.length ? ` (did you mean "${closest(name, known)}"?)` : "";
      throw configError(`no integration named "${name}"${hint}; defined: ${known.join(", ") || "none"}`);
    });
  }

  /** Opens every connection the integrations use and registers its health check. */
  async openConnections(integrations: IntegrationConfig[]): Promise<void> {
    const names = new Set(integrations.flatMap((i) => [i.source.connection, ...i.targets.map((target) => target.connection), ...calledConnections(i)]));
    for (const name of names) {
      if (this.#healthChecked.has(name)) continue;
      const definition = this.config.connections[name];
      const connection = await this.connections.get(name);
      this.health.register(name, (signal) => connection.health(signal), { required: definition?.required ?? true });
      this.#healthChecked.add(name);
    }
  }

  /** The admin server, with the inbound webhook routes unless `webhooks.listen` gives them their own listener. */
  async startAdmin(): Promise<void> {
    const listen = this.config.admin.listen;
    if (!listen || this.#admin) return;
    const hostsWebhooks = this.inbound.size > 0 && this.config.webhooks.listen === undefined;
    this.#admin = await startAdminServer({
      listen,
      health: this.health,
      metrics: this.metrics,
      state: this.state,
      logger: this.logger,
      redactor: this.redactor,
      version: PACKAGE_VERSION,
      ...(hostsWebhooks ? { routes: (app) => this.inbound.routes(app) } : {}),
    });
    const webhooks = hostsWebhooks ? ` and webhooks at ${this.inbound.paths.join(" ")}` : "";
    this.logger.info({ url: this.#admin.url }, `admin server listening on ${this.#admin.url} (/health /ready /metrics /api/runs /api/dead-letters${webhooks})`);
  }

  /** Base URL the inbound webhooks are served at, once started. */
  get webhooksUrl(): string | undefined {
    return this.#webhookServer?.url ?? (this.config.webhooks.listen === undefined && this.inbound.size > 0 ? this.#admin?.url : undefined);
  }

  /** The inbound webhooks' own listener (`webhooks.listen`): the same server without the admin routes' exposure being the point. */
  async startWebhookListener(): Promise<void> {
    const listen = this.config.webhooks.listen;
    if (listen === undefined || this.inbound.size === 0 || this.#webhookServer) return;
    this.#webhookServer = await startWebhookServer({ listen, logger: this.logger, metrics: this.metrics, routes: (app) => this.inbound.routes(app) });
    this.logger.info({ url: this.#webhookServer.url }, `webhooks listening on ${this.#webhookServer.url} (${this.inbound.paths.join(" ")})`);
  }

  async run(options: RuntimeRunOptions = {}): Promise<RuntimeResult> {
    const integrations = this.selectIntegrations(options.integrations);
    const summaries: RunSummary[] = [];
    const errors: string[] = [];
    await this.openConnections(integrations);
    for (const integration of integrations) {
      const pending = await this.state.countDeadLetters({ integration: integration.name, status: "pending" });
      this.metrics.deadLetters.set({ integration: integration.name }, pending);
    }
    if (options.admin ?? this.config.admin.listen !== null) await this.startAdmin();
    await this.startWebhookListener();
    if (this.inbound.size > 0 && this.webhooksUrl === undefined) {
      this.logger.warn("inbound webhooks are not served: they need the admin server (admin.listen, without --no-admin) or their own webhooks.listen");
    }

    this.#maintenance ??= new StateMaintenance(this.state, this.instanceId, this.logger, { deliveryRetentionMs: this.config.webhooks.deliveryRetentionMs });
    this.#maintenance.start();
    const passes: Promise<void>[] = [];
    // Outbound deliveries are sent while the runtime runs (retries can take hours): a run that is not --once keeps going for them.
    const sendsWebhooks = Object.keys(this.config.webhooks.outbound).length > 0;
    if (sendsWebhooks) this.outbound.start();
    let waitsForShutdown = sendsWebhooks && !options.once;
    for (const integration of integrations) {
      const trigger = options.once ? { kind: "once" as const } : integration.trigger;
      const runPass = async (follow: boolean, label: string): Promise<void> => {
        const outcome = await this.#runWithRestarts(integration, follow, label, summaries);
        if (outcome !== undefined) errors.push(`${integration.name}: ${outcome}`);
      };
      if (trigger.kind === "once") passes.push(runPass(false, "once"));
      else if (trigger.kind === "continuous") {
        waitsForShutdown = true;
        passes.push(runPass(true, "continuous"));
      } else {
        waitsForShutdown = true;
        this.#scheduler ??= new Scheduler(this.state, this.instanceId, this.logger);
        this.#scheduler.add({ name: integration.name, cron: trigger.cron, ...(trigger.timezone ? { timezone: trigger.timezone } : {}), run: () => runPass(false, "schedule") });
      }
    }
    await Promise.all(passes);
    if (waitsForShutdown && !this.#stop.signal.aborted) {
      await new Promise<void>((resolve) => this.#stop.signal.addEventListener("abort", () => resolve(), { once: true }));
    }
    await this.#scheduler?.stop();
    return { summaries, ok: errors.length === 0, errors };
  }

  /**
   * Runs an integration; a run stopped by a transient error (a source database restarting,
   * a lock, a network blip) starts again from its checkpoint after a backoff: up to
   * `retry.attempts` times for once and scheduled passes, for as long as it takes for a
   * continuous one. Returns the final error, if any.
   */
  async #runWithRestarts(integration: IntegrationConfig, follow: boolean, label: string, summaries: RunSummary[]): Promise<string | undefined> {
    const retry = integration.resilience.retry;
    const log = this.logger.child({ integration: integration.name });
    let previousDelay = 0;
    for (let restart = 1; ; restart++) {
      let failure: string;
      let kind: ErrorKind;
      try {
        const summary = await this.runIntegration(integration, { follow, trigger: label });
        summaries.push(summary);
        if (summary.status !== "failed") return undefined;
        failure = summary.error ?? "failed";
        kind = summary.errorKind ?? "permanent";
      } catch (error) {
        failure = this.redactor.redact(errorMessage(error));
        kind = errorKind(error);
        log.error({ err: error }, `integration could not run: ${failure}`);
      }
      if (kind !== "transient" || this.#stop.signal.aborted || (!follow && restart >= retry.attempts)) return failure;
      const delay = backoffDelay(retry, restart, previousDelay);
      previousDelay = delay;
      log.warn({ restart, delay_ms: Math.round(delay), error: failure }, `run stopped by a transient error; starting again from the checkpoint in ${Math.round(delay)}ms`);
      if (!(await pause(delay, this.#stop.signal))) return undefined;
    }
  }

  async runIntegration(integration: IntegrationConfig, options: { follow: boolean; trigger: string }): Promise<RunSummary> {
    const alerts = new IntegrationAlerts(integration, this.health, this.logger);
    const runner = await createIntegrationRunner(
      integration,
      { connections: this.connections, state: this.state, logger: this.logger, metrics: this.metrics, redactor: this.redactor, baseDir: this.config.baseDir },
      { follow: options.follow, callFor: (target) => this.callPolicyFor(integration, target).policy, onWriteObserved: (seconds, size, failures) => alerts.observe(seconds, size, failures) },
    );
    this.#active.add(runner);
    try {
      return await runner.run({ trigger: options.trigger, stop: this.#stop.signal, abort: this.#abort.signal });
    } finally {
      this.#active.delete(runner);
      alerts.dispose();
    }
  }

  /** Counts of every run in progress, for progress displays. */
  progress(): ProgressSnapshot[] {
    const snapshots: ProgressSnapshot[] = [];
    for (const runner of this.#active) {
      const snapshot = runner.progress();
      if (snapshot !== undefined) snapshots.push(snapshot);
    }
    return snapshots;
  }

  /**
   * The circuit breaker, rate limit, bulkhead and timeout around the sink writes of one
   * target of an integration (default: its first): one per integration and target for the
   * runtime's life, so a breaker remembers across passes. Named after the integration for a
   * `target:`, "<integration>:<target name>" with `targets:` or `switch:` (metrics, logs).
   */
  callPolicyFor(integration: IntegrationConfig, target: TargetConfig | undefined = integration.targets[0]): CallPolicy {
    if (target === undefined) throw configError(`integration "${integration.name}" has no target`);
    const name = integration.routing === "single" ? integration.name : `${integration.name}:${target.name}`;
    let call = this.#callPolicies.get(name);
    if (!call) {
      const logger = this.logger.child(integration.routing === "single" ? { integration: integration.name } : { integration: integration.name, target: target.name });
      call = buildCallPolicy(target.resilience, {
        name,
        metrics: this.metrics,
        onStateChange: (event) => {
          const log = event.to === "closed" ? logger.info.bind(logger) : logger.warn.bind(logger);
          log({ from: event.from, to: event.to, reason: event.reason }, `circuit ${event.to} (${event.reason})`);
        },
      });
      this.#callPolicies.set(name, call);
    }
    return call;
  }

  /** Graceful stop: stop pulling, drain in-flight work; cancel what is left after `shutdown_timeout`. */
  shutdown(reason = "shutdown requested"): void {
    if (this.#stop.signal.aborted) {
      this.#abort.abort(new Error(reason));
      return;
    }
    this.logger.info({ reason, shutdown_timeout_ms: this.config.shutdownTimeoutMs }, "shutting down: draining in-flight work");
    this.#stop.abort(new Error(reason));
    this.#hardStopTimer = setTimeout(() => {
      this.logger.warn("shutdown timeout reached: cancelling work still in flight");
      this.#abort.abort(new Error("shutdown timeout"));
    }, this.config.shutdownTimeoutMs);
    this.#hardStopTimer.unref();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#stop.signal.aborted) this.#stop.abort(new Error("closing"));
    await this.#scheduler?.stop();
    await this.outbound.stop(this.#abort.signal);
    await this.#maintenance?.stop();
    this.inbound.close();
    await this.#webhookServer?.close();
    await this.#admin?.close();
    await this.connections.closeAll();
    for (const call of this.#callPolicies.values()) await call.dispose();
    this.#callPolicies.clear();
    clearTimeout(this.#hardStopTimer);
    if (!this.#abort.signal.aborted) this.#abort.abort(new Error("closed"));
    await this.state.close();
  }
}

/** Connections the integration's `call` steps use. */
function calledConnections(integration: IntegrationConfig): string[] {
  return integration.transforms.flatMap((step) => {
    const connection = step.type === "call" ? (step.value as { connection?: unknown } | null)?.connection : undefined;
    return typeof connection === "string" ? [connection] : [];
  });
}
