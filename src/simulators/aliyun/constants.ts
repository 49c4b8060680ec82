/** The demo app key and secret the Aliyun simulator accepts (they open only the simulator). */
export const DEMO_ALIYUN_APP_KEY = "203000001";
export const DEMO_ALIYUN_APP_SECRET = "demo-aliyun-app-secret-not-for-production";

/** How long a timestamp is accepted and a nonce remembered (aliyun-gateway.md: 15 minutes). */
export const SIGNATURE_WINDOW_MS = 15 * 60 * 1000;
