import { createHash, randomBytes } from "node:crypto";
import { and, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import type { SandpitDb } from "@/lib/db/open-database";
import { apiTokens, type ApiTokenRow } from "@/lib/db/schema";
import { ApiError } from "@/lib/http/api-error";

const TOKEN_PREFIX = "sp_";

const hashToken = (token: string) => createHash("sha256").update(token).digest("hex");

/** Makes a token for NAME; the token itself is returned once and only its SHA-256 is stored. */
export function createApiToken(db: SandpitDb, name: string): { id: string; name: string; token: string } {
  if (!/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/.test(name)) {
    throw new ApiError("validation", "token name must be 1–64 letters, digits, '.', '_', '@' or '-'");
  }
  const token = TOKEN_PREFIX + randomBytes(32).toString("base64url");
  const id = randomBytes(9).toString("base64url");
  db.insert(apiTokens).values({ id, name, tokenHash: hashToken(token), createdAt: Date.now() }).run();
  return { id, name, token };
}

export function listApiTokens(db: SandpitDb): Omit<ApiTokenRow, "tokenHash">[] {
  return db
    .select()
    .from(apiTokens)
    .all()
    .map(({ tokenHash: _hidden, ...rest }) => rest);
}

export function revokeApiToken(db: SandpitDb, idOrName: string): number {
  const now = Date.now();
  const byId = db.update(apiTokens).set({ revokedAt: now }).where(and(eq(apiTokens.id, idOrName), isNull(apiTokens.revokedAt))).run();
  if (byId.changes) return byId.changes;
  return db.update(apiTokens).set({ revokedAt: now }).where(and(eq(apiTokens.name, idOrName), isNull(apiTokens.revokedAt))).run().changes;
}

/** The token behind `Authorization: Bearer …`, or null when none was sent. A wrong token is a 401. */
export function authenticate(db: SandpitDb, request: Request): ApiTokenRow | null {
  const header = request.headers.get("authorization");
  if (!header) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new ApiError("unauthorized", "send the API token as 'Authorization: Bearer <token>'");
  const row = db
    .select()
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, hashToken(match[1])), isNull(apiTokens.revokedAt)))
    .get();
  if (!row) throw new ApiError("unauthorized", "invalid or revoked API token");
  db.update(apiTokens).set({ lastUsedAt: Date.now() }).where(eq(apiTokens.id, row.id)).run();
  return row;
}

/** `GET /api/v1/me`: who the token belongs to. */
export const whoAmISchema = z.object({ username: z.string().describe("The token's name."), tokenId: z.string() });

export function whoAmI(token: ApiTokenRow): z.infer<typeof whoAmISchema> {
  return { username: token.name, tokenId: token.id };
}

export function requireToken(db: SandpitDb, request: Request): ApiTokenRow {
  const token = authenticate(db, request);
  if (!token) throw new ApiError("unauthorized", "this endpoint needs an API token: 'Authorization: Bearer <token>' (make one with `npm run token -- create NAME`)");
  return token;
}
