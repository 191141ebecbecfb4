import { closeDatabase, enableIncrementalVacuum, openDatabase } from "@/lib/db/open-database";
import { webConfig } from "@/lib/config/web-config";

async function main(): Promise<void> {
  // openDatabase applies pending drizzle migrations.
  const path = webConfig().databasePath;
  const db = await openDatabase(path);
  try {
    if (enableIncrementalVacuum(db)) console.log("db: switched to incremental auto-vacuum (one VACUUM)");
  } finally {
    await closeDatabase(db);
  }
  console.log(`db: migrated ${path}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
