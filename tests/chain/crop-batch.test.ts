import {
  type Address,
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  getAddress,
  getContract,
  type Hash,
  type Hex,
  http,
  keccak256,
  type PublicClient,
  parseEventLogs,
  type TransactionReceipt,
  toHex,
  zeroAddress,
} from "viem";
import { type HDAccount, mnemonicToAccount } from "viem/accounts";
import { anvil as anvilChain } from "viem/chains";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AnvilInstance, startAnvil } from "@/lib/chain/anvil";
import { cropBatchAbi } from "@/lib/chain/crop-batch-abi";
import { deployCropBatch } from "@/lib/chain/deploy-crop-batch";
import { waitForReceipt } from "@/lib/chain/receipt";
import { DEV_MNEMONIC } from "@/lib/demo/demo-accounts";

const HARVESTED = 0;
const IN_TRANSIT = 1;
const STORED = 2;
const SOLD = 3;
const CONSUMED = 4;
const RECALLED = 5;
const Action = { ship: 0, receive: 1, sell: 2, consume: 3, recall: 4, inspect: 5 } as const;

const account = (index: number): HDAccount => mnemonicToAccount(DEV_MNEMONIC, { addressIndex: index });
const relayerAccount = account(0);
const farmerAccount = account(1);
const transporterAccount = account(2);
const inspectorAccount = account(3);
const buyerAccount = account(4);
const strangerAccount = account(5);
const otherFarmerAccount = account(6);

function privateKeyOf(hd: HDAccount): Hex {
  const key = hd.getHdKey().privateKey;
  if (!key) throw new Error("dev account without a private key");
  return toHex(key);
}

function makeActor(hd: HDAccount, rpcUrl: string, address: Address, publicClient: PublicClient) {
  const wallet = createWalletClient({ account: hd, chain: anvilChain, transport: http(rpcUrl), cacheTime: 0 });
  return {
    address: hd.address,
    contract: getContract({ address, abi: cropBatchAbi, client: { public: publicClient, wallet } }),
  };
}
type Actor = ReturnType<typeof makeActor>;

type GasRow = { operation: string; gasUsed: bigint; tokens: number };

let node: AnvilInstance;
let publicClient: PublicClient;
let contractAddress: Address;
let relayer: Actor;
let farmer: Actor;
let transporter: Actor;
let inspector: Actor;
let buyer: Actor;
let stranger: Actor;
let otherFarmer: Actor;
let nextTokenId = 1_000n;
const gasRows: GasRow[] = [];
const timings: { step: string; ms: number }[] = [];

const newId = (): bigint => nextTokenId++;
const hashFor = (tokenId: bigint): Hash => keccak256(toHex(`crop-batch-content-${tokenId}`));

async function mined(hash: Promise<Hash>): Promise<TransactionReceipt> {
  const receipt = await waitForReceipt(publicClient, await hash, { intervalMs: 10 });
  expect(receipt.status).toBe("success");
  return receipt;
}

function recordGas(operation: string, receipt: TransactionReceipt, tokens = 1): void {
  gasRows.push({ operation, gasUsed: receipt.gasUsed, tokens });
}

async function expectRevert(call: Promise<unknown>, errorName: string, args?: readonly unknown[]): Promise<void> {
  const error = await call.then(
    () => null,
    (caught: unknown) => caught,
  );
  if (!(error instanceof BaseError)) throw new Error(`expected a revert with ${errorName}, got ${String(error)}`);
  const revert = error.walk((cause) => cause instanceof ContractFunctionRevertedError);
  if (!(revert instanceof ContractFunctionRevertedError)) throw new Error(`not a contract revert: ${error.message}`);
  expect(revert.data?.errorName).toBe(errorName);
  if (args) expect(revert.data?.args).toEqual(args);
}

async function mintTo(owner: Address, tokenId = newId()): Promise<{ tokenId: bigint; receipt: TransactionReceipt }> {
  const receipt = await mined(relayer.contract.write.mint([owner, tokenId, hashFor(tokenId)]));
  return { tokenId, receipt };
}

function stateChanges(receipt: TransactionReceipt) {
  return parseEventLogs({ abi: cropBatchAbi, logs: receipt.logs, eventName: "StateChanged" }).map((log) => log.args);
}

async function stateOf(tokenId: bigint): Promise<number> {
  return relayer.contract.read.stateOf([tokenId]);
}

beforeAll(async () => {
  let started = performance.now();
  node = await startAnvil({ anvilBin: process.env.ANVIL_BIN });
  timings.push({ step: "start anvil", ms: performance.now() - started });
  started = performance.now();
  publicClient = createPublicClient({ chain: anvilChain, transport: http(node.rpcUrl), cacheTime: 0 });
  const deployed = await deployCropBatch({ rpcUrl: node.rpcUrl, deployerKey: privateKeyOf(relayerAccount) });
  timings.push({ step: "deploy", ms: performance.now() - started });
  contractAddress = deployed.address;
  const actor = (hd: HDAccount) => makeActor(hd, node.rpcUrl, contractAddress, publicClient);
  relayer = actor(relayerAccount);
  farmer = actor(farmerAccount);
  transporter = actor(transporterAccount);
  inspector = actor(inspectorAccount);
  buyer = actor(buyerAccount);
  stranger = actor(strangerAccount);
  otherFarmer = actor(otherFarmerAccount);
  const c = relayer.contract;
  const [farmerRole, transporterRole, inspectorRole] = await Promise.all([
    c.read.FARMER_ROLE(),
    c.read.TRANSPORTER_ROLE(),
    c.read.INSPECTOR_ROLE(),
  ]);
  await mined(c.write.grantRole([farmerRole, farmer.address]));
  await mined(c.write.grantRole([farmerRole, otherFarmer.address]));
  await mined(c.write.grantRole([transporterRole, transporter.address]));
  await mined(c.write.grantRole([inspectorRole, inspector.address]));
});

afterAll(async () => {
  if (gasRows.length > 0) {
    console.table(
      gasRows.map((row) => ({
        operation: row.operation,
        gasUsed: Number(row.gasUsed),
        tokens: row.tokens,
        perToken: Math.round(Number(row.gasUsed) / row.tokens),
      })),
    );
  }
  if (timings.length > 0) console.table(timings.map(({ step, ms }) => ({ step, ms: Math.round(ms) })));
  await node?.stop();
});

describe("CropBatch on anvil", () => {
  it("is deployed with admin and relayer roles and the expected interfaces", async () => {
    const c = relayer.contract;
    expect(await c.read.hasRole([await c.read.DEFAULT_ADMIN_ROLE(), relayer.address])).toBe(true);
    expect(await c.read.hasRole([await c.read.RELAYER_ROLE(), relayer.address])).toBe(true);
    expect(await c.read.hasRole([await c.read.RELAYER_ROLE(), farmer.address])).toBe(false);
    expect(await c.read.supportsInterface(["0x80ac58cd"])).toBe(true);
    expect(await c.read.supportsInterface(["0x7965db0b"])).toBe(true);
    expect(await c.read.supportsInterface(["0x01ffc9a7"])).toBe(true);
    expect(await c.read.supportsInterface(["0xffffffff"])).toBe(false);
    expect(await c.read.name()).toBe("GreenLedger Crop Batch");
  });

  it("lets only an admin grant roles", async () => {
    const [relayerRole, adminRole] = [
      await farmer.contract.read.RELAYER_ROLE(),
      await farmer.contract.read.DEFAULT_ADMIN_ROLE(),
    ];
    await expectRevert(
      farmer.contract.write.grantRole([relayerRole, farmer.address]),
      "AccessControlUnauthorizedAccount",
      [farmer.address, adminRole],
    );
  });

  describe("minting", () => {
    it("mint by the relayer sets owner, state and hash, and emits BatchMinted + Transfer", async () => {
      const { tokenId, receipt } = await mintTo(farmer.address);
      recordGas("mint (holder's first token)", receipt);
      expect(await relayer.contract.read.batchOf([tokenId])).toEqual([farmer.address, HARVESTED, hashFor(tokenId)]);
      expect(await relayer.contract.read.ownerOf([tokenId])).toBe(farmer.address);
      expect(await stateOf(tokenId)).toBe(HARVESTED);
      expect(await relayer.contract.read.contentHashOf([tokenId])).toBe(hashFor(tokenId));

      const logs = parseEventLogs({ abi: cropBatchAbi, logs: receipt.logs, eventName: ["BatchMinted", "Transfer"] });
      expect(logs.map((log) => log.eventName).sort()).toEqual(["BatchMinted", "Transfer"]);
      for (const log of logs) {
        if (log.eventName === "BatchMinted") {
          expect(log.args).toEqual({ tokenId, owner: farmer.address, contentHash: hashFor(tokenId) });
        } else {
          expect(log.args).toEqual({ from: zeroAddress, to: farmer.address, tokenId });
        }
      }

      const second = await mintTo(farmer.address);
      recordGas("mint (holder already has tokens)", second.receipt);
    });

    it("rejects a mint by anyone but the relayer", async () => {
      const relayerRole = await relayer.contract.read.RELAYER_ROLE();
      const tokenId = newId();
      for (const actor of [farmer, inspector, stranger]) {
        await expectRevert(
          actor.contract.write.mint([actor.address, tokenId, hashFor(tokenId)]),
          "AccessControlUnauthorizedAccount",
          [actor.address, relayerRole],
        );
      }
      await expectRevert(relayer.contract.read.ownerOf([tokenId]), "ERC721NonexistentToken", [tokenId]);
    });

    it("rejects minting an existing id, a zero hash and the zero address", async () => {
      const { tokenId } = await mintTo(farmer.address);
      await expectRevert(
        relayer.contract.write.mint([buyer.address, tokenId, hashFor(tokenId)]),
        "ERC721InvalidSender",
        [zeroAddress],
      );
      expect(await relayer.contract.read.ownerOf([tokenId])).toBe(farmer.address);
      const fresh = newId();
      await expectRevert(
        relayer.contract.write.mint([farmer.address, fresh, `0x${"00".repeat(32)}`]),
        "EmptyContentHash",
        [fresh],
      );
      await expectRevert(relayer.contract.write.mint([zeroAddress, fresh, hashFor(fresh)]), "ERC721InvalidReceiver", [
        zeroAddress,
      ]);
    });

    it("views revert for an unknown token", async () => {
      const unknown = 999_999_999n;
      await expectRevert(relayer.contract.read.batchOf([unknown]), "ERC721NonexistentToken", [unknown]);
      await expectRevert(relayer.contract.read.stateOf([unknown]), "ERC721NonexistentToken", [unknown]);
      await expectRevert(relayer.contract.read.contentHashOf([unknown]), "ERC721NonexistentToken", [unknown]);
      await expectRevert(relayer.contract.write.ship([unknown]), "ERC721NonexistentToken", [unknown]);
    });
  });

  describe("lifecycle", () => {
    it("runs harvested -> in_transit -> stored -> sold -> consumed with the right actors and events", async () => {
      const { tokenId } = await mintTo(farmer.address);

      const shipped = await mined(farmer.contract.write.ship([tokenId]));
      recordGas("ship (owner)", shipped);
      expect(stateChanges(shipped)).toEqual([{ tokenId, from: HARVESTED, to: IN_TRANSIT, actor: farmer.address }]);

      const received = await mined(transporter.contract.write.markReceived([tokenId]));
      recordGas("markReceived (transporter)", received);
      expect(stateChanges(received)).toEqual([{ tokenId, from: IN_TRANSIT, to: STORED, actor: transporter.address }]);

      const sold = await mined(farmer.contract.write.sell([tokenId, buyer.address]));
      recordGas("sell (owner; buyer's first token)", sold);
      expect(stateChanges(sold)).toEqual([{ tokenId, from: STORED, to: SOLD, actor: farmer.address }]);
      const transfers = parseEventLogs({ abi: cropBatchAbi, logs: sold.logs, eventName: "Transfer" });
      expect(transfers.map((log) => log.args)).toEqual([{ from: farmer.address, to: buyer.address, tokenId }]);
      expect(await relayer.contract.read.ownerOf([tokenId])).toBe(buyer.address);

      const consumed = await mined(buyer.contract.write.consume([tokenId]));
      recordGas("consume (owner)", consumed);
      expect(stateChanges(consumed)).toEqual([{ tokenId, from: SOLD, to: CONSUMED, actor: buyer.address }]);
      expect(await relayer.contract.read.batchOf([tokenId])).toEqual([buyer.address, CONSUMED, hashFor(tokenId)]);
    });

    it("sells straight from harvested and lets the owner receive their own shipment", async () => {
      const { tokenId } = await mintTo(farmer.address);
      await mined(farmer.contract.write.ship([tokenId]));
      await mined(farmer.contract.write.markReceived([tokenId]));
      await mined(farmer.contract.write.ship([tokenId]));
      await mined(transporter.contract.write.markReceived([tokenId]));
      expect(await stateOf(tokenId)).toBe(STORED);

      const direct = await mintTo(farmer.address);
      const sold = await mined(farmer.contract.write.sell([direct.tokenId, buyer.address]));
      expect(stateChanges(sold)).toEqual([
        { tokenId: direct.tokenId, from: HARVESTED, to: SOLD, actor: farmer.address },
      ]);
    });

    it("rejects every illegal transition with InvalidTransition", async () => {
      const harvested = (await mintTo(farmer.address)).tokenId;
      await expectRevert(relayer.contract.write.consume([harvested]), "InvalidTransition", [
        harvested,
        HARVESTED,
        Action.consume,
      ]);
      await expectRevert(relayer.contract.write.markReceived([harvested]), "InvalidTransition", [
        harvested,
        HARVESTED,
        Action.receive,
      ]);

      const inTransit = (await mintTo(farmer.address)).tokenId;
      await mined(relayer.contract.write.ship([inTransit]));
      await expectRevert(relayer.contract.write.ship([inTransit]), "InvalidTransition", [
        inTransit,
        IN_TRANSIT,
        Action.ship,
      ]);
      await expectRevert(relayer.contract.write.sell([inTransit, buyer.address]), "InvalidTransition", [
        inTransit,
        IN_TRANSIT,
        Action.sell,
      ]);

      const sold = (await mintTo(farmer.address)).tokenId;
      await mined(farmer.contract.write.sell([sold, buyer.address]));
      await expectRevert(buyer.contract.write.ship([sold]), "InvalidTransition", [sold, SOLD, Action.ship]);
      await expectRevert(buyer.contract.write.sell([sold, farmer.address]), "InvalidTransition", [
        sold,
        SOLD,
        Action.sell,
      ]);

      await mined(buyer.contract.write.consume([sold]));
      await expectRevert(buyer.contract.write.consume([sold]), "InvalidTransition", [sold, CONSUMED, Action.consume]);
      await expectRevert(inspector.contract.write.inspect([sold, true]), "InvalidTransition", [
        sold,
        CONSUMED,
        Action.inspect,
      ]);
    });

    it("blocks everything after a recall", async () => {
      const tokenId = (await mintTo(farmer.address)).tokenId;
      await mined(inspector.contract.write.recall([tokenId, "salmonella"]));
      const invalid = (action: number) => [tokenId, RECALLED, action] as const;
      await expectRevert(relayer.contract.write.ship([tokenId]), "InvalidTransition", invalid(Action.ship));
      await expectRevert(relayer.contract.write.markReceived([tokenId]), "InvalidTransition", invalid(Action.receive));
      await expectRevert(
        relayer.contract.write.sell([tokenId, buyer.address]),
        "InvalidTransition",
        invalid(Action.sell),
      );
      await expectRevert(relayer.contract.write.consume([tokenId]), "InvalidTransition", invalid(Action.consume));
      await expectRevert(
        relayer.contract.write.recall([tokenId, "again"]),
        "InvalidTransition",
        invalid(Action.recall),
      );
      await expectRevert(
        relayer.contract.write.inspect([tokenId, false]),
        "InvalidTransition",
        invalid(Action.inspect),
      );
      expect(await stateOf(tokenId)).toBe(RECALLED);
    });

    it("a reverted transaction that is mined anyway leaves the state unchanged", async () => {
      const tokenId = (await mintTo(farmer.address)).tokenId;
      const receipt = await waitForReceipt(
        publicClient,
        await relayer.contract.write.consume([tokenId], { gas: 100_000n }),
        { intervalMs: 10 },
      );
      expect(receipt.status).toBe("reverted");
      expect(await stateOf(tokenId)).toBe(HARVESTED);
    });
  });

  describe("roles", () => {
    it("rejects wrong roles with NotAuthorized", async () => {
      const tokenId = (await mintTo(farmer.address)).tokenId;
      await expectRevert(stranger.contract.write.ship([tokenId]), "NotAuthorized", [
        tokenId,
        stranger.address,
        Action.ship,
      ]);
      await expectRevert(transporter.contract.write.ship([tokenId]), "NotAuthorized", [
        tokenId,
        transporter.address,
        Action.ship,
      ]);
      await expectRevert(farmer.contract.write.inspect([tokenId, true]), "NotAuthorized", [
        tokenId,
        farmer.address,
        Action.inspect,
      ]);
      await expectRevert(otherFarmer.contract.write.sell([tokenId, otherFarmer.address]), "NotAuthorized", [
        tokenId,
        otherFarmer.address,
        Action.sell,
      ]);
      await expectRevert(stranger.contract.write.recall([tokenId, "spite"]), "NotAuthorized", [
        tokenId,
        stranger.address,
        Action.recall,
      ]);

      await mined(farmer.contract.write.ship([tokenId]));
      await expectRevert(stranger.contract.write.markReceived([tokenId]), "NotAuthorized", [
        tokenId,
        stranger.address,
        Action.receive,
      ]);
      await expectRevert(inspector.contract.write.markReceived([tokenId]), "NotAuthorized", [
        tokenId,
        inspector.address,
        Action.receive,
      ]);
      await mined(transporter.contract.write.markReceived([tokenId]));
      await mined(farmer.contract.write.sell([tokenId, buyer.address]));
      await expectRevert(farmer.contract.write.consume([tokenId]), "NotAuthorized", [
        tokenId,
        farmer.address,
        Action.consume,
      ]);
      await expectRevert(farmer.contract.write.recall([tokenId, "former owner"]), "NotAuthorized", [
        tokenId,
        farmer.address,
        Action.recall,
      ]);
      expect(await relayer.contract.read.batchOf([tokenId])).toEqual([buyer.address, SOLD, hashFor(tokenId)]);
    });

    it("lets the relayer act on behalf of a gasless owner", async () => {
      const { tokenId } = await mintTo(farmer.address);
      const shipped = await mined(relayer.contract.write.ship([tokenId]));
      recordGas("ship (relayed)", shipped);
      expect(stateChanges(shipped)).toEqual([{ tokenId, from: HARVESTED, to: IN_TRANSIT, actor: relayer.address }]);
      await mined(relayer.contract.write.markReceived([tokenId]));
      const sold = await mined(relayer.contract.write.sell([tokenId, buyer.address]));
      recordGas("sell (relayed; buyer holds tokens)", sold);
      expect(stateChanges(sold)).toEqual([{ tokenId, from: STORED, to: SOLD, actor: relayer.address }]);
      expect(await relayer.contract.read.ownerOf([tokenId])).toBe(buyer.address);
      await mined(relayer.contract.write.consume([tokenId]));
      expect(await stateOf(tokenId)).toBe(CONSUMED);
    });

    it("treats the relayer as an ERC-721 operator for every token (documented trust decision)", async () => {
      const { tokenId } = await mintTo(farmer.address);
      await expectRevert(
        stranger.contract.write.transferFrom([farmer.address, stranger.address, tokenId]),
        "ERC721InsufficientApproval",
        [stranger.address, tokenId],
      );
      await mined(relayer.contract.write.transferFrom([farmer.address, otherFarmer.address, tokenId]));
      expect(await relayer.contract.read.ownerOf([tokenId])).toBe(otherFarmer.address);
    });
  });

  describe("recall and inspect", () => {
    it("recall emits BatchRecalled and StateChanged, from any live state and by owner, inspector or relayer", async () => {
      const byInspector = (await mintTo(farmer.address)).tokenId;
      const receipt = await mined(inspector.contract.write.recall([byInspector, "listeria found in lot 7"]));
      recordGas("recall (inspector)", receipt);
      const recalled = parseEventLogs({ abi: cropBatchAbi, logs: receipt.logs, eventName: "BatchRecalled" });
      expect(recalled.map((log) => log.args)).toEqual([
        { tokenId: byInspector, actor: inspector.address, reason: "listeria found in lot 7" },
      ]);
      expect(stateChanges(receipt)).toEqual([
        { tokenId: byInspector, from: HARVESTED, to: RECALLED, actor: inspector.address },
      ]);

      const byOwner = (await mintTo(farmer.address)).tokenId;
      await mined(farmer.contract.write.ship([byOwner]));
      await mined(farmer.contract.write.recall([byOwner, "truck fridge failed"]));
      expect(await stateOf(byOwner)).toBe(RECALLED);

      const consumed = (await mintTo(farmer.address)).tokenId;
      await mined(farmer.contract.write.sell([consumed, buyer.address]));
      await mined(buyer.contract.write.consume([consumed]));
      const late = await mined(relayer.contract.write.recall([consumed, "supplier recall"]));
      expect(stateChanges(late)).toEqual([{ tokenId: consumed, from: CONSUMED, to: RECALLED, actor: relayer.address }]);
    });

    it("inspect emits BatchInspected without changing state", async () => {
      const tokenId = (await mintTo(farmer.address)).tokenId;
      await mined(farmer.contract.write.ship([tokenId]));
      const receipt = await mined(inspector.contract.write.inspect([tokenId, false]));
      recordGas("inspect (inspector)", receipt);
      const inspected = parseEventLogs({ abi: cropBatchAbi, logs: receipt.logs, eventName: "BatchInspected" });
      expect(inspected.map((log) => log.args)).toEqual([{ tokenId, conformant: false, actor: inspector.address }]);
      expect(stateChanges(receipt)).toEqual([]);
      expect(await stateOf(tokenId)).toBe(IN_TRANSIT);
      await mined(relayer.contract.write.inspect([tokenId, true]));
      expect(await stateOf(tokenId)).toBe(IN_TRANSIT);
    });
  });

  describe("anchor", () => {
    it("the relayer anchors an event's hash on a token: EventAnchored, the token unchanged", async () => {
      const tokenId = (await mintTo(farmer.address)).tokenId;
      const eventHash = keccak256(toHex(`certificate of ${tokenId}`));
      const receipt = await mined(relayer.contract.write.anchor([tokenId, eventHash]));
      recordGas("anchor (relayer)", receipt);
      const anchored = parseEventLogs({ abi: cropBatchAbi, logs: receipt.logs, eventName: "EventAnchored" });
      expect(anchored.map((log) => log.args)).toEqual([{ tokenId, eventHash }]);
      expect(stateChanges(receipt)).toEqual([]);
      expect(await stateOf(tokenId)).toBe(HARVESTED);
    });

    it("rejects anyone but the relayer, a zero hash and an unknown token", async () => {
      const relayerRole = await relayer.contract.read.RELAYER_ROLE();
      const tokenId = (await mintTo(farmer.address)).tokenId;
      const eventHash = keccak256(toHex(`event of ${tokenId}`));
      for (const actor of [farmer, inspector, stranger]) {
        await expectRevert(actor.contract.write.anchor([tokenId, eventHash]), "AccessControlUnauthorizedAccount", [
          actor.address,
          relayerRole,
        ]);
      }
      await expectRevert(relayer.contract.write.anchor([tokenId, `0x${"00".repeat(32)}`]), "EmptyEventHash", [tokenId]);
      const unknown = 999_999_998n;
      await expectRevert(relayer.contract.write.anchor([unknown, eventHash]), "ERC721NonexistentToken", [unknown]);
    });
  });

  describe("mintBatch", () => {
    const batch = (size: number, owner: (i: number) => Address) => {
      const ids = Array.from({ length: size }, () => newId());
      return [ids.map((_, i) => owner(i)), ids, ids.map(hashFor)] as const;
    };
    const fit = { base: 0, perToken: 0 };

    it("mints 1, 10 and 100 tokens in one transaction each", async () => {
      for (const size of [1, 10, 100]) {
        const args = batch(size, () => farmer.address);
        const receipt = await mined(relayer.contract.write.mintBatch(args));
        recordGas(`mintBatch x${size} (same holder)`, receipt, size);
        const minted = parseEventLogs({ abi: cropBatchAbi, logs: receipt.logs, eventName: "BatchMinted" });
        expect(minted.map((log) => log.args.tokenId)).toEqual(args[1]);
        expect(parseEventLogs({ abi: cropBatchAbi, logs: receipt.logs, eventName: "Transfer" })).toHaveLength(size);
        const last = args[1][size - 1] ?? 0n;
        expect(await relayer.contract.read.batchOf([last])).toEqual([farmer.address, HARVESTED, hashFor(last)]);
      }
      const rows = new Map(gasRows.map((row) => [row.operation, Number(row.gasUsed)]));
      const g10 = rows.get("mintBatch x10 (same holder)") ?? 0;
      const g100 = rows.get("mintBatch x100 (same holder)") ?? 0;
      fit.perToken = (g100 - g10) / 90;
      fit.base = g10 - 10 * fit.perToken;
    });

    it("mints 100 tokens to 100 distinct new holders", async () => {
      const holders = Array.from({ length: 100 }, (_, i) => getAddress(keccak256(toHex(`holder-${i}`)).slice(0, 42)));
      const args = batch(100, (i) => holders[i] ?? zeroAddress);
      const receipt = await mined(relayer.contract.write.mintBatch(args));
      recordGas("mintBatch x100 (distinct new holders)", receipt, 100);
      expect(await relayer.contract.read.balanceOf([holders[99] ?? zeroAddress])).toBe(1n);
    });

    it("reverts on mismatched lengths and is atomic on a duplicate id", async () => {
      const [to, ids, hashes] = batch(3, () => farmer.address);
      await expectRevert(relayer.contract.write.mintBatch([to, ids.slice(0, 2), hashes]), "LengthMismatch", [
        3n,
        2n,
        3n,
      ]);
      await expectRevert(relayer.contract.write.mintBatch([to, ids, hashes.slice(1)]), "LengthMismatch", [3n, 3n, 2n]);
      await expectRevert(relayer.contract.write.mintBatch([to.slice(1), ids, hashes]), "LengthMismatch", [2n, 3n, 3n]);
      const duplicated = [ids[0] ?? 0n, ids[1] ?? 0n, ids[0] ?? 0n];
      await expectRevert(relayer.contract.write.mintBatch([to, duplicated, hashes]), "ERC721InvalidSender", [
        zeroAddress,
      ]);
      await expectRevert(relayer.contract.read.ownerOf([ids[0] ?? 0n]), "ERC721NonexistentToken", [ids[0]]);
      // Read first: awaiting inside the argument list would leave the rejected write without a handler meanwhile.
      const relayerRole = await relayer.contract.read.RELAYER_ROLE();
      await expectRevert(farmer.contract.write.mintBatch([to, ids, hashes]), "AccessControlUnauthorizedAccount", [
        farmer.address,
        relayerRole,
      ]);
    });

    it("the computed max batch size fits one block at the block gas limit", async () => {
      const block = await publicClient.getBlock();
      expect(block.gasLimit).toBe(30_000_000n);
      const max = Math.floor((Number(block.gasLimit) - fit.base) / fit.perToken);
      console.log(
        `mintBatch fit: base ${Math.round(fit.base)} gas + ${fit.perToken.toFixed(1)} gas/token; ` +
          `max batch in ${block.gasLimit} gas = ${max}`,
      );
      expect(max).toBeGreaterThan(100);
      const receipt = await mined(
        relayer.contract.write.mintBatch(
          batch(max, () => farmer.address),
          { gas: block.gasLimit },
        ),
      );
      recordGas(`mintBatch x${max} (computed max, same holder)`, receipt, max);
      expect(receipt.gasUsed).toBeLessThanOrEqual(block.gasLimit);
      expect(receipt.gasUsed + BigInt(Math.ceil(fit.perToken))).toBeGreaterThan(block.gasLimit);
    });
  });
});
