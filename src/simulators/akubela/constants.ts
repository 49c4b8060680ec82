/** The Bearer token the simulator accepts unless told otherwise (demo mode and tests). */
export const DEMO_AKUBELA_TOKEN = "demo-akubela-token";

/** The OAuth2 client the simulator's token endpoint knows unless told otherwise. */
export const DEMO_OAUTH_CLIENT_ID = "demo-client";
export const DEMO_OAUTH_CLIENT_SECRET = "demo-client-secret";

/** The property-manager account of the `password` grant unless told otherwise. */
export const DEMO_MANAGER_USERNAME = "manager@demo.example";
export const DEMO_MANAGER_PASSWORD = "demo-manager-password";

/** The seeded demo property (`pr` + 31 hex characters, like the documents' project ids). */
export const DEMO_PROJECT_ID = "pr7ace4ba103ac1ad0b71d5bdf31de38e";

/** A second, small seeded project, so that project scoping can be tested. */
export const DEMO_SECOND_PROJECT_ID = "prff2ddbcb741581bdea021bd314d092c";

/** Seed number used when none is given. */
export const DEFAULT_SEED = 2026;

/** Accounts in the demo project when none is asked for. */
export const DEFAULT_ACCOUNTS = 120;

/** Page-size clamp when none is configured (the vendor publishes no maximum). */
export const DEFAULT_MAX_PAGE_SIZE = 100;

/** Base of the URLs the simulator invents (QR codes, captures); `.example` is reserved and never resolves. */
export const SIM_FILES_BASE = "https://files.akubela-sim.example";

/** Who the simulator names as `creator` of what is created through the API. */
export const API_CREATOR = "pm";
