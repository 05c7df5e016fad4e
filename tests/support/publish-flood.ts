import { redisBus } from "@/lib/tracking/bus";

// A stand-in for a burst of positions on one batch, as its own low-priority process: the test that uses it measures
// other watchers' delivery, and the publishing must not take their CPU. Usage: <redis url> <key prefix> <token id>.
const [url = "", prefix = "", tokenId = ""] = process.argv.slice(2);
const bus = redisBus(url, prefix);
const PER_TICK = 80;
const fix = { lat: 52, lng: 4.3, accuracy: 5 };

setInterval(() => {
  for (let index = 0; index < PER_TICK; index += 1) void bus.publish(tokenId, { ...fix, time: new Date() });
}, 10);
process.on("SIGTERM", () => {
  void bus.close().then(() => process.exit(0));
});
