import type { ConfigComponents } from "../config/loader.js";
import { connectorSpecs } from "../connectors/registry.js";
import { transformSpecs } from "../transform/registry.js";
import { inboundWebhookIssues } from "../webhooks/inbound/config-issues.js";
import { outboundWebhookIssues, outboundWebhookTargetIssues } from "../webhooks/outbound/config-issues.js";

/** Every connector and transform built into Junction, and the webhook runtimes' config checks: what config validation, JSON Schema and docs are made from. */
export const builtinComponents: ConfigComponents = {
  connectors: connectorSpecs,
  transforms: transformSpecs,
  webhooks: { inbound: inboundWebhookIssues, outbound: outboundWebhookIssues, outboundTarget: outboundWebhookTargetIssues },
};
