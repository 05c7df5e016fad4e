// A separate process for indexer.test.ts: one indexer step that SIGKILLs its own process between fetching the
// blocks and committing them. Run with `node --import tsx` and TSX_TSCONFIG_PATH=tsconfig.server.json.
// argv: databaseUrl rpcUrl contract chainId startBlock confirmations
import { createPublicClient, http, isAddress } from "viem";
import { createIndexer } from "@/lib/chain/indexer";
import { connect } from "@/tests/chain/support/chain-world";

const [databaseUrl, rpcUrl, contract, chainId, startBlock, confirmations] = process.argv.slice(2);
if (!databaseUrl || !rpcUrl || !contract || !isAddress(contract) || !chainId || !startBlock || !confirmations) {
  throw new Error("usage: indexer-child.ts databaseUrl rpcUrl contract chainId startBlock confirmations");
}

const { db } = connect(databaseUrl);
const indexer = createIndexer({
  db,
  client: createPublicClient({ transport: http(rpcUrl), cacheTime: 0 }),
  chainId: Number(chainId),
  contract,
  startBlock: BigInt(startBlock),
  confirmations: Number(confirmations),
  hooks: {
    beforeCommit() {
      // Synchronous on a pipe, so the parent sees it even though nothing runs after the kill.
      process.stdout.write("before-commit\n");
      process.kill(process.pid, "SIGKILL");
    },
  },
});
await indexer.step();
process.stdout.write("committed\n");
process.exit(0);
