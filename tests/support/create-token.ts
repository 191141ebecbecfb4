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
