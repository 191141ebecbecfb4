import { defineConfig } from "drizzle-kit";

// PostgreSQL mode's migrations, from the tables derived from the SQLite declarations (lib/db/postgres-schema.ts):
// after changing lib/db/sqlite-schema.ts, `npm run db:generate` writes both.
export default defineConfig({
  dialect: "postgresql",
  schema: "./lib/db/postgres-schema.ts",
  out: "./drizzle-postgres",
});
