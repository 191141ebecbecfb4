import { openDatabase } from "@/lib/db/open-database";
import { webConfig } from "@/lib/config/web-config";

// openDatabase applies pending drizzle migrations.
const path = webConfig().databasePath;
openDatabase(path).$client.close();
console.log(`db: migrated ${path}`);
