import { getTableColumns, is, SQL } from "drizzle-orm";
import {
  bigint,
  boolean,
  foreignKey,
  index,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
  type PgColumn,
  type PgColumnBuilderBase,
  type PgTableWithColumns,
} from "drizzle-orm/pg-core";
import { getTableConfig, SQLiteBaseInteger, type SQLiteColumn, type SQLiteTable } from "drizzle-orm/sqlite-core";
import * as sqlite from "./sqlite-schema";

/**
 * PostgreSQL's tables, derived from the SQLite declarations (sqlite-schema.ts stays the one place a table is
 * declared): same table, column, index and constraint names; integers (times in ms among them) become bigint
 * read as JS numbers, SQLite's integer booleans real booleans, autoincrement keys identity columns.
 * drizzle-postgres.config.ts generates drizzle-postgres/ from this file; tests/unit/postgres-schema.test.ts checks
 * both dialects declare the same things and the committed migrations match.
 */
export type DerivedPgTable = PgTableWithColumns<{ name: string; schema: undefined; columns: Record<string, PgColumn>; dialect: "pg" }>;

const derived = new Map<SQLiteTable, DerivedPgTable>();

function toPostgresColumn(column: SQLiteColumn): PgColumnBuilderBase {
  // Untyped from here: the builders' precise generics describe one literal column each, not a mapping.
  let builder: any;
  switch (column.columnType) {
    case "SQLiteInteger":
      builder = bigint(column.name, { mode: "number" });
      if ((column as SQLiteBaseInteger<never>).autoIncrement) builder = builder.generatedByDefaultAsIdentity();
      break;
    case "SQLiteBoolean":
      builder = boolean(column.name);
      break;
    case "SQLiteText":
      builder = column.enumValues?.length ? text(column.name, { enum: column.enumValues as [string, ...string[]] }) : text(column.name);
      break;
    default:
      // A new kind of column needs its PostgreSQL counterpart chosen here, not guessed.
      throw new Error(`postgres-schema: no PostgreSQL type for ${column.columnType} (${column.name})`);
  }
  if (column.primary) builder = builder.primaryKey();
  if (column.notNull) builder = builder.notNull();
  if (column.default !== undefined) builder = builder.default(column.default);
  if (column.defaultFn) builder = builder.$defaultFn(column.defaultFn);
  if (column.onUpdateFn) builder = builder.$onUpdateFn(column.onUpdateFn);
  if (column.isUnique) builder = builder.unique(column.uniqueName);
  return builder;
}

/** A column's property name in its table (the key code uses), which both dialects share. */
function keyOf(column: SQLiteColumn | SQL, tableName: string): string {
  if (is(column, SQL)) throw new Error(`postgres-schema: ${tableName}: expression indexes are not derived yet`);
  const key = Object.entries(getTableColumns(column.table)).find(([, candidate]) => candidate === column)?.[0];
  if (key === undefined) throw new Error(`postgres-schema: ${tableName}: column ${column.name} is not in its table`);
  return key;
}

const nonEmpty = <T>(items: T[]) => items as [T, ...T[]];

function toPostgresTable(table: SQLiteTable): DerivedPgTable {
  const config = getTableConfig(table);
  const columns = Object.fromEntries(Object.entries(getTableColumns(table)).map(([key, column]) => [key, toPostgresColumn(column)]));
  if (config.checks.length || config.uniqueConstraints.length) {
    throw new Error(`postgres-schema: ${config.name}: checks and table-level unique constraints are not derived yet`);
  }
  // Called when drizzle first reads the table's config: by then every table it refers to is derived.
  const result = pgTable(config.name, columns, (own) => {
    const on = (column: SQLiteColumn | SQL) => own[keyOf(column, config.name)] as PgColumn;
    return [
      ...config.indexes.map(({ config: { name, columns: indexed, unique, where } }) => {
        if (where) throw new Error(`postgres-schema: ${name}: partial indexes are not derived yet`);
        return (unique ? uniqueIndex(name) : index(name)).on(...nonEmpty(indexed.map(on)));
      }),
      ...config.primaryKeys.map((key) => primaryKey({ name: key.getName(), columns: nonEmpty(key.columns.map(on)) })),
      ...config.foreignKeys.map((key) => {
        const reference = key.reference();
        const target = derived.get(reference.foreignTable);
        if (!target) throw new Error(`postgres-schema: ${config.name} refers to a table that is not derived`);
        let builder = foreignKey({
          name: key.getName(),
          columns: nonEmpty(reference.columns.map(on)),
          foreignColumns: nonEmpty(reference.foreignColumns.map((column) => target[keyOf(column, config.name)] as PgColumn)),
        });
        if (key.onDelete) builder = builder.onDelete(key.onDelete);
        if (key.onUpdate) builder = builder.onUpdate(key.onUpdate);
        return builder;
      }),
    ];
  }) as unknown as DerivedPgTable;
  derived.set(table, result);
  return result;
}

// Declaration order: a table after those its foreign keys refer to.
export const runs = toPostgresTable(sqlite.runs);
export const expiredRuns = toPostgresTable(sqlite.expiredRuns);
export const runChunks = toPostgresTable(sqlite.runChunks);
export const workers = toPostgresTable(sqlite.workers);
export const sandboxes = toPostgresTable(sqlite.sandboxes);
export const apiTokens = toPostgresTable(sqlite.apiTokens);
