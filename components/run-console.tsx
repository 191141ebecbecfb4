"use client";

import { useState, useTransition } from "react";
import { cancelRunAction } from "@/app/actions/cancel-run-action";
import { createRunAction } from "@/app/actions/create-run-action";
import { useRunStream } from "@/lib/realtime/use-run-stream";
import { RUNTIMES, RUNTIME_NAMES, type RuntimeName } from "@/lib/runtimes/catalog";

/** The minimal page: code, runtime, stdin, Run, and live output. */
export function RunConsole() {
  const [runtime, setRuntime] = useState<RuntimeName>("python");
  const [code, setCode] = useState(RUNTIMES.python.starter);
  const [stdin, setStdin] = useState("");
  const [runId, setRunId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [pending, startTransition] = useTransition();
  const stream = useRunStream(runId);
  const running = runId !== null && stream.end === null;

  const run = () =>
    startTransition(async () => {
      setError(null);
      const result = await createRunAction({ runtime, code, stdin });
      if (result.ok) setRunId(result.id);
      else setError(result.error);
    });

  const changeRuntime = (next: RuntimeName) => {
    if (code === RUNTIMES[runtime].starter) setCode(RUNTIMES[next].starter);
    setRuntime(next);
  };

  return (
    <main className="mx-auto flex max-w-4xl flex-col gap-4 p-4">
      <header className="flex items-center justify-between">
        <h1 className="text-2xl font-semibold">Sandpit</h1>
        <label className="flex items-center gap-2 text-sm">
          Runtime
          <select
            data-testid="runtime"
            className="rounded border border-neutral-300 bg-transparent px-2 py-1 dark:border-neutral-700"
            value={runtime}
            onChange={(event) => changeRuntime(event.target.value as RuntimeName)}
          >
            {RUNTIME_NAMES.map((name) => (
              <option key={name} value={name}>
                {RUNTIMES[name].label}
              </option>
            ))}
          </select>
        </label>
      </header>
      <label className="flex flex-col gap-1 text-sm">
        Code
        <textarea
          data-testid="code"
          className="h-64 rounded border border-neutral-300 bg-neutral-50 p-2 font-mono text-sm dark:border-neutral-700 dark:bg-neutral-900"
          spellCheck={false}
          value={code}
          onChange={(event) => setCode(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) run();
          }}
        />
      </label>
      <label className="flex flex-col gap-1 text-sm">
        Standard input
        <textarea
          data-testid="stdin"
          className="h-16 rounded border border-neutral-300 bg-neutral-50 p-2 font-mono text-sm dark:border-neutral-700 dark:bg-neutral-900"
          value={stdin}
          onChange={(event) => setStdin(event.target.value)}
        />
      </label>
      <div className="flex gap-2">
        <button
          data-testid="run"
          className="rounded bg-emerald-600 px-4 py-2 font-medium text-white disabled:opacity-50"
          disabled={pending || running}
          onClick={run}
        >
          {running ? "Running…" : "Run"}
        </button>
        {running && (
          <button className="rounded border border-neutral-400 px-4 py-2" onClick={() => void cancelRunAction(runId!)}>
            Cancel
          </button>
        )}
        {error && <p role="alert" className="self-center text-sm text-red-600">{error}</p>}
      </div>
      <section aria-label="Output" data-testid="output" className="min-h-32 overflow-auto rounded bg-neutral-900 p-3 font-mono text-sm text-neutral-100">
        {stream.chunks.map((chunk) => (
          <span key={chunk.seq} className={chunk.stream === "stderr" ? "text-red-400" : undefined} style={{ whiteSpace: "pre-wrap" }}>
            {chunk.data}
          </span>
        ))}
        {stream.end && (
          <p data-testid="status" className="mt-2 text-xs text-neutral-400">
            {stream.end.status} · exit {stream.end.exitCode ?? "–"} · {stream.end.durationMs ?? "–"} ms
            {stream.end.truncated && " · output truncated"}
            {stream.end.oomKilled && " · out of memory"}
            {stream.end.error && ` · ${stream.end.error}`}
          </p>
        )}
      </section>
    </main>
  );
}
