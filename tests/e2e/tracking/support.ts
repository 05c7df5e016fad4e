import type { APIRequestContext } from "@playwright/test";
import { type BatchDto, createBatch } from "../support/api";
import { demoAddress } from "../support/auth";
import { expect } from "../support/fixtures";

/** A new batch of the farmer's, shipped with the demo transporter: in transit, so its trip can be shared and watched. */
export async function shippedBatch(farmer: APIRequestContext): Promise<BatchDto> {
  const batch = await createBatch(farmer);
  const shipped = await farmer.post(`/api/crop-batches/${batch.tokenId}/events`, {
    data: { action: "ship", transporter: demoAddress("transporter").toLowerCase(), location: { lat: 52.1, lng: 4.3 } },
  });
  expect(shipped.status(), await shipped.text()).toBe(201);
  return batch;
}
