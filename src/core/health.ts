export type HealthStatus = "healthy" | "degraded" | "unhealthy";

export interface HealthResult {
  status: HealthStatus;
  latencyMs: number;
  detail?: string;
}
