import { closeDatabase, enableIncrementalVacuum, openDatabase } from "@/lib/db/open-database";
import { webConfig } from "@/lib/config/web-config";

async function main(): Promise<void> {
  // openDatabase applies pending drizzle migrations.
  const config = webConfig();
  const db = await openDatabase(config.database);
  try {
    if (enableIncrementalVacuum(db)) console.log("db: switched to incremental auto-vacuum (one VACUUM)");
  } finally {
    await closeDatabase(db);
  }
  // Never the URL: it carries the password.
  console.log(`db: migrated ${config.databaseUrl ? "PostgreSQL (DATABASE_URL)" : config.databasePath}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
