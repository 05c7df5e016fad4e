import "server-only";
import { ApiError } from "@/lib/api/errors";
import { getBatchOrThrow } from "@/lib/batches/get-batch-or-throw";
import { mayAct, nextState, stateName, TRANSITIONS } from "@/lib/batches/lifecycle";
import { onBatchChanged } from "@/lib/batches/on-batch-changed";
import type { BatchEventInput } from "@/lib/batches/schema";
import type { TransitionArgs } from "@/lib/chain/relayer";
import { db } from "@/lib/db/client";
import { buildEpcisEvent } from "@/lib/epcis/event";
import { Prisma } from "@/lib/generated/prisma/client";
import type { UserDto } from "@/lib/users/sign-in-user";

const PAST_TENSE: Record<BatchEventInput["action"], string> = {
  ship: "shipped",
  receive: "received",
  sell: "sold",
  consume: "consumed",
  recall: "recalled",
  inspect: "inspected",
};

const DISPOSITION: Record<BatchEventInput["action"], (input: BatchEventInput) => string> = {
  ship: () => "in_transit",
  receive: () => "sellable_accessible",
  sell: () => "retail_sold",
  consume: () => "inactive",
  recall: () => "recalled",
  inspect: (input) => (input.action === "inspect" ? input.result : "conformant"),
};

function extensions(input: BatchEventInput): Record<string, unknown> {
  switch (input.action) {
    case "ship":
      return input.transporter ? { "gl:transporter": input.transporter } : {};
    case "sell":
      return { destinationList: [{ type: "owning_party", destination: `urn:greenledger:party:${input.buyer}` }] };
    case "recall":
      return { persistentDisposition: { set: ["recalled"] }, "gl:reason": input.reason };
    case "inspect":
      return input.qualityScore === undefined ? {} : { "gl:qualityScore": input.qualityScore };
    default:
      return {};
  }
}

function chainArgs(input: BatchEventInput): TransitionArgs {
  if (input.action === "sell") return { buyer: input.buyer };
  if (input.action === "recall") return { reason: input.reason };
  if (input.action === "inspect") return { conformant: input.result === "conformant" };
  return {};
}

type RecordOptions = {
  /** More writes that must commit or roll back together with this step. */
  within?: (tx: Prisma.TransactionClient) => Promise<void>;
};

/** Applies one lifecycle step with a compare-and-set on the state, and appends its EPCIS event. */
export async function recordEvent(
  tokenId: number,
  input: BatchEventInput,
  actor: UserDto,
  options: RecordOptions = {},
) {
  const id = BigInt(tokenId);
  const eventTime = input.eventTime ? new Date(input.eventTime) : new Date();
  const timeZoneOffset = input.timeZoneOffset ?? "+00:00";

  await db.$transaction(async (tx) => {
    const batch = await tx.cropBatch.findUnique({ where: { tokenId: id } });
    if (!batch) throw new ApiError("not_found", `There is no batch with token id ${tokenId}.`);
    if (!mayAct(input.action, actor, batch)) {
      throw new ApiError("forbidden", `You may not ${input.action} this batch.`);
    }
    // The state first: a request that lost a race to a concurrent one learns the batch moved on (409), not that
    // its own time stamp, taken a moment before the winner's, falls before the winner's event.
    const to = nextState(input.action, batch.currentState);
    if (to === null) {
      throw new ApiError(
        "invalid_transition",
        `A batch that is ${stateName(batch.currentState).replace("_", " ")} cannot be ${PAST_TENSE[input.action]}.`,
      );
    }
    const last = await tx.batchEvent.findFirst({
      where: { tokenId: id },
      orderBy: { eventTime: "desc" },
      select: { eventTime: true },
    });
    if (last && eventTime < last.eventTime) {
      throw new ApiError("bad_request", "An event cannot be dated before the batch's last recorded event.", [
        { path: "eventTime", message: `Must be at or after ${last.eventTime.toISOString()}` },
      ]);
    }
    const changed = await tx.cropBatch.updateMany({
      where: { tokenId: id, currentState: batch.currentState, ownerAddress: batch.ownerAddress },
      data: {
        currentState: to,
        ...(input.action === "sell" ? { ownerAddress: input.buyer, custodianAddress: null } : {}),
        ...(input.action === "ship" ? { custodianAddress: input.transporter ?? null } : {}),
        ...(input.action === "receive" ? { custodianAddress: null } : {}),
      },
    });
    if (changed.count !== 1) throw new ApiError("conflict", "The batch changed while you were updating it. Try again.");

    await tx.chainJob.create({ data: { tokenId: id, kind: input.action, args: chainArgs(input) } });
    const event = buildEpcisEvent({
      kind: input.action,
      tokenId: id,
      disposition: DISPOSITION[input.action](input),
      eventTime,
      timeZoneOffset,
      readPoint: input.location,
      actor: actor.address,
      extensions: { ...extensions(input), ...(input.notes ? { "gl:notes": input.notes } : {}) },
    });
    await tx.batchEvent
      .create({
        data: {
          tokenId: id,
          eventId: event.eventId,
          eventType: event.eventType,
          action: event.action,
          bizStep: event.bizStep,
          disposition: DISPOSITION[input.action](input),
          eventTime,
          eventTimeZoneOffset: timeZoneOffset,
          readPoint: event.readPoint,
          actorAddress: actor.address,
          fromState: batch.currentState,
          toState: to,
          payload: event.document as object,
          eventHash: event.eventHash,
        },
      })
      .catch((error: unknown) => {
        if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") {
          throw new ApiError("conflict", "This event was already recorded.");
        }
        throw error;
      });
    await options.within?.(tx);
    // Offers are for a batch that is for sale; whatever took it off the market closes those still open.
    if (!TRANSITIONS.sell.from.includes(to)) {
      await tx.purchaseOffer.updateMany({
        where: { tokenId: id, status: "open" },
        data: { status: "rejected", decidedAt: new Date() },
      });
    }
  });

  await onBatchChanged(id);
  return getBatchOrThrow(tokenId);
}
