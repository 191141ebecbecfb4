/**
 * One value per process, made on first use. The Next.js bundle (routes, server actions) and the custom server
 * load separate instances of each module, so a module-level variable would exist twice: the value lives on
 * globalThis under `Symbol.for("sandpit." + key)`, where both find the same one.
 */
export function processSingleton<T>(key: string, create: () => T): T {
  const holder = globalThis as typeof globalThis & Record<symbol, unknown>;
  const symbol = Symbol.for(`sandpit.${key}`);
  if (!(symbol in holder)) holder[symbol] = create();
  return holder[symbol] as T;
}

/** Forgets the value, so the next use makes it again (a connection promise that failed must not stick). */
export function forgetProcessSingleton(key: string): void {
  delete (globalThis as typeof globalThis & Record<symbol, unknown>)[Symbol.for(`sandpit.${key}`)];
}
