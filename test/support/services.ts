import { connect } from "node:net";
import type { TestContext } from "node:test";

/**
 * Tests against real services: when a service is not reachable, CI (`CI=true`) fails
 * loudly, because a skipped suite there would hide a broken setup; on a developer's
 * machine the tests are skipped with the command that starts the service.
 */
export type ServiceName = "postgres" | "mariadb" | "redis" | "rabbitmq" | "mqtt" | "nats";

export interface ServiceInfo {
  label: string;
  host: string;
  port: number;
  start: string;
}

const SERVICES: Record<ServiceName, Omit<ServiceInfo, "host">> = {
  postgres: { label: "PostgreSQL", port: 5432, start: "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start" },
  mariadb: { label: "MariaDB", port: 3306, start: "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd" },
  redis: {
    label: "Redis",
    port: 6379,
    start: 'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log',
  },
  rabbitmq: { label: "RabbitMQ", port: 5672, start: "rabbitmq-server -detached" },
  mqtt: { label: "Mosquitto (MQTT)", port: 1883, start: "mosquitto -d -c /etc/mosquitto/mosquitto.conf" },
  nats: {
    label: "NATS",
    port: 4222,
    start:
      "start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log",
  },
};

const DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/test";

/** The PostgreSQL URL tests use: `JUNCTION_TEST_POSTGRES_URL`, or the local `test` database. */
export function postgresTestUrl(): string {
  const fromEnv = process.env.JUNCTION_TEST_POSTGRES_URL;
  return fromEnv !== undefined && fromEnv !== "" ? fromEnv : DEFAULT_POSTGRES_URL;
}

/** Where a service is expected; PostgreSQL follows `JUNCTION_TEST_POSTGRES_URL` when it is set. */
export function serviceInfo(name: ServiceName): ServiceInfo {
  const service = SERVICES[name];
  if (name === "postgres") {
    const url = new URL(postgresTestUrl());
    return { ...service, host: url.hostname || "127.0.0.1", port: url.port === "" ? service.port : Number(url.port) };
  }
  return { ...service, host: "127.0.0.1" };
}

/** True when a TCP connection to the service's port opens within `timeoutMs`. */
export function isServiceReachable(name: ServiceName, timeoutMs = 1000): Promise<boolean> {
  const { host, port } = serviceInfo(name);
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const finish = (reachable: boolean): void => {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.destroy();
      resolve(reachable);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.once("connect", () => finish(true));
    socket.once("error", () => finish(false));
  });
}

function unreachableMessage(name: ServiceName): string {
  const { label, host, port, start } = serviceInfo(name);
  return `${label} is not reachable at ${host}:${port}; start it with: ${start}`;
}

/**
 * For `describe(name, { skip: await serviceSkipReason("postgres") }, …)`: false when the
 * service is reachable, a skip message on a developer's machine, and a thrown error in CI.
 */
export async function serviceSkipReason(name: ServiceName): Promise<string | false> {
  if (await isServiceReachable(name)) return false;
  const message = unreachableMessage(name);
  if (process.env.CI === "true") throw new Error(`${message} (CI=true: the CI script must start every service the tests need)`);
  return message;
}

/**
 * Inside a test: resolves true when the service is reachable. Otherwise fails in CI, and
 * elsewhere marks the test skipped (when `t` is given) and resolves false, so the test
 * can `return` early.
 */
export async function requireService(name: ServiceName, t?: TestContext): Promise<boolean> {
  const skip = await serviceSkipReason(name);
  if (skip === false) return true;
  t?.skip(skip);
  return false;
}
