import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withDatabaseLock } from "@/lib/db/database-lock";
import { closeDatabase, type SandpitDb } from "@/lib/db/open-database";
import { closePostgres, openPostgres, type PostgresDb } from "@/lib/db/open-postgres";
import { freshPostgresDatabase } from "../support/postgres";
import { freshDatabase } from "../support/test-database";

let database: Awaited<ReturnType<typeof freshPostgresDatabase>>;
const pools: PostgresDb[] = [];

beforeAll(async () => {
  database = await freshPostgresDatabase();
  // Two web servers: each its own pool on the same database.
  for (let index = 0; index < 2; index++) pools.push(await openPostgres(database.url, { max: 4 }));
}, 300_000);

afterAll(async () => {
  await Promise.all(pools.map(closePostgres));
  await database?.drop();
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("withDatabaseLock: one critical section at a time across processes (PostgreSQL)", () => {
  it("never lets two servers' sections overlap, and runs every one", async () => {
    let inside = 0;
    let most = 0;
    let done = 0;
    await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        withDatabaseLock(pools[index % 2] as unknown as SandpitDb, "admission", async () => {
          inside++;
          most = Math.max(most, inside);
          // Queries of its own meanwhile, on the same pool (the lock holds one connection).
          await pools[index % 2].execute("SELECT 1");
          await pause(15);
          inside--;
          done++;
        }),
      ),
    );
    expect(done).toBe(12);
    expect(most).toBe(1);
  });

  it("releases the lock when the section throws", async () => {
    const db = pools[0] as unknown as SandpitDb;
    await expect(withDatabaseLock(db, "admission", () => Promise.reject(new Error("refused")))).rejects.toThrow("refused");
    expect(await withDatabaseLock(pools[1] as unknown as SandpitDb, "admission", () => Promise.resolve("next"))).toBe("next");
  });
});

describe("withDatabaseLock on this process's database", () => {
  it("runs the section and returns its value", async () => {
    const db = await freshDatabase();
    expect(await withDatabaseLock(db, "admission", () => Promise.resolve(42))).toBe(42);
    await closeDatabase(db).catch(() => undefined);
  });
});
