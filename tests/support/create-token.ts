import { execFileSync } from "node:child_process";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");

/** Makes an API token for a stack exactly as an operator does: `npm run token -- create NAME` (its last line). */
export function createToken(dataDir: string, name: string): string {
  const output = execFileSync(process.execPath, ["--import", "tsx", "scripts/token.ts", "create", name], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", DATA_DIR: dataDir, NODE_ENV: "production" },
    encoding: "utf8",
  });
  return output.trim().split("\n").at(-1)!;
}

/** Many tokens at once, with the same library call the script makes, on the stack's own database file. */
export async function createTokens(dataDir: string, names: string[]): Promise<string[]> {
  const { closeDatabase, openDatabase } = await import("@/lib/db/open-database");
  const { createApiToken } = await import("@/lib/auth/api-tokens");
  const db = await openDatabase(path.join(dataDir, "sandpit.db"));
  try {
    const tokens: string[] = [];
    for (const name of names) tokens.push((await createApiToken(db, name)).token);
    return tokens;
  } finally {
    await closeDatabase(db);
  }
}
