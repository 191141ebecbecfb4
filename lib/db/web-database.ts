import { webConfig } from "@/lib/config/web-config";
import { forgetProcessSingleton, processSingleton } from "@/lib/os/process-singleton";
import { openDatabase, type SandpitDb } from "./open-database";

/**
 * One connection per web process, shared by the Next.js bundle and the custom server. A promise (opening is
 * async); one that failed is forgotten, so the next request tries again.
 */
export function webDatabase(): Promise<SandpitDb> {
  return processSingleton("webDb", () =>
    openDatabase(webConfig().database).catch((error: unknown) => {
      forgetProcessSingleton("webDb");
      throw error;
    }),
  );
}
