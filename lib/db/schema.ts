import { processDialect } from "./database-dialect";
import * as postgres from "./postgres-schema";
import * as sqlite from "./sqlite-schema";

/**
 * The tables of this process's database (DATABASE_URL, read once here): the SQLite declarations, or in PostgreSQL
 * mode the tables derived from them (postgres-schema.ts). Typed as the SQLite ones either way: both have the same
 * columns under the same names and yield the same JS values, so domain code is written once.
 */
export {
  RUN_STATUSES,
  SANDBOX_STATUSES,
  TERMINAL_STATUSES,
  type ApiTokenRow,
  type RunChunkRow,
  type RunRow,
  type RunStatus,
  type SandboxRow,
  type SandboxStatus,
} from "./sqlite-schema";

const tables = (processDialect() === "postgres" ? postgres : sqlite) as unknown as typeof sqlite;

export const runs = tables.runs;
export const expiredRuns = tables.expiredRuns;
export const runChunks = tables.runChunks;
export const workers = tables.workers;
export const sandboxes = tables.sandboxes;
export const apiTokens = tables.apiTokens;
