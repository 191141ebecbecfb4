import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { authenticate, createSandboxToken } from "@/lib/auth/api-tokens";
import type { SandpitDb } from "@/lib/db/open-database";
import { sandboxes } from "@/lib/db/schema";
import { endSandboxTree, orphanedChildren } from "@/lib/sandboxes/sandbox-lifecycle";
import { freshDatabase } from "../support/test-database";
import { insertSandbox } from "../support/test-rows";

async function freshDb() {
  return freshDatabase();
}

/** A sandbox worker w1 holds, `depth` levels down its tree (under `parentSandboxId`). */
const readySandbox = (db: SandpitDb, id: string, parentSandboxId: string | null, depth: number) =>
  insertSandbox(db, { id, status: "ready", workerId: "w1", parentSandboxId, depth });

const status = async (db: SandpitDb, id: string) => (await db.select().from(sandboxes).where(eq(sandboxes.id, id)))[0].status;
const asBearer = (token: string) => new Request("http://localhost/api/v1/sandboxes", { headers: { authorization: `Bearer ${token}` } });

describe("endSandboxTree", () => {
  it("ends the sandbox and its live descendants (the sandbox first, deepest last) and revokes their tokens", async () => {
    const db = await freshDb();
    await readySandbox(db, "root", null, 0);
    await readySandbox(db, "child", "root", 1);
    await readySandbox(db, "grandchild", "child", 2);
    await readySandbox(db, "other", null, 0);
    const { token } = await createSandboxToken(db, "grandchild", Date.now() + 60_000);
    expect(await authenticate(db, asBearer(token), { sandboxScoped: true })).not.toBeNull();

    const ended = await endSandboxTree(db, "root", "expired");
    expect(ended.map((row) => [row.id, row.status])).toEqual([
      ["root", "expired"],
      ["child", "deleted"],
      ["grandchild", "deleted"],
    ]);
    expect(ended[2].error).toBe("its parent sandbox root was expired");
    expect(await status(db, "other")).toBe("ready");
    await expect(authenticate(db, asBearer(token), { sandboxScoped: true })).rejects.toThrow(/invalid or revoked/);
    // Idempotent: nothing is left to end.
    expect(await endSandboxTree(db, "root", "deleted")).toEqual([]);
  });

  it("a child made after the tree was read is left under an ended parent, where the orphan sweep finds it", async () => {
    const db = await freshDb();
    await readySandbox(db, "root", null, 0);
    await endSandboxTree(db, "root", "deleted");
    await readySandbox(db, "late-child", "root", 1);
    expect((await orphanedChildren(db, "w1")).map((row) => row.id)).toEqual(["late-child"]);
  });
});
