import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // better-sqlite3 and dockerode are native/Node-only; never bundle them.
  serverExternalPackages: ["better-sqlite3"],
  poweredByHeader: false,
};

export default nextConfig;
