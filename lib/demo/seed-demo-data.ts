import { randomUUID } from "node:crypto";
import { faker } from "@faker-js/faker";
import { contentHash } from "@/lib/batches/content-hash";
import type { BatchAction } from "@/lib/batches/lifecycle";
import { db } from "@/lib/db/client";
import { DEMO_USERS, demoAccount } from "@/lib/demo/demo-accounts";
import { buildEpcisEvent } from "@/lib/epcis/event";
import type { Prisma } from "@/lib/generated/prisma/client";

const REGIONS = [
  { region: "Andalusia", country: "ES", lat: 37.5, lng: -4.7 },
  { region: "Emilia-Romagna", country: "IT", lat: 44.5, lng: 11.0 },
  { region: "Provence", country: "FR", lat: 43.9, lng: 5.5 },
  { region: "Westland", country: "NL", lat: 52.0, lng: 4.2 },
  { region: "Central Valley", country: "US", lat: 36.7, lng: -119.7 },
  { region: "Central Highlands", country: "KE", lat: -0.4, lng: 36.9 },
  { region: "Punjab", country: "IN", lat: 30.9, lng: 75.8 },
  { region: "Mendoza", country: "AR", lat: -32.9, lng: -68.8 },
  { region: "Bavaria", country: "DE", lat: 48.8, lng: 11.5 },
  { region: "Plovdiv", country: "BG", lat: 42.15, lng: 24.75 },
];

const CROPS: Record<string, string[]> = {
  tomato: ["Roma", "San Marzano", "Cherry", "Beefsteak"],
  potato: ["Russet", "Yukon Gold", "Kennebec"],
  wheat: ["Durum", "Hard Red Winter", "Soft White"],
  maize: ["Dent", "Sweet"],
  apple: ["Gala", "Fuji", "Granny Smith", "Honeycrisp"],
  grape: ["Tempranillo", "Malbec", "Thompson Seedless"],
  strawberry: ["Albion", "Elsanta"],
  lettuce: ["Romaine", "Butterhead", "Iceberg"],
  coffee: ["Arabica SL28", "Arabica Ruiru 11"],
  rice: ["Basmati", "Arborio"],
  olive: ["Picual", "Arbequina"],
  avocado: ["Hass", "Fuerte"],
  carrot: ["Nantes", "Chantenay"],
  onion: ["Yellow Granex", "Red Creole"],
};

const CERTIFICATIONS = ["EU Organic", "GlobalG.A.P.", "Fairtrade", "Rainforest Alliance", "USDA Organic", "Demeter"];
const GRADES = ["Extra", "Class I", "Class II"];
const STATE_WEIGHTS = [0.4, 0.2, 0.2, 0.12, 0.05, 0.03];
const PATHS: BatchAction[][] = [
  [],
  ["ship"],
  ["ship", "receive"],
  ["ship", "receive", "sell"],
  ["ship", "receive", "sell", "consume"],
  ["ship", "recall"],
];
const DISPOSITION: Record<string, string> = {
  ship: "in_transit",
  receive: "sellable_accessible",
  sell: "retail_sold",
  consume: "inactive",
  recall: "recalled",
};
const TO_STATE: Record<string, number> = { ship: 1, receive: 2, sell: 3, consume: 4, recall: 5 };

function pickState(): number {
  let roll = faker.number.float({ min: 0, max: 1 });
  for (const [state, weight] of STATE_WEIGHTS.entries()) {
    roll -= weight;
    if (roll <= 0) return state;
  }
  return 0;
}

function jitter(value: number, spread: number): number {
  return Math.round((value + faker.number.float({ min: -spread, max: spread })) * 1e6) / 1e6;
}

/** Seeds farms, batches with their EPCIS history and transporters, once: it does nothing when farms exist. */
export async function seedDemoData({ batches: batchCount }: { batches: number }) {
  if ((await db.farm.count()) > 0) return null;
  faker.seed(20261124);
  const farmer = DEMO_USERS.find((user) => user.role === "farmer")?.address ?? "";
  const buyer = demoAccount("buyer").address.toLowerCase();
  const now = Date.now();

  return db.$transaction(
    async (tx) => {
      await tx.user.createMany({ data: DEMO_USERS, skipDuplicates: true });
      const farms = await tx.farm.createManyAndReturn({
        data: Array.from({ length: 40 }, (_, index) => {
          const place = REGIONS[index % REGIONS.length] as (typeof REGIONS)[number];
          return {
            name: `${faker.person.lastName()} ${faker.helpers.arrayElement(["Farm", "Orchards", "Growers", "Fields", "Estate"])}`,
            region: place.region,
            country: place.country,
            latitude: jitter(place.lat, 0.6),
            longitude: jitter(place.lng, 0.6),
            ownerAddress: index < 5 ? farmer : faker.finance.ethereumAddress().toLowerCase(),
          };
        }),
      });

      const plans = Array.from({ length: batchCount }, () => {
        const farm = faker.helpers.arrayElement(farms);
        const cropType = faker.helpers.objectKey(CROPS);
        const createdAt = new Date(now - faker.number.int({ min: 60_000, max: 30 * 24 * 3_600_000 }));
        const harvestDate = new Date(createdAt.getTime() - faker.number.int({ min: 0, max: 20 }) * 86_400_000);
        const certifications = faker.helpers.arrayElements(CERTIFICATIONS, { min: 0, max: 2 });
        const metadata = {
          ...(certifications.length ? { certifications } : {}),
          grade: faker.helpers.arrayElement(GRADES),
          organic: certifications.some((name) => name.includes("Organic")),
        };
        const record = {
          clientId: randomUUID(),
          cropType,
          variety: faker.helpers.arrayElement(CROPS[cropType] ?? [null]),
          quantity: faker.number.float({ min: 50, max: 20_000, fractionDigits: 1 }).toFixed(3),
          unit: "KGM",
          harvestDate: harvestDate.toISOString().slice(0, 10),
          farmId: farm.id,
          qualityScore: faker.number.int({ min: 55, max: 100 }),
          metadata,
        };
        return { record, farm, createdAt, state: pickState(), hash: contentHash(record) };
      });

      const inserted = await tx.cropBatch.createManyAndReturn({
        select: { tokenId: true, clientId: true },
        data: plans.map(({ record, farm, createdAt, state, hash }) => ({
          clientId: record.clientId,
          cropType: record.cropType,
          variety: record.variety,
          quantity: record.quantity,
          unit: record.unit,
          harvestDate: new Date(`${record.harvestDate}T00:00:00Z`),
          originFarm: record.farmId,
          qualityScore: record.qualityScore,
          metadata: record.metadata,
          currentState: state,
          ownerAddress: state >= 3 && state <= 4 ? buyer : farm.ownerAddress,
          contentHash: hash,
          searchText: [record.cropType, record.variety, farm.name, farm.region].join(" ").toLowerCase(),
          createdAt,
          updatedAt: createdAt,
        })),
      });
      const tokenIds = new Map(inserted.map((row) => [row.clientId, row.tokenId]));

      const events: Prisma.BatchEventCreateManyInput[] = [];
      for (const { record, farm, createdAt, state } of plans) {
        const tokenId = tokenIds.get(record.clientId) ?? 0n;
        const commission = buildEpcisEvent({
          kind: "create",
          tokenId,
          disposition: "active",
          eventTime: createdAt,
          timeZoneOffset: "+00:00",
          bizLocation: `urn:greenledger:farm:${farm.id}`,
          actor: farm.ownerAddress,
          quantity: { value: Number(record.quantity), uom: record.unit },
        });
        events.push({
          tokenId,
          eventId: commission.eventId,
          eventType: commission.eventType,
          action: commission.action,
          bizStep: commission.bizStep,
          disposition: "active",
          eventTime: createdAt,
          eventTimeZoneOffset: "+00:00",
          actorAddress: farm.ownerAddress,
          toState: 0,
          payload: commission.document as object,
          eventHash: commission.eventHash,
        });
        let time = createdAt.getTime();
        let from = 0;
        for (const action of PATHS[state] ?? []) {
          time = Math.min(now, time + faker.number.int({ min: 1, max: 36 }) * 3_600_000);
          const eventTime = new Date(time);
          const point = { lat: jitter(farm.latitude, 1), lng: jitter(farm.longitude, 1) };
          const actor = action === "consume" ? buyer : farm.ownerAddress;
          const event = buildEpcisEvent({
            kind: action,
            tokenId,
            disposition: DISPOSITION[action] ?? "active",
            eventTime,
            timeZoneOffset: "+00:00",
            readPoint: action === "ship" || action === "receive" ? point : undefined,
            actor,
          });
          events.push({
            tokenId,
            eventId: event.eventId,
            eventType: event.eventType,
            action: event.action,
            bizStep: event.bizStep,
            disposition: DISPOSITION[action] ?? "active",
            eventTime,
            eventTimeZoneOffset: "+00:00",
            readPoint: event.readPoint,
            actorAddress: actor,
            fromState: from,
            toState: TO_STATE[action] ?? from,
            payload: event.document as object,
            eventHash: event.eventHash,
          });
          from = TO_STATE[action] ?? from;
        }
      }
      await tx.batchEvent.createMany({ data: events });

      // The same history goes on chain through the relayer: every mint first, then each step in order.
      const mints = plans.map(({ record, farm, hash }) => ({
        tokenId: tokenIds.get(record.clientId) ?? 0n,
        kind: "mint",
        args: { owner: farm.ownerAddress, contentHash: hash },
      }));
      const steps = plans.flatMap(({ record, state }) =>
        (PATHS[state] ?? []).map((action) => ({
          tokenId: tokenIds.get(record.clientId) ?? 0n,
          kind: action,
          args: action === "sell" ? { buyer } : action === "recall" ? { reason: "Demo recall" } : {},
        })),
      );
      await tx.chainJob.createMany({ data: [...mints, ...steps] });

      const transporters = await tx.transporter.createMany({
        data: Array.from({ length: 60 }, (_, index) => {
          const place = REGIONS[index % REGIONS.length] as (typeof REGIONS)[number];
          return {
            address:
              index === 0
                ? demoAccount("transporter").address.toLowerCase()
                : faker.finance.ethereumAddress().toLowerCase(),
            name: `${faker.company.name()} Logistics`,
            status: faker.helpers.weightedArrayElement([
              { weight: 6, value: "available" as const },
              { weight: 3, value: "busy" as const },
              { weight: 1, value: "offline" as const },
            ]),
            latitude: jitter(place.lat, 1),
            longitude: jitter(place.lng, 1),
          };
        }),
      });
      await tx.$queryRaw`SELECT refresh_crop_analytics_hourly('-infinity'::timestamptz)`;
      return { farms: farms.length, batches: inserted.length, events: events.length, transporters: transporters.count };
    },
    { timeout: 120_000, maxWait: 30_000 },
  );
}
