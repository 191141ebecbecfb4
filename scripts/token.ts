import { createApiToken, listApiTokens, revokeApiToken } from "@/lib/auth/api-tokens";
import { webConfig } from "@/lib/config/web-config";
import { closeDatabase, openDatabase } from "@/lib/db/open-database";

/** `npm run token -- create NAME | list | revoke ID_OR_NAME`. A new token is printed once, on the last line. */
async function main(): Promise<number> {
  const [command, argument] = process.argv.slice(2);
  const db = await openDatabase(webConfig().database);
  try {
    if (command === "create" && argument) {
      const created = await createApiToken(db, argument);
      console.error(`Created token ${created.id} for ${created.name}. It is shown once; only its SHA-256 is stored:`);
      console.log(created.token);
    } else if (command === "list") {
      for (const token of await listApiTokens(db)) {
        console.log(`${token.id}\t${token.name}\t${token.revokedAt ? "revoked" : "active"}\tcreated ${new Date(token.createdAt).toISOString()}`);
      }
    } else if (command === "revoke" && argument) {
      console.log((await revokeApiToken(db, argument)) ? `revoked ${argument}` : `no active token ${argument}`);
    } else {
      console.error("usage: npm run token -- create NAME | list | revoke ID_OR_NAME");
      return 2;
    }
    return 0;
  } finally {
    await closeDatabase(db);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
