import type { Logger } from "pino";
import type { IntegrationConfig } from "../config/model.js";
import { SlidingWindowAlert } from "../observability/alerts.js";
import type { HealthRegistry } from "../observability/health.js";

/**
 * Evaluates an integration's `monitoring.alerts` thresholds over a sliding window and
 * reports a crossing as health degradation and a log event (and its recovery likewise).
 */
export class IntegrationAlerts {
  readonly #alert: SlidingWindowAlert | undefined;
  readonly #component: string;
  #degraded = false;
  #lastEvaluation = 0;

  constructor(
    integration: IntegrationConfig,
    private readonly health: HealthRegistry,
    private readonly logger: Logger,
  ) {
    this.#component = `integration:${integration.name}`;
    const { errorRateThreshold, latencyThresholdMs, windowMs } = integration.monitoring.alerts;
    if (errorRateThreshold === undefined && latencyThresholdMs === undefined) return;
    this.#alert = new SlidingWindowAlert({
      windowMs,
      ...(errorRateThreshold !== undefined ? { errorRateThreshold } : {}),
      ...(latencyThresholdMs !== undefined ? { latencyThresholdMs } : {}),
    });
  }

  observe(seconds: number, size: number, failures: number): void {
    const alert = this.#alert;
    if (!alert) return;
    const now = Date.now();
    const latencyMs = seconds * 1000;
    if (size > failures) alert.record({ ok: true, latencyMs, count: size - failures }, now);
    if (failures > 0) alert.record({ ok: false, latencyMs, count: failures }, now);
    if (now - this.#lastEvaluation < 1000) return;
    this.#lastEvaluation = now;
    const verdict = alert.evaluate(now);
    if (verdict.degraded === this.#degraded) return;
    this.#degraded = verdict.degraded;
    this.health.setDegraded(this.#component, verdict.degraded ? verdict.detail ?? "alert threshold crossed" : undefined);
    if (verdict.degraded) this.logger.warn({ component: this.#component, alert: verdict.detail }, `alert: ${verdict.detail}`);
    else this.logger.info({ component: this.#component }, "alert cleared");
  }

  dispose(): void {
    if (this.#degraded) this.health.setDegraded(this.#component, undefined);
  }
}
