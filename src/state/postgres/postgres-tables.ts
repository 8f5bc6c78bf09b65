/** Table names as they appear in SQL: qualified with the schema when one is configured. */
export interface PostgresTables {
  migrations: string;
  checkpoints: string;
  deadLetters: string;
  idempotencyKeys: string;
  runs: string;
  leases: string;
  decisions: string;
  webhookInbox: string;
  webhookDeliveries: string;
  webhookDeliveryAttempts: string;
  webhookEndpoints: string;
}

export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function postgresTables(schema: string | undefined): PostgresTables {
  const table = (name: string): string => (schema === undefined ? name : `${quoteIdentifier(schema)}.${name}`);
  return {
    migrations: table("junction_migrations"),
    checkpoints: table("junction_checkpoints"),
    deadLetters: table("junction_dead_letters"),
    idempotencyKeys: table("junction_idempotency_keys"),
    runs: table("junction_runs"),
    leases: table("junction_leases"),
    decisions: table("junction_decisions"),
    webhookInbox: table("junction_webhook_inbox"),
    webhookDeliveries: table("junction_webhook_deliveries"),
    webhookDeliveryAttempts: table("junction_webhook_delivery_attempts"),
    webhookEndpoints: table("junction_webhook_endpoints"),
  };
}
