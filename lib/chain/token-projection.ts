/** CropBatch.RECALLED */
export const RECALLED_STATE = 5;

const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

/** A stored chain_events row, as far as the token projection needs it. */
export type ProjectionEvent = {
  eventName: string;
  args: unknown;
  txHash: string;
  blockNumber: bigint;
  logIndex: number;
};

/** A chain_tokens row without its keys' chain id. */
export type TokenProjection = {
  tokenId: bigint;
  ownerAddress: string;
  state: number;
  contentHash: string;
  mintTxHash: string;
  mintBlock: bigint;
  updatedBlock: bigint;
};

function field(args: unknown, name: string): unknown {
  if (typeof args !== "object" || args === null || Array.isArray(args)) return undefined;
  return (args as Record<string, unknown>)[name];
}

function text(args: unknown, name: string): string {
  const value = field(args, name);
  if (typeof value !== "string") throw new Error(`chain event argument ${name} is not a string`);
  return value;
}

function integer(args: unknown, name: string): number {
  const value = field(args, name);
  const parsed = typeof value === "number" ? value : typeof value === "string" ? Number(value) : Number.NaN;
  if (!Number.isInteger(parsed)) throw new Error(`chain event argument ${name} is not an integer`);
  return parsed;
}

/** Applies one event of this token; null means the token does not exist (not minted yet, or burned). */
export function applyEvent(
  token: TokenProjection | null,
  tokenId: bigint,
  event: ProjectionEvent,
): TokenProjection | null {
  switch (event.eventName) {
    case "BatchMinted":
      return {
        tokenId,
        ownerAddress: text(event.args, "owner").toLowerCase(),
        state: 0,
        contentHash: text(event.args, "contentHash").toLowerCase().replace(/^0x/, ""),
        mintTxHash: event.txHash,
        mintBlock: event.blockNumber,
        updatedBlock: event.blockNumber,
      };
    case "Transfer": {
      // The mint's own Transfer comes first in the same transaction; BatchMinted creates the token.
      if (text(event.args, "from").toLowerCase() === ZERO_ADDRESS || token === null) return token;
      const to = text(event.args, "to").toLowerCase();
      if (to === ZERO_ADDRESS) return null;
      return { ...token, ownerAddress: to, updatedBlock: event.blockNumber };
    }
    case "StateChanged":
      if (token === null) return null;
      return { ...token, state: integer(event.args, "to"), updatedBlock: event.blockNumber };
    case "BatchRecalled":
      if (token === null) return null;
      return { ...token, state: RECALLED_STATE, updatedBlock: event.blockNumber };
    case "BatchInspected":
      if (token === null) return null;
      return { ...token, updatedBlock: event.blockNumber };
    default:
      return token;
  }
}

/** Folds a token's events, already in (blockNumber, logIndex) order, into its current row. */
export function projectToken(tokenId: bigint, events: readonly ProjectionEvent[]): TokenProjection | null {
  let token: TokenProjection | null = null;
  for (const event of events) token = applyEvent(token, tokenId, event);
  return token;
}
