/**
 * Issue 12, items 6 and 7: a caller's own Bearer token is served from the cache, or by fields that make no vendor
 * call, only while the vendor accepted it within BEARER_VERIFY_SECONDS; otherwise one vendor call proves it first.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { DEMO_OAUTH_CLIENT_ID, DEMO_OAUTH_CLIENT_SECRET } from "../../src/simulators/akubela/constants.js";
import { DEMO_AKUBELA_TOKEN, DEMO_PROJECT_ID, useStack } from "../helpers/stack.js";

const PROJECTS = `{ projects { projectId } }`;
const DEVICES = `query($p: ID!, $r: ID!) { residence(projectId: $p, residenceId: $r) { devices { mac name } } }`;
const WINDOW_S = 1;

describe("Bearer tokens proven by the vendor before anything is answered (BEARER_VERIFY_SECONDS=1)", () => {
  const stack = useStack({ env: { BEARER_VERIFY_SECONDS: String(WINDOW_S), CACHE_DEVICE_LIST_TTL_SECONDS: "300" } });

  const residence = () => [...stack.sim.state.projects.get(DEMO_PROJECT_ID)!.accounts.values()][0].residence_id;
  const withToken = (token: string) => stack.sim.received().filter((c) => c.authorization === `Bearer ${token}`).map((c) => c.command);
  async function issueToken(): Promise<string> {
    const res = await fetch(new URL("/api/v1.0/invoke/open-ability/method/oauth2/token", stack.sim.url), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "client_credentials", client_id: DEMO_OAUTH_CLIENT_ID, client_secret: DEMO_OAUTH_CLIENT_SECRET, scope: "manager" }),
    });
    const body = (await res.json()) as { access_token?: string; result?: { access_token?: string } };
    const token = body.access_token ?? body.result?.access_token;
    expect(token).toBeTruthy();
    return token!;
  }

  it("a made-up token on a field that makes no vendor call: 401 UNAUTHENTICATED, no data, after one proof the vendor refused", async () => {
    const token = `made-up-${Date.now()}`;
    const res = await stack.gql(PROJECTS, {}, token);
    expect(res.status).toBe(401);
    expect(res.data ?? null).toBeNull();
    expect(res.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(withToken(token)).toEqual(["get_user_list"]);
  });

  it("a good token: proven once, then answered (and from the cache) within the window without another proof", async () => {
    const first = await stack.gql(PROJECTS, {}, DEMO_AKUBELA_TOKEN);
    expect(first.errors).toBeUndefined();
    expect(first.data.projects.length).toBeGreaterThan(0);
    const r = residence();
    expect((await stack.gql(DEVICES, { p: DEMO_PROJECT_ID, r }, DEMO_AKUBELA_TOKEN)).errors).toBeUndefined();
    stack.sim.clearReceived();
    const again = await stack.gql(DEVICES, { p: DEMO_PROJECT_ID, r }, DEMO_AKUBELA_TOKEN);
    expect(again.errors).toBeUndefined();
    expect(again.data.residence.devices.length).toBeGreaterThan(0);
    // Within the window: the cached device list, and the membership proof the data layer keeps, no token proof.
    expect(withToken(DEMO_AKUBELA_TOKEN)).not.toContain("get_akuvox_device_list");
  });

  it("a revoked token stops reading cached lists once the window has passed: the proof is refused, nothing answered", async () => {
    const token = await issueToken();
    const r = residence();
    const warm = await stack.gql(DEVICES, { p: DEMO_PROJECT_ID, r }, token);
    expect(warm.errors).toBeUndefined();
    expect(warm.data.residence.devices.length).toBeGreaterThan(0);
    stack.sim.oauth.revokeAll();
    await sleep(WINDOW_S * 1000 + 200);
    stack.sim.clearReceived();
    const after = await stack.gql(DEVICES, { p: DEMO_PROJECT_ID, r }, token);
    expect(after.status).toBe(401);
    expect(after.data ?? null).toBeNull();
    expect(after.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    // One proof, refused; the cached device list was not answered and no other command was sent.
    expect(withToken(token)).toEqual(["get_user_list"]);
  });
});
