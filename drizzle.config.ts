import { defineConfig } from "drizzle-kit";

// The SQLite declarations themselves, not schema.ts: that one holds PostgreSQL's tables when DATABASE_URL says so.
export default defineConfig({
  dialect: "sqlite",
  schema: "./lib/db/sqlite-schema.ts",
  out: "./drizzle",
});
