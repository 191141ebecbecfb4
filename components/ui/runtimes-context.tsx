"use client";

import { createContext, useContext, useMemo } from "react";
import type { ClientRuntime, RuntimeName } from "@/lib/runtimes/runtime-schema";

export type ClientRuntimeCatalog = {
  /** In picker order; the first is the default. */
  runtimes: readonly ClientRuntime[];
  defaultRuntime: ClientRuntime;
  find(name: string): ClientRuntime | undefined;
};

const RuntimesContext = createContext<ClientRuntimeCatalog | null>(null);

/**
 * Hands the runtime catalog to browser components: the root layout reads it on the server (lib/runtimes/catalog.ts)
 * and passes it here, so no client bundle reads images/ or carries its own list.
 */
export function RuntimesProvider({ runtimes, children }: { runtimes: ClientRuntime[]; children: React.ReactNode }) {
  const catalog = useMemo<ClientRuntimeCatalog>(() => {
    const byName = new Map(runtimes.map((runtime) => [runtime.name, runtime]));
    return { runtimes, defaultRuntime: runtimes[0], find: (name: RuntimeName) => byName.get(name) };
  }, [runtimes]);
  return <RuntimesContext.Provider value={catalog}>{children}</RuntimesContext.Provider>;
}

export function useRuntimes(): ClientRuntimeCatalog {
  const catalog = useContext(RuntimesContext);
  if (!catalog) throw new Error("useRuntimes outside RuntimesProvider (app/layout.tsx provides it)");
  return catalog;
}
