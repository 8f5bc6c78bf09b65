// A throw-away Mosquitto broker for one test file, for tests whose needs differ from the
// shared broker on port 1883 (its default max_queued_messages of 1000 drops what an offline
// session receives beyond that) or that stop the broker: the shared one must never be touched.
import { execFileSync, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.js";

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;

export interface PrivateMosquitto {
  readonly url: string;
  readonly port: number;
  /** Stops the broker and removes its files; safe to call twice. */
  destroy(): Promise<void>;
}

function findMosquitto(): string | undefined {
  for (const candidate of ["/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "/opt/homebrew/sbin/mosquitto"]) if (existsSync(candidate)) return candidate;
  try {
    return execFileSync("which", ["mosquitto"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** For `describe(name, { skip: privateMosquittoSkipReason() }, …)`: false when a private broker can be started, a skip message elsewhere, a thrown error in CI. */
export function privateMosquittoSkipReason(): string | false {
  if (findMosquitto() !== undefined) return false;
  const reason = "the mosquitto binary was not found (install the mosquitto package)";
  if (process.env.CI === "true") throw new Error(`${reason} (CI=true: the CI machine must be able to start a private Mosquitto)`);
  return reason;
}

/**
 * Starts a broker on a free port of 127.0.0.1 with its own config and persistence files in a
 * temporary directory; `settings` are extra mosquitto.conf lines (e.g. `max_queued_messages 0`).
 * Always `destroy()` it in `after`.
 */
export async function startPrivateMosquitto(settings: string[] = []): Promise<PrivateMosquitto> {
  const binary = findMosquitto();
  if (binary === undefined) throw new Error("the mosquitto binary was not found");
  const dir = mkdtempSync(join(tmpdir(), "junction-mosquitto-"));
  const logFile = join(dir, "mosquitto.log");
  let child: ChildProcess | undefined;
  const killOnExit = (): void => {
    child?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", killOnExit);

  const destroy = async (): Promise<void> => {
    process.off("exit", killOnExit);
    const running = child;
    child = undefined;
    if (running !== undefined && running.exitCode === null && running.signalCode === null) {
      const exited = once(running, "exit");
      running.kill("SIGTERM");
      const timer = setTimeout(() => running.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    // A port can be taken between freePort() and the broker's bind: try a few.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const config = [
        `listener ${port} 127.0.0.1`,
        "allow_anonymous true",
        "persistence true",
        `persistence_location ${dir}/`,
        `log_dest file ${logFile}`,
        // Run as root (CI containers), mosquitto would switch to its own user, which cannot write here.
        ...(process.getuid?.() === 0 ? ["user root"] : []),
        ...settings,
      ];
      const configFile = join(dir, "mosquitto.conf");
      writeFileSync(configFile, `${config.join("\n")}\n`);
      const started = spawn(binary, ["-c", configFile], { stdio: "ignore" });
      child = started;
      if (await listening(port, started)) return { url: `mqtt://127.0.0.1:${port}`, port, destroy };
      await destroyChild(started);
      if (attempt >= 3) {
        const log = existsSync(logFile) ? readFileSync(logFile, "utf8").slice(-2000) : "(no log)";
        throw new Error(`mosquitto did not start on port ${port}:\n${log}`);
      }
    }
  } catch (error) {
    await destroy();
    throw error;
  }
}

/** True once the broker accepts TCP connections; false when it exited or did not within the start timeout. */
async function listening(port: number, child: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    if (await accepts(port)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function destroyChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGKILL");
  await exited;
}
