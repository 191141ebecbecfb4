import { enableIncrementalVacuum, openDatabase } from "@/lib/db/open-database";
import { webConfig } from "@/lib/config/web-config";

// openDatabase applies pending drizzle migrations.
const path = webConfig().databasePath;
const db = openDatabase(path);
if (enableIncrementalVacuum(db)) console.log("db: switched to incremental auto-vacuum (one VACUUM)");
db.$client.close();
console.log(`db: migrated ${path}`);
