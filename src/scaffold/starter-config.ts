/** The commented junction.yaml that `junction init` writes: it runs as is, with no external service. */
export function starterConfig(name: string): string {
  return `# yaml-language-server: $schema=./junction.schema.json
# Junction configuration. Reference: docs/configuration.md
# Validate with \`junction validate\`, run with \`junction run\` (or \`junction run --once\`).
version: 1
name: ${name}

# Where checkpoints, dead letters, run history and leases live.
# The default is an embedded SQLite file; use postgres://… to share work between instances.
state: sqlite:.junction/state.db

# Admin server: /health, /ready, /metrics (Prometheus), /api/runs, /api/dead-letters.
admin:
  listen: 127.0.0.1:9464

# How long SIGINT/SIGTERM waits for in-flight work to drain.
shutdown_timeout: 30s

connections:
  # Synthetic data, handy to try things out. Replace with your source.
  demo:
    type: generate
  # An embedded SQLite database as the target. Secrets come from the environment:
  # e.g. \`password: \${DB_PASSWORD}\` is redacted from logs and \`junction config print\`.
  local_db:
    type: sqlite
    path: ./data/target.db

integrations:
  demo_to_sqlite:
    description: Copy generated items into SQLite, upserting by id.
    source:
      connection: demo
      count: 100
    transform:
      # JSONata: reshape each payload.
      - map: '{ "id": id, "name": $uppercase(name), "value": value, "created_at": created_at }'
      # Drop what you do not want; the message is counted as filtered.
      - filter: 'value >= 0'
    target:
      connection: local_db
      table: items
      mode: upsert
      key: id
      create_table: true
    sync:
      trigger: once          # once | continuous | schedule
      # schedule: "*/5 * * * *"
      batch_size: 500
      concurrency: 2
    resilience:
      retry: { attempts: 5, backoff: exponential, base_delay: 200ms, max_delay: 30s, jitter: full }
    # Messages that fail permanently (or run out of retries) go to the dead-letter store:
    # \`junction dlq list\`, then \`junction dlq replay <id>\` once the cause is fixed.
    on_error: dead_letter
`;
}
