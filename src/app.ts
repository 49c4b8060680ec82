import type { Config } from "./config.js";
import type { ServerDeps } from "./context.js";
import { AkubelaClient, type VendorCallEvent } from "./datasources/akubela/client.js";
import type { Logger } from "./logger.js";
import { createServer, type GraphServer, type ServerOptions } from "./server.js";
import {
  DEMO_AKUBELA_TOKEN,
  DEMO_PROJECT_ID,
  DEMO_SECOND_PROJECT_ID,
  startAkubelaSimulator,
  type AkubelaSimulator,
} from "./simulators/akubela/index.js";

export interface App {
  server: GraphServer;
  url: string;
  /** The in-process simulator, in demo mode. */
  simulator?: AkubelaSimulator;
  stop(): Promise<void>;
}

export const DEMO_QUERY = `# Demo mode: the Authorization header is already set to the demo token.
query ProjectOverview {
  projects {
    projectId
    buildings {
      name
      residences {
        residenceNo
        familyName
        accounts { displayName role credentials { pinCodes { number } rfCards { number } } }
        devices { name deviceType online relays { name } }
      }
    }
  }
}
`;

/**
 * Wires config → vendor clients → server. With no `AKUBELA_BASE_URL`, the Akubela simulator is started in-process
 * and the graph talks to it over real HTTP (demo mode).
 */
export async function startApp(config: Config, logger: Logger, hooks: { onVendorCall?: (e: VendorCallEvent) => void } = {}): Promise<App> {
  let simulator: AkubelaSimulator | undefined;
  let baseUrl: string;
  let effective = config;
  const options: ServerOptions = {};
  if (config.akubela.target.mode === "simulator") {
    simulator = await startAkubelaSimulator({ quiet: true });
    baseUrl = simulator.url;
    effective = {
      ...config,
      akubela: {
        ...config.akubela,
        projectIds: config.akubela.projectIds.length ? config.akubela.projectIds : [DEMO_PROJECT_ID, DEMO_SECOND_PROJECT_ID],
      },
    };
    options.sandboxInitialState = { headers: { Authorization: `Bearer ${DEMO_AKUBELA_TOKEN}` }, document: DEMO_QUERY };
    logger.info("demo mode: Akubela simulator started", { simulatorUrl: simulator.url, demoProjectId: DEMO_PROJECT_ID });
  } else {
    baseUrl = config.akubela.target.baseUrl;
  }
  const deps: ServerDeps = {
    config: effective,
    logger,
    akubelaClient: new AkubelaClient({
      baseUrl,
      timeoutMs: config.akubela.timeoutMs,
      readRetries: config.akubela.readRetries,
      logger,
      onCall: hooks.onVendorCall,
    }),
  };
  const server = await createServer(deps, options);
  const url = await server.listen(config.port, config.host);
  return {
    server,
    url,
    simulator,
    async stop() {
      await server.stop();
      await simulator?.close();
    },
  };
}
