// A throw-away PostgreSQL cluster for one test file, for tests that stop, kill or restart
// the server: the shared instance on port 5432 must never be touched, since other test
// files use it at the same time.
import { execFile, execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "./free-port.js";

const OS_USER = "postgres";
/** Bound on every pg_ctl wait (start, stop, restart), in seconds. */
const PG_CTL_WAIT_S = 60;
const COMMAND_TIMEOUT_MS = (PG_CTL_WAIT_S + 15) * 1000;

export interface PrivatePostgres {
  /** URL of the first database created (the `databases` option), user postgres, trust auth. */
  readonly url: string;
  readonly port: number;
  /** URL of another database of this cluster. */
  urlFor(database: string): string;
  /** `pg_ctl stop -m <mode>`: fast ends sessions cleanly, immediate is a crash. */
  stop(mode: "fast" | "immediate"): Promise<void>;
  start(): Promise<void>;
  /** `pg_ctl restart -m fast`. */
  restart(): Promise<void>;
  /** Stops the server (immediate) and removes every file; safe to call twice. */
  destroy(): Promise<void>;
}

interface Tools {
  bindir: string;
  uid: number;
  gid: number;
}

/** Why a private cluster cannot be made here, or undefined when it can. */
function unavailableReason(): string | undefined {
  if (process.platform !== "linux" || process.getuid?.() !== 0) return "a private PostgreSQL cluster needs Linux and root (to run initdb as the postgres user)";
  if (findBindir() === undefined) return "initdb was not found (install the postgresql server package: pg_config --bindir must hold initdb)";
  if (osUser() === undefined) return `the OS user ${OS_USER} does not exist (install the postgresql server package)`;
  return undefined;
}

/**
 * For `describe(name, { skip: privatePostgresSkipReason() }, …)`: false when a private
 * cluster can be started, a skip message on a developer's machine, a thrown error in CI.
 */
export function privatePostgresSkipReason(): string | false {
  const reason = unavailableReason();
  if (reason === undefined) return false;
  if (process.env.CI === "true") throw new Error(`${reason} (CI=true: the CI machine must be able to start a private PostgreSQL)`);
  return reason;
}

function findBindir(): string | undefined {
  const candidates: string[] = [];
  try {
    candidates.push(execFileSync("pg_config", ["--bindir"], { encoding: "utf8", timeout: 10_000, stdio: ["ignore", "pipe", "ignore"] }).trim());
  } catch {
    // pg_config is optional; the Debian layout below is tried next.
  }
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((name) => /^\d+$/.test(name));
    versions.sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((version) => join(root, version, "bin")));
  }
  return candidates.find((dir) => dir !== "" && existsSync(join(dir, "initdb")) && existsSync(join(dir, "pg_ctl")));
}

function osUser(): { uid: number; gid: number } | undefined {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((entry) => entry.startsWith(`${OS_USER}:`));
  if (line === undefined) return undefined;
  const fields = line.split(":");
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

/** Runs `command` as the postgres OS user, bounded in time; rejects with its output on failure. */
function runAsPostgres(command: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("runuser", ["-u", OS_USER, "--", command, ...args], { cwd, timeout: COMMAND_TIMEOUT_MS, killSignal: "SIGKILL", encoding: "utf8" }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(" ")} failed: ${error.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

/**
 * Creates, starts and returns a private cluster on a free port of 127.0.0.1, with the
 * given databases (default one, `junction`). Call `privatePostgresSkipReason()` first;
 * always `destroy()` it in `after`.
 */
export async function startPrivatePostgres(options: { databases?: string[] } = {}): Promise<PrivatePostgres> {
  const reason = unavailableReason();
  if (reason !== undefined) throw new Error(reason);
  const user = osUser() as { uid: number; gid: number };
  const tools: Tools = { bindir: findBindir() as string, ...user };
  const root = mkdtempSync(join(tmpdir(), "junction-pg-"));
  chownSync(root, tools.uid, tools.gid);
  const dataDir = join(root, "data");
  const logFile = join(root, "server.log");
  const pgCtl = join(tools.bindir, "pg_ctl");
  let port = 0;
  let destroyed = false;

  const serverOptions = () => `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  const pgCtlRun = (args: string[]) => runAsPostgres(pgCtl, [...args, "-D", dataDir, "-w", "-t", String(PG_CTL_WAIT_S)], root);
  const withLog = async (action: Promise<unknown>): Promise<void> => {
    try {
      await action;
    } catch (error) {
      const log = existsSync(logFile) ? readFileSync(logFile, "utf8").slice(-4000) : "(no server log)";
      throw new Error(`${error instanceof Error ? error.message : String(error)}\nserver log:\n${log}`, { cause: error });
    }
  };
  const start = () => withLog(pgCtlRun(["start", "-l", logFile, "-o", serverOptions()]));
  const stop = (mode: "fast" | "immediate") => withLog(pgCtlRun(["stop", "-m", mode]));

  // Last resort when the test process exits without destroy(): no server outlives its test file.
  const killOnExit = () => {
    try {
      execFileSync("runuser", ["-u", OS_USER, "--", pgCtl, "stop", "-D", dataDir, "-m", "immediate", "-w", "-t", "10"], { stdio: "ignore", timeout: 15_000 });
    } catch {
      // Already stopped, or never started.
    }
    rmSync(root, { recursive: true, force: true });
  };
  process.once("exit", killOnExit);

  const destroy = async () => {
    if (destroyed) return;
    destroyed = true;
    process.off("exit", killOnExit);
    try {
      if (existsSync(join(dataDir, "postmaster.pid"))) await stop("immediate");
    } catch {
      killPostmaster(dataDir);
    }
    rmSync(root, { recursive: true, force: true });
  };

  try {
    await withLog(runAsPostgres(join(tools.bindir, "initdb"), ["-D", dataDir, "-A", "trust", "-U", OS_USER, "--no-sync", "-E", "UTF8", "--locale=C"], root));
    // A port can be taken between freePort() and the server's bind: try a few.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await start();
        break;
      } catch (error) {
        if (attempt >= 3) throw error;
      }
    }
    const databases = options.databases ?? ["junction"];
    const urlFor = (database: string) => `postgres://${OS_USER}@127.0.0.1:${port}/${database}`;
    const admin = new pg.Client({ connectionString: urlFor("postgres") });
    await admin.connect();
    try {
      for (const database of databases) await admin.query(`CREATE DATABASE "${database}"`);
    } finally {
      await admin.end();
    }
    return {
      url: urlFor(databases[0] ?? "postgres"),
      port,
      urlFor,
      stop,
      start,
      restart: () => withLog(pgCtlRun(["restart", "-m", "fast", "-l", logFile, "-o", serverOptions()])),
      destroy,
    };
  } catch (error) {
    await destroy();
    throw error;
  }
}

/** When pg_ctl cannot stop the server, SIGKILL the postmaster named in its pid file. */
function killPostmaster(dataDir: string): void {
  try {
    const pid = Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
    if (Number.isInteger(pid) && pid > 0) process.kill(pid, "SIGKILL");
  } catch {
    // No pid file or no such process: nothing left running.
  }
}
