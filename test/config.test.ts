import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";

describe("loadConfig", () => {
  it("defaults to demo mode on port 4000 with Sandbox on outside production", () => {
    const config = loadConfig({});
    expect(config.port).toBe(4000);
    expect(config.akubela.target).toEqual({ mode: "simulator" });
    expect(config.sandbox).toBe(true);
    expect(config.introspection).toBe(true);
    expect(config.akubela.pageSize).toBe(100);
    expect(config.heapGrowingPercent).toBe(50);
    expect(config.cache.responseMemoEntries).toBe(1000);
    expect(config.cache.responseMemoMaxBytes).toBe(32 * 2 ** 20);
  });

  it("talks to the configured vendor and strips a trailing slash", () => {
    const config = loadConfig({ AKUBELA_BASE_URL: "https://api.example.test/", AKUBELA_PROJECT_IDS: "p1, p2" });
    expect(config.akubela.target).toEqual({ mode: "remote", baseUrl: "https://api.example.test" });
    expect(config.akubela.projectIds).toEqual(["p1", "p2"]);
  });

  it("names every bad or missing value at once", () => {
    let error: ConfigError | undefined;
    try {
      loadConfig({
        PORT: "eighty",
        AKUBELA_BASE_URL: "ftp://nope",
        ALIYUN_BASE_URL: "https://gw.example.test",
        AKUBELA_TIMEOUT_MS: "5",
        LOG_LEVEL: "loud",
        NODE_ENV: "production",
        SANDBOX: "maybe",
        HEAP_GROWING_PERCENT: "-5",
        RESPONSE_MEMO_ENTRIES: "lots",
      });
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = error!.problems.join("\n");
    for (const name of ["PORT", "AKUBELA_BASE_URL", "ALIYUN_APP_KEY", "AKUBELA_TIMEOUT_MS", "LOG_LEVEL", "SANDBOX", "HEAP_GROWING_PERCENT", "RESPONSE_MEMO_ENTRIES"]) {
      expect(text).toContain(name);
    }
    expect(error!.problems.length).toBeGreaterThanOrEqual(8);
  });

  it("never echoes a URL value, which can carry credentials", () => {
    try {
      loadConfig({ AKUBELA_BASE_URL: "notaurl://user:hunter2@x" });
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).not.toContain("hunter2");
    }
  });

  it("turns Sandbox and introspection off in production unless asked", () => {
    const base = { NODE_ENV: "production", AKUBELA_BASE_URL: "https://a.test", AKUBELA_PROJECT_IDS: "p", ALIYUN_BASE_URL: "https://g.test", ALIYUN_APP_KEY: "k", ALIYUN_APP_SECRET: "s", SITE_MAP: "/x" };
    const prod = loadConfig(base);
    expect(prod.sandbox).toBe(false);
    expect(prod.introspection).toBe(false);
    const asked = loadConfig({ ...base, SANDBOX: "true" });
    expect(asked.sandbox).toBe(true);
  });

  it("refuses to start in production on demo mode or demo credentials, or without a site map", () => {
    let error: ConfigError | undefined;
    try {
      loadConfig({ NODE_ENV: "production", ALIYUN_APP_KEY: "203000001", ALIYUN_APP_SECRET: "demo-aliyun-app-secret-not-for-production", AKUBELA_TOKEN: "demo-akubela-token" });
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error?.problems).toEqual(
      expect.arrayContaining([
        "AKUBELA_BASE_URL is required in production (demo mode runs the built-in simulator)",
        "ALIYUN_BASE_URL is required in production (demo mode runs the built-in simulator)",
        "ALIYUN_APP_KEY / ALIYUN_APP_SECRET are the demo credentials: refused in production",
        "AKUBELA_TOKEN is the demo token: refused in production",
      ]),
    );
    expect(() => loadConfig({ NODE_ENV: "production", AKUBELA_BASE_URL: "https://a.test", AKUBELA_PROJECT_IDS: "p", ALIYUN_BASE_URL: "https://g.test", ALIYUN_APP_KEY: "k", ALIYUN_APP_SECRET: "s" })).toThrow(/SITE_MAP is required in production/);
  });

  it("reads the webhook schedule and key, falls back to TOKEN_ENCRYPTION_KEY, and refuses bad values without echoing them", () => {
    const defaults = loadConfig({});
    expect(defaults.events.webhooks.scheduleMs).toEqual([0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000]);
    expect(defaults.events.webhooks.secretKey).toBeUndefined();
    expect(defaults.events.webhooks.allowHttpLoopback).toBe(false);
    const fallback = loadConfig({ TOKEN_ENCRYPTION_KEY: "b".repeat(64) });
    expect(fallback.events.webhooks.secretKey).toEqual(Buffer.from("b".repeat(64), "hex"));
    const own = loadConfig({ TOKEN_ENCRYPTION_KEY: "b".repeat(64), WEBHOOK_SECRET_KEY: "c".repeat(64), WEBHOOK_RETRY_SCHEDULE: "0, 250ms,2s" });
    expect(own.events.webhooks.secretKey).toEqual(Buffer.from("c".repeat(64), "hex"));
    expect(own.events.webhooks.scheduleMs).toEqual([0, 250, 2000]);
    let error: ConfigError | undefined;
    try {
      loadConfig({ WEBHOOK_SECRET_KEY: "not-a-key-sekrit", WEBHOOK_RETRY_SCHEDULE: "0,soon", WEBHOOK_ALLOW_HTTP_LOOPBACK: "true", NODE_ENV: "production" });
    } catch (e) {
      error = e as ConfigError;
    }
    const text = error!.problems.join("\n");
    for (const name of ["WEBHOOK_SECRET_KEY", "WEBHOOK_RETRY_SCHEDULE", "WEBHOOK_ALLOW_HTTP_LOOPBACK"]) expect(text).toContain(name);
    expect(text).not.toContain("sekrit");
  });

  it("shares the vendor budget only when asked and Redis is there to share it through", () => {
    const defaults = loadConfig({});
    expect(defaults.vendorBudget).toEqual({ maxInFlight: 32, maxPerSecond: 0, shared: false, leaseMs: 15_000 });
    const shared = loadConfig({ REDIS_URL: "redis://127.0.0.1:6379", VENDOR_BUDGET_SHARED: "true", VENDOR_MAX_PER_SECOND: "5", AKUBELA_TIMEOUT_MS: "20000" });
    expect(shared.vendorBudget).toEqual({ maxInFlight: 32, maxPerSecond: 5, shared: true, leaseMs: 25_000 }); // outlives one vendor attempt
    expect(() => loadConfig({ VENDOR_BUDGET_SHARED: "true" })).toThrow(/VENDOR_BUDGET_SHARED=true needs REDIS_URL/);
    expect(() => loadConfig({ REDIS_URL: "redis://127.0.0.1:6379", VENDOR_BUDGET_SHARED: "sometimes" })).toThrow(/VENDOR_BUDGET_SHARED must be true or false/);
  });
});
