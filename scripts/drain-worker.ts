import { webConfig } from "@/lib/config/web-config";
import { closeDatabase, openDatabase } from "@/lib/db/open-database";
import { describeLiveWorkers, requestDrain } from "@/lib/workers/worker-registry";

/**
 * `npm run worker:drain -- WORKER_ID`: marks a worker draining (README "Draining a worker"). The worker sees it with
 * its next heartbeat, claims nothing new, lets its runs and sandboxes finish and exits. Without an id: the live workers.
 */
const [workerId] = process.argv.slice(2);
const db = await openDatabase(webConfig().databasePath);

const listWorkers = async () => {
  for (const worker of await describeLiveWorkers(db)) {
    const load = worker.capacity ? `${worker.capacity.activeRuns} run(s), ${worker.capacity.liveSandboxes} sandbox(es)` : "no capacity reported";
    console.log(`${worker.id}\t${worker.hostname}\t${worker.draining ? "draining" : "serving"}\t${load}`);
  }
};

if (!workerId) {
  console.error("usage: npm run worker:drain -- WORKER_ID   (live workers below)");
  await listWorkers();
  process.exitCode = 2;
} else if (await requestDrain(db, workerId)) {
  console.log(`worker ${workerId} is draining: it claims nothing new and exits once its runs and sandboxes are done`);
} else {
  console.error(`no registered worker ${workerId}; live workers:`);
  await listWorkers();
  process.exitCode = 1;
}
await closeDatabase(db);
