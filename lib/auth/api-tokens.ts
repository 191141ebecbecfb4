import { createHash, randomBytes } from "node:crypto";
import { and, eq, inArray, isNull } from "drizzle-orm";
import { z } from "zod";
import type { SandpitDb } from "@/lib/db/open-database";
import { apiTokens, sandboxes, type ApiTokenRow } from "@/lib/db/schema";
import { SandpitError } from "@/lib/errors/sandpit-error";

const TOKEN_PREFIX = "sp_";

const hashToken = (token: string) => createHash("sha256").update(token).digest("hex");

/** Makes a token for NAME; the token itself is returned once and only its SHA-256 is stored. */
export async function createApiToken(db: SandpitDb, name: string): Promise<{ id: string; name: string; token: string }> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/.test(name)) {
    throw new SandpitError("validation", "token name must be 1–64 letters, digits, '.', '_', '@' or '-'");
  }
  const token = TOKEN_PREFIX + randomBytes(32).toString("base64url");
  const id = randomBytes(9).toString("base64url");
  await db.insert(apiTokens).values({ id, name, tokenHash: hashToken(token), createdAt: Date.now() });
  return { id, name, token };
}

/**
 * A nested sandbox's token (the worker makes it when it provisions the sandbox and keeps it outside the
 * container: its API channel adds it to each request). It acts only on the sandbox's descendants, only
 * through the sandbox routes, and only while the sandbox lives.
 */
export async function createSandboxToken(db: SandpitDb, sandboxId: string, expiresAt: number): Promise<{ id: string; token: string }> {
  const token = TOKEN_PREFIX + randomBytes(32).toString("base64url");
  const id = randomBytes(9).toString("base64url");
  await db.insert(apiTokens).values({ id, name: `sandbox-${sandboxId.slice(0, 8)}`, tokenHash: hashToken(token), createdAt: Date.now(), sandboxId, expiresAt });
  return { id, token };
}

/** Ends the tokens of sandboxes that ended (they would fail the liveness check anyway; this makes it visible). */
export async function revokeSandboxTokens(db: SandpitDb, sandboxIds: string[]): Promise<void> {
  if (!sandboxIds.length) return;
  await db
    .update(apiTokens)
    .set({ revokedAt: Date.now() })
    .where(and(inArray(apiTokens.sandboxId, sandboxIds), isNull(apiTokens.revokedAt)));
}

export async function listApiTokens(db: SandpitDb): Promise<Omit<ApiTokenRow, "tokenHash">[]> {
  const rows = await db.select().from(apiTokens).where(isNull(apiTokens.sandboxId));
  return rows.map(({ tokenHash: _hidden, ...rest }) => rest);
}

export async function revokeApiToken(db: SandpitDb, idOrName: string): Promise<number> {
  const now = Date.now();
  const byId = await db
    .update(apiTokens)
    .set({ revokedAt: now })
    .where(and(eq(apiTokens.id, idOrName), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id });
  if (byId.length) return byId.length;
  const byName = await db
    .update(apiTokens)
    .set({ revokedAt: now })
    .where(and(eq(apiTokens.name, idOrName), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id });
  return byName.length;
}

export type TokenUse = {
  /** The sandbox routes accept a nested sandbox's token; everything else refuses it. */
  sandboxScoped?: boolean;
};

/** The token behind `Authorization: Bearer …`, or null when none was sent. A wrong token is a 401. */
export async function authenticate(db: SandpitDb, request: Request, use: TokenUse = {}): Promise<ApiTokenRow | null> {
  const header = request.headers.get("authorization");
  if (!header) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new SandpitError("unauthorized", "send the API token as 'Authorization: Bearer <token>'");
  const [row] = await db
    .select()
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, hashToken(match[1])), isNull(apiTokens.revokedAt)))
    .limit(1);
  if (!row) throw new SandpitError("unauthorized", "invalid or revoked API token");
  if (row.sandboxId) {
    if (!use.sandboxScoped) throw new SandpitError("unauthorized", "a sandbox's token may use the sandbox API (/api/v1/sandboxes) only");
    const [holder] = await db
      .select({ status: sandboxes.status, expiresAt: sandboxes.expiresAt })
      .from(sandboxes)
      .where(eq(sandboxes.id, row.sandboxId))
      .limit(1);
    const now = Date.now();
    if (!holder || holder.status !== "ready" || holder.expiresAt <= now || (row.expiresAt !== null && row.expiresAt <= now)) {
      throw new SandpitError("unauthorized", "this sandbox token expired with its sandbox");
    }
  }
  await db.update(apiTokens).set({ lastUsedAt: Date.now() }).where(eq(apiTokens.id, row.id));
  return row;
}

/** `GET /api/v1/me`: who the token belongs to. */
export const whoAmISchema = z.object({ username: z.string().describe("The token's name."), tokenId: z.string() });

export function whoAmI(token: ApiTokenRow): z.infer<typeof whoAmISchema> {
  return { username: token.name, tokenId: token.id };
}

export async function requireToken(db: SandpitDb, request: Request, use: TokenUse = {}): Promise<ApiTokenRow> {
  const token = await authenticate(db, request, use);
  if (!token)
    throw new SandpitError("unauthorized", "this endpoint needs an API token: 'Authorization: Bearer <token>' (make one with `npm run token -- create NAME`)");
  return token;
}
