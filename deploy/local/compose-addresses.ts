import type { Address } from "@/deploy/local/haproxy";

/** Where deploy/compose.yaml's web services listen, and the networks its instances purge the page cache from. */
export const COMPOSE_WEB: Address[] = [
  { host: "web1", port: 3000 },
  { host: "web2", port: 3000 },
];
export const COMPOSE_PURGERS = ["localhost", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];
