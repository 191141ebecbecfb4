import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { getTableColumns, getTableName, is } from "drizzle-orm";
import { getTableConfig as pgTableConfig, PgTable } from "drizzle-orm/pg-core";
import { getTableConfig as sqliteTableConfig, SQLiteTable } from "drizzle-orm/sqlite-core";
import { afterAll, describe, expect, it } from "vitest";
import * as postgres from "@/lib/db/postgres-schema";
import * as sqlite from "@/lib/db/sqlite-schema";

const sqliteTables = Object.entries(sqlite as Record<string, unknown>).filter((entry): entry is [string, SQLiteTable] => is(entry[1], SQLiteTable));
const postgresTables = Object.entries(postgres as Record<string, unknown>).filter((entry): entry is [string, PgTable] => is(entry[1], PgTable));

/** What both dialects must agree on, in dialect-free terms. */
function shape(table: SQLiteTable | PgTable) {
  const config = is(table, PgTable) ? pgTableConfig(table) : sqliteTableConfig(table);
  return {
    name: config.name,
    columns: Object.entries(getTableColumns(table)).map(([key, column]) => ({
      key,
      name: column.name,
      notNull: column.notNull,
      primary: column.primary,
      unique: column.isUnique && column.uniqueName,
      default: column.hasDefault,
      enum: column.enumValues,
    })),
    indexes: config.indexes.map((index) => ({
      name: index.config.name,
      unique: index.config.unique,
      columns: index.config.columns.map((column) => (column as { name: string }).name),
    })),
    primaryKeys: config.primaryKeys.map((key) => ({ name: key.getName(), columns: key.columns.map((column) => column.name) })),
    foreignKeys: config.foreignKeys.map((key) => {
      const reference = key.reference();
      return {
        name: key.getName(),
        columns: reference.columns.map((column) => column.name),
        foreignColumns: reference.foreignColumns.map((column) => `${getTableName(column.table)}.${column.name}`),
        onDelete: key.onDelete ?? "no action",
      };
    }),
  };
}

describe("the PostgreSQL schema is derived from the SQLite one", () => {
  it("declares every table, column, index and key of the SQLite schema, under the same names", () => {
    expect(sqliteTables.length).toBeGreaterThan(5);
    expect(postgresTables.map(([key]) => key).sort()).toEqual(sqliteTables.map(([key]) => key).sort());
    for (const [key, table] of sqliteTables) {
      const twin = postgres[key as keyof typeof postgres] as PgTable;
      const expected = shape(table);
      expect(shape(twin), key).toEqual(expected);
      expect(expected.columns.length).toBeGreaterThan(1);
    }
    // The kinds of index and key the derivation must carry over are all exercised by the schema.
    expect(pgTableConfig(postgres.runChunks).foreignKeys[0].onDelete).toBe("cascade");
    expect(pgTableConfig(postgres.runChunks).primaryKeys).toHaveLength(1);
  });

  it("stores times as bigint (ms past 2038), booleans as boolean and keys as identity columns", () => {
    const columns = getTableColumns(postgres.runs);
    expect(columns.queuedAt.getSQLType()).toBe("bigint");
    expect(columns.oomKilled.getSQLType()).toBe("boolean");
    expect(columns.status.getSQLType()).toBe("text");
    expect(columns.seq.generatedIdentity?.type).toBe("byDefault");
    expect(columns.queuedAt.mapFromDriverValue("1893456000000")).toBe(1_893_456_000_000);
  });
});

describe("the committed migrations match the schema", () => {
  const scratch = mkdtempSync(path.join(os.tmpdir(), "sandpit-migrations-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  // drizzle-kit generate writes a migration for whatever the committed ones lack: on a copy, it must write none.
  it.each([
    ["postgresql", "lib/db/postgres-schema.ts", "drizzle-postgres"],
    ["sqlite", "lib/db/sqlite-schema.ts", "drizzle"],
  ])("%s: drizzle-kit generate finds nothing to add", (dialect, schema, folder) => {
    const copy = path.join(scratch, folder);
    cpSync(folder, copy, { recursive: true });
    const before = readdirSync(copy).sort();
    // drizzle-kit only takes an output folder relative to the working directory.
    const output = execFileSync(
      "npx",
      ["drizzle-kit", "generate", "--dialect", dialect, "--schema", `./${schema}`, "--out", `./${path.relative(process.cwd(), copy)}`],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 },
    );
    expect(output).toContain("No schema changes");
    expect(readdirSync(copy).sort()).toEqual(before);
  });
});
