import { env } from "./lib/env.mjs";

/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  deploymentId: env.DEPLOYMENT_ID,
  serverExternalPackages: [
    "pino",
    "@electric-sql/pglite",
    "@electric-sql/pglite-socket",
    "@tus/file-store",
    "@tus/s3-store",
    "@aws-sdk/client-s3",
    "file-type",
  ],
  env: { NEXT_PUBLIC_BASE_URL: env.PUBLIC_BASE_URL },
};

export default nextConfig;
