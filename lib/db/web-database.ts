import { webConfig } from "@/lib/config/web-config";
import { processSingleton } from "@/lib/os/process-singleton";
import { openDatabase, type SandpitDb } from "./open-database";

/** One connection per web process, shared by the Next.js bundle and the custom server. */
export function webDatabase(): SandpitDb {
  return processSingleton("webDb", () => openDatabase(webConfig().databasePath));
}
