import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closePostgres, openPostgres, type PostgresDb } from "@/lib/db/open-postgres";
import { rootCause, storageFault } from "@/lib/errors/sandpit-error";
import { freshPostgresDatabase } from "../support/postgres";

let database: Awaited<ReturnType<typeof freshPostgresDatabase>>;
let db: PostgresDb;

beforeAll(async () => {
  database = await freshPostgresDatabase();
  db = await openPostgres(database.url, { max: 3 });
}, 300_000);

afterAll(async () => {
  await closePostgres(db);
  await database?.drop();
});

const failureOf = async (query: Promise<unknown>) =>
  query.then(
    () => expect.fail("the query should have failed"),
    (error: unknown) => error,
  );

/** Real failures from a real server and driver, not hand-made error objects: what a request meets when PostgreSQL is away. */
describe("PostgreSQL faults are the platform's: 503 to retry, nothing leaked", () => {
  it("a server that refuses connections", async () => {
    const pool = new pg.Pool({ connectionString: "postgresql://sandpit:x@127.0.0.1:1/sandpit", connectionTimeoutMillis: 2_000 });
    const error = await failureOf(drizzle(pool).execute(sql`SELECT 1`));
    await pool.end();
    expect(storageFault(error)).toMatchObject({ code: "unavailable", details: { retryAfterS: 2 } });
  });

  it("a session the server ends mid-query (what a restart does), and the pool carries on after it", async () => {
    const running = failureOf(db.execute(sql`SELECT pg_sleep(10) /* victim */`));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await db.$client.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%/* victim */%' AND pid <> pg_backend_pid()");
    const error = await running;
    expect(storageFault(error)).toMatchObject({ code: "unavailable" });
    // drizzle's wrapper names the query and its parameters; the cause is the driver's own, short message.
    expect((rootCause(error) as Error).message).not.toMatch(/pg_sleep/);
    expect((await db.execute<{ one: number }>(sql`SELECT 1 AS one`)).rows).toEqual([{ one: 1 }]);
  });

  it("a statement past its timeout", async () => {
    const client = await db.$client.connect();
    try {
      await client.query("SET statement_timeout = 50");
      const error = await failureOf(drizzle(client).execute(sql`SELECT pg_sleep(2)`));
      expect(storageFault(error)).toMatchObject({ code: "unavailable" });
    } finally {
      await client.query("RESET statement_timeout");
      client.release();
    }
  });

  it("but not the caller's or the code's errors", async () => {
    expect(storageFault(await failureOf(db.execute(sql`SELECT * FROM no_such_table`)))).toBeUndefined();
    expect(storageFault(await failureOf(db.execute(sql`INSERT INTO expired_runs (id, expired_at) VALUES ('a', 1), ('a', 1)`)))).toBeUndefined();
  });
});
