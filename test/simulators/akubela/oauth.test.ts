import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  COMMAND_PATH_PREFIX,
  DEMO_AKUBELA_TOKEN,
  DEMO_MANAGER_PASSWORD,
  DEMO_MANAGER_USERNAME,
  DEMO_OAUTH_CLIENT_ID,
  DEMO_OAUTH_CLIENT_SECRET,
  DEMO_PROJECT_ID,
  startAkubelaSimulator,
  TOKEN_PATH,
  type AkubelaSimulator,
} from "../../../src/simulators/akubela/index.js";

interface Envelope {
  success: boolean;
  timestamp: number;
  code?: string;
  message?: string;
  result: {
    access_token: string;
    refresh_token?: string;
    token_type: string;
    expires_in: number;
  } | null;
}

let sim: AkubelaSimulator;
let clock = Date.now();
beforeAll(async () => {
  sim = await startAkubelaSimulator({ quiet: true, now: () => new Date(clock) });
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.reset();
  clock = Date.now();
});

const client = { client_id: DEMO_OAUTH_CLIENT_ID, client_secret: DEMO_OAUTH_CLIENT_SECRET };
const passwordGrant = {
  grant_type: "password",
  ...client,
  scope: "manager",
  username: DEMO_MANAGER_USERNAME,
  password: DEMO_MANAGER_PASSWORD,
};

async function token(fields: Record<string, string>, contentType = "application/x-www-form-urlencoded") {
  const res = await fetch(sim.url + TOKEN_PATH, {
    method: "POST",
    headers: { "content-type": contentType },
    body: new URLSearchParams(fields).toString(),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: JSON.parse(text) as Envelope };
}

/** A harmless manager command with this bearer token. */
async function command(bearer: string) {
  const res = await fetch(`${sim.url}${COMMAND_PATH_PREFIX}manager-commands`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${bearer}` },
    body: JSON.stringify({ command: "get_user_list", id: "t1", param: { project_id: DEMO_PROJECT_ID, page_index: 1, page_size: 10 } }),
  });
  return { status: res.status, body: (await res.json()) as { success: boolean; code?: string; message?: string } };
}

describe("grants", () => {
  it("password: issues an opaque bearer token and a refresh token, with the default lifetime", async () => {
    const { status, body, headers } = await token(passwordGrant);
    expect(status).toBe(200);
    expect(headers.get("cache-control")).toBe("no-store");
    expect(body.success).toBe(true);
    expect(typeof body.timestamp).toBe("number");
    expect(body.result).toEqual({
      access_token: expect.stringMatching(/^[A-Za-z0-9_-]{20,}$/),
      refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{20,}$/),
      token_type: "bearer",
      expires_in: 3600,
    });
    expect(body.result!.access_token).not.toBe(body.result!.refresh_token);
    expect(sim.oauth.issued()).toBe(1);
    expect(sim.oauth.refreshed()).toBe(0);
  });

  it("password: scope user works and a smaller expires_in is honoured, a larger one is clamped", async () => {
    expect((await token({ ...passwordGrant, scope: "user", expires_in: "60" })).body.result!.expires_in).toBe(60);
    expect((await token({ ...passwordGrant, expires_in: "999999" })).body.result!.expires_in).toBe(3600);
  });

  it("every issued token is different", async () => {
    const a = (await token(passwordGrant)).body.result!;
    const b = (await token(passwordGrant)).body.result!;
    expect(new Set([a.access_token, a.refresh_token, b.access_token, b.refresh_token]).size).toBe(4);
  });

  it("refresh_token: issues a new pair and rotates (the old refresh token is refused afterwards)", async () => {
    const first = (await token(passwordGrant)).body.result!;
    const refreshed = await token({ grant_type: "refresh_token", ...client, refresh_token: first.refresh_token! });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.result).toMatchObject({ token_type: "bearer", expires_in: 3600 });
    expect(refreshed.body.result!.access_token).not.toBe(first.access_token);
    expect(refreshed.body.result!.refresh_token).toBeTruthy();
    expect(refreshed.body.result!.refresh_token).not.toBe(first.refresh_token);

    const again = await token({ grant_type: "refresh_token", ...client, refresh_token: first.refresh_token! });
    expect(again.status).toBe(400);
    expect(again.body).toMatchObject({ success: false, code: "invalid_grant", result: null });

    const next = await token({ grant_type: "refresh_token", ...client, refresh_token: refreshed.body.result!.refresh_token! });
    expect(next.status).toBe(200);
    expect(sim.oauth.issued()).toBe(3);
    expect(sim.oauth.refreshed()).toBe(2);
    // both access tokens still work until they expire: rotation concerns refresh tokens only
    expect((await command(first.access_token)).status).toBe(200);
    expect((await command(next.body.result!.access_token)).status).toBe(200);
  });

  it("refresh_token: a refresh token of another client is refused", async () => {
    await sim.close();
    sim = await startAkubelaSimulator({
      quiet: true,
      now: () => new Date(clock),
      oauthClients: [
        { clientId: "a", clientSecret: "sa" },
        { clientId: "b", clientSecret: "sb" },
      ],
    });
    const first = (await token({ ...passwordGrant, client_id: "a", client_secret: "sa" })).body.result!;
    const stolen = await token({ grant_type: "refresh_token", client_id: "b", client_secret: "sb", refresh_token: first.refresh_token! });
    expect(stolen.status).toBe(400);
    expect(stolen.body.code).toBe("invalid_grant");
    await sim.close();
    sim = await startAkubelaSimulator({ quiet: true, now: () => new Date(clock) });
  });

  it("client_credentials: an access token without a refresh token", async () => {
    const { status, body } = await token({ grant_type: "client_credentials", ...client });
    expect(status).toBe(200);
    expect(body.result).toEqual({ access_token: expect.any(String), token_type: "bearer", expires_in: 3600 });
    expect("refresh_token" in body.result!).toBe(false);
    expect((await command(body.result!.access_token)).status).toBe(200);
  });

  it("configured clients, users and lifetime replace the demo ones", async () => {
    const custom = await startAkubelaSimulator({
      quiet: true,
      oauthClients: [{ clientId: "cid", clientSecret: "csecret" }],
      oauthUsers: [{ username: "pm@x.example", password: "pw" }],
      tokenTtlSeconds: 120,
    });
    try {
      const post = (fields: Record<string, string>) =>
        fetch(custom.url + TOKEN_PATH, { method: "POST", body: new URLSearchParams(fields) }).then(async (r) => ({ status: r.status, body: (await r.json()) as Envelope }));
      const ok = await post({ grant_type: "password", client_id: "cid", client_secret: "csecret", scope: "manager", username: "pm@x.example", password: "pw" });
      expect(ok.status).toBe(200);
      expect(ok.body.result!.expires_in).toBe(120);
      expect((await post(passwordGrant)).body.code).toBe("invalid_client");
      expect((await post({ ...passwordGrant, client_id: "cid", client_secret: "csecret" })).body.code).toBe("invalid_grant");
      expect(custom.oauth.issued()).toBe(1);
    } finally {
      await custom.close();
    }
  });
});

describe("errors", () => {
  const cases: [string, Record<string, string>, number, string][] = [
    ["missing grant_type", { ...client, username: DEMO_MANAGER_USERNAME }, 400, "invalid_request"],
    ["unknown grant_type", { ...passwordGrant, grant_type: "implicit" }, 400, "unsupported_grant_type"],
    ["missing client_secret", { grant_type: "password", client_id: DEMO_OAUTH_CLIENT_ID, username: DEMO_MANAGER_USERNAME, password: DEMO_MANAGER_PASSWORD }, 401, "invalid_client"],
    ["unknown client", { ...passwordGrant, client_id: "nobody" }, 401, "invalid_client"],
    ["wrong client secret", { ...passwordGrant, client_secret: "wrong" }, 401, "invalid_client"],
    ["wrong client secret on client_credentials", { grant_type: "client_credentials", ...client, client_secret: "wrong" }, 401, "invalid_client"],
    ["unknown user", { ...passwordGrant, username: "someone@else.example" }, 400, "invalid_grant"],
    ["wrong password", { ...passwordGrant, password: "wrong" }, 400, "invalid_grant"],
    ["missing password", { grant_type: "password", ...client, username: DEMO_MANAGER_USERNAME }, 400, "invalid_request"],
    ["unknown scope", { ...passwordGrant, scope: "admin" }, 400, "invalid_scope"],
    ["bad expires_in", { ...passwordGrant, expires_in: "-5" }, 400, "invalid_request"],
    ["unknown refresh token", { grant_type: "refresh_token", ...client, refresh_token: "nope" }, 400, "invalid_grant"],
    ["missing refresh token", { grant_type: "refresh_token", ...client }, 400, "invalid_request"],
  ];
  it.each(cases)("%s → HTTP %i %s", async (_name, fields, status, code) => {
    const answer = await token(fields);
    expect(answer.status).toBe(status);
    expect(answer.body).toEqual({ success: false, timestamp: expect.any(Number), code, message: expect.any(String), result: null });
    expect(sim.oauth.issued()).toBe(0);
  });

  it("a JSON body is refused: the token call is form-encoded", async () => {
    const res = await fetch(sim.url + TOKEN_PATH, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(passwordGrant),
    });
    expect(res.status).toBe(415);
    expect(((await res.json()) as Envelope).code).toBe("unsupported_media_type");
    expect(sim.oauth.issued()).toBe(0);
  });

  it("messages never echo a secret", async () => {
    const answer = await token({ ...passwordGrant, password: "hunter2-secret" });
    expect(answer.text).not.toContain("hunter2-secret");
    const refresh = await token({ grant_type: "refresh_token", ...client, refresh_token: "rt-secret-value" });
    expect(refresh.text).not.toContain("rt-secret-value");
  });
});

describe("issued tokens on the command endpoints", () => {
  it("an issued token is accepted; an unknown one is not", async () => {
    const { access_token } = (await token(passwordGrant)).body.result!;
    const ok = await command(access_token);
    expect(ok.status).toBe(200);
    expect(ok.body.success).toBe(true);
    const bad = await command("not-a-token");
    expect(bad.status).toBe(401);
    expect(bad.body.code).toBe("unauthorized");
  });

  it("expires with the injected clock → HTTP 401 token_expired; the static demo token never expires", async () => {
    const { access_token } = (await token({ ...passwordGrant, expires_in: "60" })).body.result!;
    clock += 59_000;
    expect((await command(access_token)).status).toBe(200);
    clock += 1_000;
    const expired = await command(access_token);
    expect(expired.status).toBe(401);
    expect(expired.body).toMatchObject({ success: false, code: "token_expired", message: "access token expired" });
    clock += 10 * 365 * 24 * 3600 * 1000;
    expect((await command(DEMO_AKUBELA_TOKEN)).status).toBe(200);
  });

  it("expireAll expires every issued access token now; the refresh token still gets a working one", async () => {
    const a = (await token(passwordGrant)).body.result!;
    const b = (await token({ grant_type: "client_credentials", ...client })).body.result!;
    sim.oauth.expireAll();
    expect((await command(a.access_token)).body.code).toBe("token_expired");
    expect((await command(b.access_token)).body.code).toBe("token_expired");
    expect((await command(DEMO_AKUBELA_TOKEN)).status).toBe(200);
    const renewed = (await token({ grant_type: "refresh_token", ...client, refresh_token: a.refresh_token! })).body.result!;
    expect((await command(renewed.access_token)).status).toBe(200);
    expect(sim.oauth.refreshed()).toBe(1);
  });

  it("revokeAll forgets access and refresh tokens", async () => {
    const a = (await token(passwordGrant)).body.result!;
    sim.oauth.revokeAll();
    expect((await command(a.access_token)).body.code).toBe("unauthorized");
    expect((await token({ grant_type: "refresh_token", ...client, refresh_token: a.refresh_token! })).body.code).toBe("invalid_grant");
    expect(sim.oauth.issued()).toBe(1);
  });

  it("reset() forgets issued tokens and zeroes the counters", async () => {
    const a = (await token(passwordGrant)).body.result!;
    sim.reset();
    expect(sim.oauth.issued()).toBe(0);
    expect((await command(a.access_token)).status).toBe(401);
  });
});

describe("record and faults", () => {
  it("records token requests without any secret", async () => {
    const first = (await token({ ...passwordGrant, expires_in: "600" })).body.result!;
    await token({ grant_type: "refresh_token", ...client, refresh_token: first.refresh_token! });
    await token({ ...passwordGrant, password: "wrong" });
    const calls = sim.calls("oauth2/token");
    expect(calls).toHaveLength(3);
    expect(calls[0]).toMatchObject({
      command: "oauth2/token",
      endpoint: "oauth2/token",
      id: undefined,
      authorization: undefined,
      status: 200,
      success: true,
      param: {
        grant_type: "password",
        client_id: DEMO_OAUTH_CLIENT_ID,
        client_secret: "***",
        scope: "manager",
        username: DEMO_MANAGER_USERNAME,
        password: "***",
        expires_in: "600",
      },
    });
    expect(calls[1]!.param).toEqual({ grant_type: "refresh_token", client_id: DEMO_OAUTH_CLIENT_ID, client_secret: "***", refresh_token: "***" });
    expect(calls[2]).toMatchObject({ status: 400, success: false, code: "invalid_grant" });
    const serialised = JSON.stringify(sim.received());
    for (const secret of [DEMO_OAUTH_CLIENT_SECRET, DEMO_MANAGER_PASSWORD, first.refresh_token!, first.access_token, "wrong"]) {
      expect(serialised).not.toContain(secret);
    }
    // the control route for tools outside the process neither
    const overHttp = await (await fetch(`${sim.url}/__sim/received`)).text();
    expect(overHttp).toContain("oauth2/token");
    expect(overHttp).not.toContain(DEMO_MANAGER_PASSWORD);
  });

  it("a fault naming oauth2/token makes the token endpoint fail, then it recovers", async () => {
    sim.injectFault({ kind: "http_error", command: "oauth2/token", status: 503, times: 1 });
    const failed = await token(passwordGrant);
    expect(failed.status).toBe(503);
    expect(failed.body).toMatchObject({ success: false, code: "internal_error" });
    expect(sim.calls("oauth2/token")[0]).toMatchObject({ status: 503, fault: "http_error" });
    expect(sim.oauth.issued()).toBe(0);
    expect((await token(passwordGrant)).status).toBe(200);
  });

  it("a token fault can target one grant with where; vendor_error answers HTTP 200 with success false", async () => {
    sim.injectFault({ kind: "vendor_error", command: "oauth2/token", where: { grant_type: "refresh_token" }, code: "server_busy" });
    const first = await token(passwordGrant);
    expect(first.status).toBe(200);
    const refresh = await token({ grant_type: "refresh_token", ...client, refresh_token: first.body.result!.refresh_token! });
    expect(refresh.status).toBe(200);
    expect(refresh.body).toMatchObject({ success: false, code: "server_busy" });
    expect(sim.oauth.refreshed()).toBe(0);
  });

  it("faults without a command leave the token endpoint alone", async () => {
    sim.injectFault({ kind: "http_error", status: 500 });
    expect((await token(passwordGrant)).status).toBe(200);
    expect((await command(DEMO_AKUBELA_TOKEN)).status).toBe(500);
  });
});
