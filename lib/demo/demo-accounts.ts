import { mnemonicToAccount } from "viem/accounts";
import type { Role } from "@/lib/generated/prisma/enums";

// The well-known development mnemonic (anvil/hardhat): demo and test accounts only, never real funds.
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";

const ROLES: Role[] = ["admin", "farmer", "transporter", "inspector", "buyer"];

export function demoAccount(role: Role) {
  return mnemonicToAccount(DEV_MNEMONIC, { addressIndex: ROLES.indexOf(role) });
}

export const DEMO_USERS = ROLES.map((role) => ({ role, address: demoAccount(role).address.toLowerCase() }));
