import { webConfig } from "@/lib/config/web-config";
import { openDatabase, type SandpitDb } from "./open-database";

const globalKey = Symbol.for("sandpit.webDb");
type GlobalWithDb = typeof globalThis & { [globalKey]?: SandpitDb };

/** One connection per web process, shared by the Next.js bundle and the custom server. */
export function webDatabase(): SandpitDb {
  const holder = globalThis as GlobalWithDb;
  return (holder[globalKey] ??= openDatabase(webConfig().databasePath));
}
