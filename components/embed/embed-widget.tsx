"use client";

import { useCallback, useEffect, useRef, useState, useTransition } from "react";
import { cancelRunAction } from "@/app/actions/cancel-run-action";
import { createRunAction } from "@/app/actions/create-run-action";
import { CodeEditor } from "@/components/editor/code-editor";
import { RunOutput } from "@/components/console/run-output";
import { RuntimeSelect } from "@/components/ui/runtime-select";
import type { RunChunkEvent, RunEndEvent } from "@/lib/realtime/events";
import { useRunStream } from "@/lib/realtime/use-run-stream";
import { useRuntimes } from "@/components/ui/runtimes-context";
import type { RuntimeName } from "@/lib/runtimes/runtime-schema";

export type EmbedWidgetProps = {
  runtime: RuntimeName;
  code: string;
  stdin?: string;
  readOnly: boolean;
  autorun: boolean;
  /** A saved run to show until the reader runs the code again. */
  initialRun?: { id: string; chunks: RunChunkEvent[]; end: RunEndEvent | null; startedAt: number | null } | null;
  /** Where "Open in Sandpit" leads. */
  playgroundHref: string;
  notice?: string | null;
};

/** The compact widget other sites frame: editor, Run, output; it tells its parent how tall it is. */
export function EmbedWidget({
  runtime: initialRuntime,
  code: initialCode,
  stdin = "",
  readOnly,
  autorun,
  initialRun,
  playgroundHref,
  notice,
}: EmbedWidgetProps) {
  const [runtime, setRuntime] = useState<RuntimeName>(initialRuntime);
  const runtimes = useRuntimes();
  const runtimeInfo = runtimes.find(runtime) ?? runtimes.defaultRuntime;
  const [code, setCode] = useState(initialCode);
  const [runId, setRunId] = useState<string | null>(initialRun?.id ?? null);
  const [error, setError] = useState<string | null>(notice ?? null);
  const [pending, startTransition] = useTransition();
  const showingInitial = initialRun && runId === initialRun.id;
  const stream = useRunStream(
    runId,
    showingInitial ? { initialChunks: initialRun.chunks, initialEnd: initialRun.end, initialStartedAt: initialRun.startedAt } : {},
  );
  const running = runId !== null && stream.end === null;
  const rootRef = useRef<HTMLDivElement>(null);
  const codeRef = useRef(code);
  codeRef.current = code;
  const runtimeRef = useRef(runtime);
  runtimeRef.current = runtime;
  const busyRef = useRef(false);
  busyRef.current = pending || running;

  const run = useCallback(() => {
    if (busyRef.current) return;
    busyRef.current = true;
    startTransition(async () => {
      setError(null);
      const result = await createRunAction({ source: "embed", request: { runtime: runtimeRef.current, code: codeRef.current, stdin } });
      if (result.ok) setRunId(result.id);
      else setError(result.error);
    });
  }, [stdin]);

  useEffect(() => {
    if (autorun) run();
  }, [autorun, run]);

  // Tell the embedding page our height, so it can size the iframe to fit.
  useEffect(() => {
    const element = rootRef.current;
    if (!element || window.parent === window) return;
    let last = -1;
    const report = () => {
      const height = Math.ceil(element.getBoundingClientRect().height);
      if (height === last) return;
      last = height;
      window.parent.postMessage({ type: "sandpit:height", height }, "*");
    };
    const observer = new ResizeObserver(report);
    observer.observe(element);
    report();
    return () => observer.disconnect();
  }, []);

  const lines = code.split("\n").length;
  return (
    <div ref={rootRef} className="flex flex-col gap-2 p-2" data-testid="embed-widget">
      <div className="flex flex-wrap items-center gap-2">
        {readOnly ? (
          <span className="text-xs font-medium text-neutral-500">{runtimeInfo.label}</span>
        ) : (
          <label className="flex items-center gap-1 text-xs font-medium">
            <span className="sr-only">Runtime</span>
            <RuntimeSelect className="field py-1 text-xs" value={runtime} onChange={setRuntime} />
          </label>
        )}
        <button type="button" className="btn-primary px-3 py-1" onClick={run} disabled={pending || running} data-testid="run" aria-keyshortcuts="Control+Enter">
          {running ? "Running…" : "Run"}
        </button>
        {running && (
          <button type="button" className="btn-secondary py-1" onClick={() => runId && void cancelRunAction(runId)} data-testid="cancel">
            Cancel
          </button>
        )}
        <a
          href={playgroundHref}
          target="_blank"
          rel="noopener"
          className="ml-auto text-xs text-neutral-500 underline hover:text-neutral-800 dark:hover:text-neutral-200"
        >
          Open in Sandpit ↗
        </a>
      </div>
      {error && (
        <p role="alert" className="text-xs text-red-600 dark:text-red-400" data-testid="error">
          {error}
        </p>
      )}
      <CodeEditor
        value={code}
        onChange={(next) => {
          codeRef.current = next; // at once: Ctrl+Enter right after typing runs what was typed
          setCode(next);
        }}
        language={runtimeInfo.monacoLanguage}
        readOnly={readOnly}
        onRun={run}
        label={`Code (${runtimeInfo.label})${readOnly ? ", read-only" : ". Press Control+Enter to run."}`}
        style={{ height: `${Math.min(Math.max(lines, 4), 18) * 19 + 20}px` }}
        testId="editor"
      />
      <RunOutput stream={stream} runId={runId} className="h-48" emptyText="Press Run to see the output." />
    </div>
  );
}
