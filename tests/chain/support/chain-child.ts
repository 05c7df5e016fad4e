// A separate process for embedded-chain.test.ts: the server's chain (anvil, relayer, indexer) on a data folder,
// which says "settled" once every queued step is final and indexed; the test then SIGKILLs its whole group.
// Run with `node --import tsx` and TSX_TSCONFIG_PATH=tsconfig.server.json. argv: databaseUrl dataDir port
import { setTimeout as delay } from "node:timers/promises";
import { startChain } from "@/lib/chain/start-chain";
import { chainSettled, connect, embeddedChainConfig } from "@/tests/chain/support/chain-world";

const [databaseUrl, dataDir, port] = process.argv.slice(2);
if (!databaseUrl || !dataDir || !port) throw new Error("usage: chain-child.ts databaseUrl dataDir port");

const { db } = connect(databaseUrl);
const chain = await startChain({
  db,
  config: embeddedChainConfig(Number(port)),
  dataDir,
  embeddedPort: Number(port),
  blockSeconds: 0,
  dumpSeconds: 0,
  onTokensChanged: async () => {},
});
while (!(await chainSettled(db, chain.client, chain.chainId))) await delay(100);
process.stdout.write("settled\n");
