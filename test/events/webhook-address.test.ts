/**
 * Webhook URL safety (SSRF): non-public addresses are refused at registration (through the graph, on a real
 * redis-server) and again at delivery, where DNS may have changed since: the dispatcher, on a real local HTTP
 * server standing in for an internal service, fails the attempt without the server ever seeing a connection.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { MemoryEventLog } from "../../src/events/log.js";
import { MemoryWebhookStore, WebhookDispatcher, type WebhookAttempt, type WebhookDeliveryRecord, type WebhookEndpointRecord } from "../../src/events/webhooks.js";
import { createSealer } from "../../src/lib/sealed.js";
import { hostProblem, nonPublicAddress } from "../../src/lib/public-address.js";
import { silentLogger } from "../../src/logger.js";
import { startRedis, type RedisServer } from "../helpers/redis.js";
import { DEMO_PROJECT_ID, startStack, type Stack } from "../helpers/stack.js";

describe("nonPublicAddress", () => {
  it("names private, loopback, link-local, CGNAT, multicast and unspecified addresses, IPv4 and IPv6, mapped ones too", () => {
    const table: Record<string, string | null> = {
      "10.0.0.1": "private",
      "172.20.1.1": "private",
      "192.168.1.10": "private",
      "127.0.0.1": "loopback",
      "127.9.9.9": "loopback",
      "169.254.169.254": "link-local",
      "100.64.0.1": "CGNAT",
      "224.0.0.251": "multicast",
      "0.0.0.0": "unspecified",
      "::": "unspecified",
      "::1": "loopback",
      "fe80::1%eth0": "link-local",
      "fd12:3456::1": "private",
      "ff02::1": "multicast",
      "::ffff:127.0.0.1": "loopback",
      "::ffff:7f00:1": "loopback",
      "::ffff:a9fe:a9fe": "link-local",
      "[::ffff:10.0.0.1]": "private",
      "64:ff9b::a00:1": "private",
      "2002:c0a8:0101::1": "private",
      "8.8.8.8": null,
      "1.1.1.1": null,
      "2606:4700:4700::1111": null,
      "::ffff:8.8.8.8": null,
      "not an ip": "invalid",
    };
    expect(Object.fromEntries(Object.keys(table).map((ip) => [ip, nonPublicAddress(ip)]))).toEqual(table);
    expect(nonPublicAddress("127.0.0.1", true)).toBeNull();
    expect(nonPublicAddress("::ffff:10.0.0.1", true)).toBe("private");
  });

  it("a name is judged by every address dns.lookup gives: localhost is loopback", async () => {
    expect(await hostProblem(new URL("https://localhost/hooks"))).toMatch(/^url resolves to (127\.0\.0\.1|::1), a loopback address/);
    expect(await hostProblem(new URL("https://localhost/hooks"), true)).toBeNull();
    expect(await hostProblem(new URL("https://10.1.2.3/hooks"))).toMatch(/^url is 10\.1\.2\.3, a private address/);
  });
});

describe("registration", () => {
  let redis: RedisServer;
  let s: Stack;
  beforeAll(async () => {
    redis = await startRedis();
    s = await startStack({ env: { EVENTS_POLL: "false", WEBHOOK_ALLOW_HTTP_LOOPBACK: "true", WEBHOOK_SECRET_KEY: "b".repeat(64), REDIS_URL: redis.url } });
  }, 30_000);
  afterAll(async () => {
    await s?.close();
    await redis?.stop();
  });

  const REGISTER = `mutation($input: WebhookEndpointRegisterInput!) { webhookEndpointRegister(input: $input) { secret endpoint { id } userErrors { field message code } } }`;

  it("refuses https URLs whose host is or resolves to a non-public address, naming the field url; stores nothing", async () => {
    const cases: Record<string, RegExp> = {
      "https://10.0.0.1/x": /10\.0\.0\.1, a private address/,
      "https://[::ffff:127.0.0.1]/": /::ffff:7f00:1, a loopback address/,
      "https://169.254.169.254/": /169\.254\.169\.254, a link-local address/,
      "https://100.64.3.4/hooks": /CGNAT/,
      "https://[fe80::1]/hooks": /link-local/,
      "https://[ff02::1]/hooks": /multicast/,
      "https://0.0.0.0/hooks": /unspecified/,
    };
    for (const [url, message] of Object.entries(cases)) {
      const res = await s.gql(REGISTER, { input: { url, projectIds: [DEMO_PROJECT_ID] } });
      expect(res.errors, url).toBeUndefined();
      const payload = res.data.webhookEndpointRegister;
      expect(payload.endpoint, url).toBeNull();
      expect(payload.secret, url).toBeNull();
      expect(payload.userErrors, url).toHaveLength(1);
      expect(payload.userErrors[0], url).toMatchObject({ field: ["input", "url"], code: "INVALID" });
      expect(payload.userErrors[0].message, url).toMatch(message);
    }
    const list = await s.gql(`query { webhookEndpoints { id } }`);
    expect(list.data.webhookEndpoints).toEqual([]);
  });

  it("http on loopback stays allowed with WEBHOOK_ALLOW_HTTP_LOOPBACK, as spelled 127.0.0.1, [::1] or localhost", async () => {
    const res = await s.gql(REGISTER, { input: { url: "http://127.0.0.1:9/hooks", projectIds: [DEMO_PROJECT_ID] } });
    expect(res.data.webhookEndpointRegister.userErrors).toEqual([]);
    const mapped = await s.gql(REGISTER, { input: { url: "http://[::ffff:127.0.0.1]:9/hooks", projectIds: [DEMO_PROJECT_ID] } });
    expect(mapped.data.webhookEndpointRegister.userErrors[0]).toMatchObject({ field: ["input", "url"] });
  });
});

describe("delivery", () => {
  let server: Server;
  let port = 0;
  let connections = 0;
  let requests = 0;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      requests += 1;
      res.writeHead(200).end();
    });
    server.on("connection", () => (connections += 1));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  /** One dispatcher tick over an endpoint stored as-is (as if its DNS changed after registration). */
  async function deliverTo(url: string, allowHttpLoopback: boolean): Promise<WebhookAttempt> {
    const config = loadConfig({}).events.webhooks;
    const sealer = createSealer(Buffer.alloc(32, 3));
    const store = new MemoryWebhookStore();
    const now = new Date().toISOString();
    const endpoint: WebhookEndpointRecord = { id: "we_test", owner: "key:test", url, kinds: [], projectIds: [DEMO_PROJECT_ID], pictures: false, sealedSecret: sealer.seal(`whsec_${Buffer.alloc(32, 1).toString("base64")}`, "we_test"), createdAt: now, secretRotatedAt: now, failingSince: null, disabledAt: null };
    const delivery: WebhookDeliveryRecord = { id: "dl_test", endpointId: endpoint.id, eventId: "ev_test", eventKind: "DOOR_OPENED", projectId: DEMO_PROJECT_ID, cursor: "1-0", createdAt: now, state: "PENDING", attempts: [], nextAttemptAt: now, payload: "{}" };
    await store.putEndpoint(endpoint);
    await store.putDelivery(delivery);
    const attempts: WebhookAttempt[] = [];
    const dispatcher = new WebhookDispatcher({ store, log: new MemoryEventLog({ retentionMs: 60_000, maxEntries: 10 }), sealer, config: { ...config, allowHttpLoopback, tickMs: 20 }, logger: silentLogger, onAttempt: (_d, a) => attempts.push(a) });
    await dispatcher.start();
    const deadline = Date.now() + 10_000;
    while (attempts.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await dispatcher.stop();
    expect(attempts).toHaveLength(1);
    return attempts[0]!;
  }

  it("a delivery to a name now resolving to loopback, or to a mapped loopback literal, fails without connecting", async () => {
    for (const url of [`https://localhost:${port}/hooks`, `https://[::ffff:127.0.0.1]:${port}/hooks`, `http://127.0.0.1:${port}/hooks`]) {
      const attempt = await deliverTo(url, false);
      expect(attempt, url).toMatchObject({ status: null, error: "non-public address" });
    }
    expect(connections).toBe(0);
    expect(requests).toBe(0);
  });

  it("with WEBHOOK_ALLOW_HTTP_LOOPBACK the same loopback receiver is reached (the check, not the network, refused above)", async () => {
    const attempt = await deliverTo(`http://localhost:${port}/hooks`, true);
    expect(attempt).toMatchObject({ status: 200, error: null });
    expect(requests).toBe(1);
  });
});
