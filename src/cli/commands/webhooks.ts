import type { Command } from "commander";
import type { DeliveryAttempt, StateStore, WebhookDelivery, WebhookDeliveryFilter, WebhookDeliveryStatus, WebhookEndpointState } from "../../state/types.js";
import { CliError, EXIT_FAILURE } from "../cli-error.js";
import { formatTime, parseLimit, printJson, printTable } from "../output.js";
import { parseSince, SINCE_FORMS } from "../since-option.js";
import { withState, type StateOptions } from "../state-access.js";

const STATUSES = ["pending", "delivered", "failed", "all"] as const;

interface DeliveriesOptions extends StateOptions {
  outbound?: string;
  endpoint?: string;
  status?: string;
  since?: string;
  limit?: string;
  json?: boolean;
}

function stateOptions(command: Command): Command {
  return command
    .option("-c, --config <file>", "config file whose state store to use")
    .option("--state <url>", "state store URL instead of the config's (sqlite:path or postgres://…)");
}

/** `junction webhooks …`: the outbound deliveries, their attempt log, resending and recovering them, and re-enabling endpoints. */
export function registerWebhooks(program: Command): void {
  const webhooks = program.command("webhooks").description("inspect outbound webhook deliveries and their attempts; resend, recover, re-enable endpoints");

  stateOptions(webhooks.command("deliveries").description("list outbound webhook deliveries, newest first"))
    .option("--outbound <name>", "only this webhooks.outbound entry")
    .option("--endpoint <name>", "only this endpoint")
    .option("--status <status>", `${STATUSES.join(", ")}`, "all")
    .option("--since <when>", `only those created since: ${SINCE_FORMS}`)
    .option("--limit <n>", "how many", "50")
    .option("--json", "print as JSON")
    .action(async (options: DeliveriesOptions) => {
      const filter = deliveryFilter(options);
      await withState(options, async (state) => {
        const deliveries = await state.webhookDeliveries.list(filter);
        if (options.json) return printJson(deliveries);
        if (deliveries.length === 0) return void process.stdout.write("no webhook deliveries\n");
        const disabled = await disabledEndpoints(state, deliveries);
        printTable(
          ["ID", "OUTBOUND", "ENDPOINT", "EVENT", "STATUS", "ATTEMPTS", "CREATED", "NEXT ATTEMPT", "LAST RESULT"],
          deliveries.map((d) => [
            d.id,
            d.outbound,
            d.endpoint,
            d.eventType,
            d.status === "pending" && disabled.has(endpointKey(d)) ? "pending (endpoint disabled)" : d.status,
            String(d.attempts),
            formatTime(d.createdAt),
            d.status === "pending" ? formatTime(d.nextAttemptAt) : "-",
            lastResult(d),
          ]),
        );
      });
    });

  stateOptions(webhooks.command("attempts").description("the attempt log of one delivery: time, HTTP status, latency, response or error"))
    .argument("<delivery-id>", "delivery id (see `junction webhooks deliveries`)")
    .option("--json", "print the attempts as JSON")
    .action(async (id: string, options: StateOptions & { json?: boolean }) => {
      await withState(options, async (state) => {
        const delivery = await requireDelivery(state, id);
        const attempts = await state.webhookDeliveries.attempts(id);
        if (options.json) return printJson(attempts);
        process.stdout.write(`${describeDelivery(delivery)}\n`);
        if (attempts.length === 0) return void process.stdout.write("no attempts yet\n");
        printTable(
          ["ATTEMPT", "STARTED", "STATUS", "LATENCY", "RESPONSE / ERROR"],
          attempts.map((a) => [String(a.attempt), formatTime(a.startedAt), a.status === undefined ? "-" : String(a.status), `${Math.round(a.latencyMs)}ms`, attemptDetail(a)]),
        );
      });
    });

  stateOptions(webhooks.command("resend").description("make one delivery pending and due now again, whatever its status (same webhook-id, so receivers can deduplicate)"))
    .argument("<delivery-id>", "delivery id (see `junction webhooks deliveries`)")
    .action(async (id: string, options: StateOptions) => {
      await withState(options, async (state) => {
        const delivery = await requireDelivery(state, id);
        await state.webhookDeliveries.resend(id);
        process.stdout.write(`delivery ${id} (${delivery.outbound}/${delivery.endpoint}, was ${delivery.status}) is pending and due now\n`);
        const endpoint = await state.webhookDeliveries.getEndpoint(delivery.outbound, delivery.endpoint);
        if (endpoint?.disabled) {
          process.stdout.write(
            `endpoint ${delivery.outbound}/${delivery.endpoint} is ${disabledDetail(endpoint)}; it is not sent until you run \`junction webhooks enable ${delivery.outbound} ${delivery.endpoint}\`\n`,
          );
        }
      });
    });

  stateOptions(
    webhooks
      .command("recover")
      .description("make an endpoint's failed deliveries created since a time pending and due now (e.g. after the receiver was down)"),
  )
    .argument("<outbound>", "webhooks.outbound entry")
    .argument("<endpoint>", "endpoint name")
    .requiredOption("--since <when>", `failed deliveries created since: ${SINCE_FORMS}`)
    .option("--enable", "also re-enable the endpoint if it was disabled (by a 410 Gone or after failing too long)")
    .action(async (outbound: string, endpointName: string, options: StateOptions & { since: string; enable?: boolean }) => {
      const since = parseSince(options.since);
      await withState(options, async (state) => {
        const endpoint = await state.webhookDeliveries.getEndpoint(outbound, endpointName);
        const recovered = await state.webhookDeliveries.recover(outbound, endpointName, since);
        if (recovered === 0 && endpoint === undefined && (await state.webhookDeliveries.list({ outbound, endpoint: endpointName, limit: 1 })).length === 0) {
          throw unknownEndpoint(outbound, endpointName);
        }
        const which = `of ${outbound}/${endpointName} created since ${formatTime(since)}`;
        if (recovered === 0) process.stdout.write(`no failed deliveries ${which}\n`);
        else process.stdout.write(`${recovered} failed ${recovered === 1 ? "delivery" : "deliveries"} ${which} ${recovered === 1 ? "is" : "are"} pending again\n`);
        if (!endpoint?.disabled) return;
        if (options.enable) {
          await enable(state, endpoint);
          return;
        }
        process.stdout.write(
          `endpoint ${outbound}/${endpointName} is ${disabledDetail(endpoint)}: nothing is sent to it until it is enabled; run again with --enable, or \`junction webhooks enable ${outbound} ${endpointName}\`\n`,
        );
      });
    });

  stateOptions(webhooks.command("enable").description("re-enable an endpoint that was disabled (by a 410 Gone or after failing too long); its pending deliveries go out again"))
    .argument("<outbound>", "webhooks.outbound entry")
    .argument("<endpoint>", "endpoint name")
    .action(async (outbound: string, endpointName: string, options: StateOptions) => {
      await withState(options, async (state) => {
        const endpoint = await state.webhookDeliveries.getEndpoint(outbound, endpointName);
        if (endpoint?.disabled) return enable(state, endpoint);
        if (endpoint === undefined && (await state.webhookDeliveries.list({ outbound, endpoint: endpointName, limit: 1 })).length === 0) {
          throw unknownEndpoint(outbound, endpointName);
        }
        process.stdout.write(`endpoint ${outbound}/${endpointName} is not disabled; nothing to do\n`);
      });
    });
}

function deliveryFilter(options: DeliveriesOptions): WebhookDeliveryFilter {
  const status = options.status ?? "all";
  if (!(STATUSES as readonly string[]).includes(status)) throw new CliError(`--status must be ${STATUSES.join(", ")}; got "${status}"`);
  return {
    limit: parseLimit(options.limit, 50),
    ...(options.outbound ? { outbound: options.outbound } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(status !== "all" ? { status: status as WebhookDeliveryStatus } : {}),
    ...(options.since !== undefined ? { since: parseSince(options.since) } : {}),
  };
}

async function requireDelivery(state: StateStore, id: string): Promise<WebhookDelivery> {
  const delivery = await state.webhookDeliveries.get(id);
  if (!delivery) throw new CliError(`no webhook delivery with id "${id}"; list them with \`junction webhooks deliveries\``, EXIT_FAILURE);
  return delivery;
}

function unknownEndpoint(outbound: string, endpoint: string): CliError {
  return new CliError(
    `no deliveries recorded for endpoint "${endpoint}" of outbound "${outbound}"; check the names with \`junction webhooks deliveries\``,
    EXIT_FAILURE,
  );
}

/** Enabling clears the failure run too: the next failure starts a new one instead of disabling the endpoint again at once. */
async function enable(state: StateStore, endpoint: WebhookEndpointState): Promise<void> {
  await state.webhookDeliveries.setEndpoint({ outbound: endpoint.outbound, endpoint: endpoint.endpoint, disabled: false });
  process.stdout.write(`endpoint ${endpoint.outbound}/${endpoint.endpoint} enabled; it was ${disabledDetail(endpoint)}\n`);
}

/** "disabled since <time> (<reason>)", with the parts that are known. */
function disabledDetail(endpoint: WebhookEndpointState): string {
  const since = endpoint.disabledAt ? ` since ${formatTime(endpoint.disabledAt)}` : "";
  const reason = endpoint.disabledReason ? ` (${endpoint.disabledReason})` : "";
  return `disabled${since}${reason}`;
}

function endpointKey(delivery: { outbound: string; endpoint: string }): string {
  return JSON.stringify([delivery.outbound, delivery.endpoint]);
}

async function disabledEndpoints(state: StateStore, deliveries: WebhookDelivery[]): Promise<Set<string>> {
  const disabled = new Set<string>();
  const pending = new Map(deliveries.filter((d) => d.status === "pending").map((d) => [endpointKey(d), d]));
  for (const [key, delivery] of pending) {
    if ((await state.webhookDeliveries.getEndpoint(delivery.outbound, delivery.endpoint))?.disabled) disabled.add(key);
  }
  return disabled;
}

function lastResult(delivery: WebhookDelivery): string {
  if (delivery.attempts === 0) return "-";
  const status = delivery.lastStatus === undefined ? "" : `HTTP ${delivery.lastStatus}`;
  const error = delivery.lastError === undefined ? "" : oneLine(delivery.lastError, 60);
  return [status, error].filter(Boolean).join(" ") || "-";
}

function attemptDetail(attempt: DeliveryAttempt): string {
  if (attempt.error !== undefined) return oneLine(attempt.error, 100);
  if (attempt.responseBody !== undefined && attempt.responseBody !== "") return oneLine(attempt.responseBody, 100);
  return "-";
}

function describeDelivery(delivery: WebhookDelivery): string {
  const next = delivery.status === "pending" ? `, next attempt ${formatTime(delivery.nextAttemptAt)}` : "";
  const delivered = delivery.deliveredAt ? `, delivered ${formatTime(delivery.deliveredAt)}` : "";
  return `delivery ${delivery.id}  ${delivery.outbound}/${delivery.endpoint}  ${delivery.eventType}  webhook-id ${delivery.eventId}  ${delivery.status}${next}${delivered}`;
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
