import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closePostgres, openPostgres, type PostgresDb } from "@/lib/db/open-postgres";
import { runs, sandboxes } from "@/lib/db/postgres-schema";
import { claimNextRunPostgres } from "@/lib/runs/claim-next-run-postgres";
import { freshPostgresDatabase } from "../support/postgres";
import { queuedRunValues, sandboxValues } from "../support/test-rows";

/** Real PostgreSQL (scripts/ensure-postgres.sh): the claim's locking is the server's, so it is tested on one. */
let database: Awaited<ReturnType<typeof freshPostgresDatabase>>;
const opened: PostgresDb[] = [];
let db: PostgresDb;

beforeAll(async () => {
  database = await freshPostgresDatabase();
  db = await connect();
}, 300_000);

afterAll(async () => {
  await Promise.all(opened.map(closePostgres));
  await database?.drop();
});

async function connect(max = 4): Promise<PostgresDb> {
  const connection = await openPostgres(database.url, { max });
  opened.push(connection);
  return connection;
}

async function reset() {
  await db.execute(sql`TRUNCATE runs, sandboxes RESTART IDENTITY CASCADE`);
}

async function queue(owner: string, count: number, sandboxId: string | null = null): Promise<string[]> {
  const ids: string[] = [];
  // One at a time: seq order is queue order.
  for (let index = 0; index < count; index++) {
    const run = queuedRunValues({ ownerKey: owner, sandboxId });
    await db.insert(runs).values(run);
    ids.push(run.id);
  }
  return ids;
}

const ownerOf = async (id: string) => (await db.select({ owner: runs.ownerKey }).from(runs).where(eq(runs.id, id)))[0].owner as string;

describe("claimNextRunPostgres: the fair order of the SQLite claim", () => {
  it("alternates owners by fewest running, each owner's oldest first", async () => {
    await reset();
    const a = await queue("token:a", 6);
    const b = await queue("token:b", 2);
    const c = await queue("addr:10.1.1.1", 1);
    const claimed: string[] = [];
    for (let turn = 0; turn < 9; turn++) claimed.push((await claimNextRunPostgres(db, "w", "runc"))!.id);
    expect(claimed).toEqual([a[0], b[0], c[0], a[1], b[1], a[2], a[3], a[4], a[5]]);
    expect(await claimNextRunPostgres(db, "w", "runc")).toBeUndefined();
  });

  it("returns the claimed row in the schema's shape, attempts counted", async () => {
    await reset();
    const [id] = await queue("token:a", 1);
    const run = (await claimNextRunPostgres(db, "w7", "runsc"))!;
    expect(run).toMatchObject({ id, status: "running", workerId: "w7", containerRuntime: "runsc", attempts: 1, oomKilled: false });
    expect(typeof run.claimedAt).toBe("number");
  });

  it("holds each owner to its running limit, anonymous owners to theirs", async () => {
    await reset();
    await queue("token:a", 5);
    await queue("addr:10.0.0.9", 3);
    const limits = { ownerMaxRunning: 2, anonymousMaxRunning: 1 };
    const claimed: string[] = [];
    for (let run; (run = await claimNextRunPostgres(db, "w", "runc", limits));) claimed.push(await ownerOf(run.id));
    expect(claimed.sort()).toEqual(["addr:10.0.0.9", "token:a", "token:a"]);
    await db.execute(
      sql`UPDATE runs SET status = 'succeeded', finished_at = ${Date.now()} WHERE seq = (SELECT min(seq) FROM runs WHERE status = 'running' AND owner_key = 'token:a')`,
    );
    expect(await ownerOf((await claimNextRunPostgres(db, "w", "runc", limits))!.id)).toBe("token:a");
    expect(await claimNextRunPostgres(db, "w", "runc", limits)).toBeUndefined();
    expect(await ownerOf((await claimNextRunPostgres(db, "w", "runc"))!.id)).toBe("addr:10.0.0.9");
  });

  it("gives a sandbox's runs only to the worker holding the sandbox", async () => {
    await reset();
    await db.insert(sandboxes).values(sandboxValues({ id: "sb1", workerId: "holder" }));
    const [inSandbox] = await queue("token:a", 1, "sb1");
    expect(await claimNextRunPostgres(db, "other", "runc")).toBeUndefined();
    expect((await claimNextRunPostgres(db, "holder", "runc"))!.id).toBe(inSandbox);
  });
});

describe("claimNextRunPostgres: many workers at once", () => {
  /** Workers on their own connection pools (as on separate hosts), several claim loops each, until the queue is empty. */
  async function claimAllConcurrently(workers: PostgresDb[], loopsPerWorker: number, limits?: { ownerMaxRunning: number; anonymousMaxRunning: number }) {
    const claims: { runId: string; workerId: string }[] = [];
    await Promise.all(
      workers.flatMap((worker, index) =>
        Array.from({ length: loopsPerWorker }, async () => {
          for (let run; (run = await claimNextRunPostgres(worker, `w${index}`, "runc", limits));) claims.push({ runId: run.id, workerId: `w${index}` });
        }),
      ),
    );
    return claims;
  }

  it("300 runs, 3 workers × 6 claim loops: every run claimed exactly once", async () => {
    await reset();
    const queued = (await Promise.all(Array.from({ length: 20 }, (_, client) => queue(`token:client${client}`, 15)))).flat();
    const workers = [await connect(6), await connect(6), await connect(6)];
    const claims = await claimAllConcurrently(workers, 6);
    expect(claims).toHaveLength(300);
    expect(new Set(claims.map((claim) => claim.runId)).size).toBe(300);
    expect(new Set(claims.map((claim) => claim.runId))).toEqual(new Set(queued));
    // Each worker did share the work (SKIP LOCKED: nobody waits for another's lock).
    for (const worker of ["w0", "w1", "w2"]) expect(claims.filter((claim) => claim.workerId === worker).length).toBeGreaterThan(0);
    const rows = await db.select({ status: runs.status, attempts: runs.attempts }).from(runs);
    expect(rows.every((row) => row.status === "running" && row.attempts === 1)).toBe(true);
  });

  it("running limits hold under concurrent claims of one owner's runs", async () => {
    await reset();
    await queue("token:big", 60);
    await queue("addr:10.9.9.9", 20);
    await queue("token:small", 2);
    const workers = [await connect(6), await connect(6), await connect(6)];
    const claims = await claimAllConcurrently(workers, 6, { ownerMaxRunning: 3, anonymousMaxRunning: 1 });
    const counts = new Map<string, number>();
    for (const claim of claims) {
      const owner = await ownerOf(claim.runId);
      counts.set(owner, (counts.get(owner) ?? 0) + 1);
    }
    expect(Object.fromEntries(counts)).toEqual({ "token:big": 3, "addr:10.9.9.9": 1, "token:small": 2 });
  });
});
