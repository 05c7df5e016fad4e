/** Set by server.ts on every request (any incoming value is replaced), read by the verification page. */
export const CLIENT_ADDRESS_HEADER = "x-greenledger-client-address";
