// `server-only` throws outside Next's react-server build; the custom server (tsconfig.server.json) maps it here.
export {};
