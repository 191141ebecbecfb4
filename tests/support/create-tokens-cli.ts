/**
 * `node --import tsx tests/support/create-tokens-cli.ts NAME…`: one API token per name, printed one per line, made
 * exactly as `npm run token -- create NAME` makes one (scripts/token.ts), in the database this process's
 * environment names: a test's cluster makes its clients' tokens in one process instead of one each.
 */
import { createApiToken } from "@/lib/auth/api-tokens";
import { webConfig } from "@/lib/config/web-config";
import { closeDatabase, openDatabase } from "@/lib/db/open-database";

const db = await openDatabase(webConfig().database);
try {
  for (const name of process.argv.slice(2)) console.log((await createApiToken(db, name)).token);
} finally {
  await closeDatabase(db);
}
