/**
 * Names one database of one PostgreSQL cluster whatever address it was reached by
 * (socket, 127.0.0.1, a host name): the cluster's system identifier and the database name.
 * The state store and the postgres target compare it to know they share a database.
 */
export const POSTGRES_DATABASE_IDENTITY_SQL =
  "SELECT 'postgres:' || (SELECT system_identifier FROM pg_control_system())::text || '/' || current_database() AS identity";
