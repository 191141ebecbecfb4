"use client";

import { useSyncExternalStore } from "react";
import { useRuntimes } from "@/components/ui/runtimes-context";
import { clearRecentRuns, readRecentRuns, subscribeRecentRuns, type RecentRun } from "./recent-runs-store";

const none: RecentRun[] = [];

/** Recent runs of this browser, each a link to its share page. */
export function RecentRuns() {
  const runtimes = useRuntimes();
  const runs = useSyncExternalStore(subscribeRecentRuns, readRecentRuns, () => none);
  return (
    <section aria-labelledby="recent-runs-heading" className="flex flex-col gap-2">
      <div className="flex items-center justify-between">
        <h2 id="recent-runs-heading" className="text-sm font-semibold">
          Recent runs
        </h2>
        {runs.length > 0 && (
          <button type="button" onClick={clearRecentRuns} className="text-xs text-neutral-500 underline hover:text-neutral-800 dark:hover:text-neutral-200">
            Clear
          </button>
        )}
      </div>
      {runs.length === 0 ? (
        <p className="text-xs text-neutral-500">Runs you start in this browser are listed here.</p>
      ) : (
        <ul className="flex flex-col gap-1 text-sm" data-testid="recent-runs">
          {runs.map((run) => (
            <li key={run.id}>
              <a href={`/r/${run.id}`} className="flex items-baseline gap-2 rounded px-1 py-0.5 hover:bg-neutral-100 dark:hover:bg-neutral-800">
                <span className="shrink-0 text-xs text-neutral-500">{runtimes.find(run.runtime)?.label ?? run.runtime}</span>
                <span className="truncate font-mono text-xs">{run.title}</span>
                <time className="ml-auto shrink-0 text-xs text-neutral-500" dateTime={new Date(run.at).toISOString()}>
                  {new Date(run.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}
                </time>
              </a>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
