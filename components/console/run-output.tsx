"use client";

import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import type { RunStreamState } from "@/lib/realtime/use-run-stream";
import { cssForStyle } from "./parse-ansi";
import { OutputModel, type OutputRow } from "./output-model";

const ROW_HEIGHT = 20; // px; fixed so only the rows in view need to exist in the DOM
const OVERSCAN = 30;

type Props = {
  stream: RunStreamState;
  /** Identifies the run; a new one starts a fresh console. */
  runId: string | null;
  className?: string;
  emptyText?: string;
};

/**
 * The output console: stdout and stderr interleaved in order (stderr marked), ANSI colours as styled
 * spans, and only the visible rows rendered, so 100k lines scroll as smoothly as ten.
 */
export function RunOutput({ stream, runId, className, emptyText = "Output appears here." }: Props) {
  // A new run gets a new chunks array from useRunStream, and with it a fresh model.
  const model = useMemo(() => new OutputModel(), [stream.chunks]);
  model.consume(stream.chunks, stream.chunkCount);
  const rowCount = model.visibleRowCount;

  const scrollerRef = useRef<HTMLDivElement>(null);
  const [viewport, setViewport] = useState({ top: 0, height: 400 });
  const followRef = useRef(true);

  const measure = useCallback(() => {
    const element = scrollerRef.current;
    if (!element) return;
    setViewport({ top: element.scrollTop, height: element.clientHeight });
    // Keep following the end unless the reader scrolled up.
    followRef.current = element.scrollTop + element.clientHeight >= element.scrollHeight - ROW_HEIGHT * 2;
  }, []);

  useEffect(() => {
    const element = scrollerRef.current;
    if (!element) return;
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, [measure]);

  useEffect(() => {
    followRef.current = true;
  }, [runId]);

  useLayoutEffect(() => {
    const element = scrollerRef.current;
    if (element && followRef.current) element.scrollTop = element.scrollHeight;
  }, [rowCount, model.revision, stream.end]);

  const first = Math.max(0, Math.floor(viewport.top / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(rowCount, Math.ceil((viewport.top + viewport.height) / ROW_HEIGHT) + OVERSCAN);
  const rows: React.ReactNode[] = [];
  for (let index = first; index < last; index++) rows.push(<Row key={index} row={model.rows[index]} top={index * ROW_HEIGHT} />);

  const end = stream.end;
  return (
    <div className={`flex min-h-0 flex-col overflow-hidden rounded-md border border-neutral-300 dark:border-neutral-700 ${className ?? ""}`}>
      <div
        ref={scrollerRef}
        onScroll={measure}
        role="log"
        aria-label="Program output"
        aria-live="polite"
        tabIndex={0}
        data-testid="output"
        className="console relative min-h-40 flex-1 overflow-auto font-mono text-[13px] focus:outline-2 focus:outline-offset-[-2px] focus:outline-emerald-500"
      >
        {rowCount === 0 && !end && <p className="px-3 py-2 text-[var(--console-muted)]">{runId ? "Waiting for output…" : emptyText}</p>}
        <div className="my-1.5" style={{ height: rowCount * ROW_HEIGHT, position: "relative", minWidth: "100%" }}>
          {rows}
        </div>
        {end && (end.truncated || end.oomKilled || end.error || rowCount === 0) && (
          <div className="flex flex-col gap-1 px-3 py-2 text-xs" data-testid="output-markers">
            {rowCount === 0 && <p className="text-[var(--console-muted)]">(no output)</p>}
            {end.truncated && (
              <p data-testid="marker-truncated" className="font-semibold text-amber-500">
                ✂ Output truncated: the program printed more than the output limit and was stopped.
              </p>
            )}
            {end.oomKilled && (
              <p data-testid="marker-oom" className="font-semibold text-red-500">
                ⚠ Out of memory: the program was killed for going over its memory limit.
              </p>
            )}
            {end.error && <p className="text-red-500">⚠ {end.error}</p>}
          </div>
        )}
      </div>
      <RunStatusBar stream={stream} runId={runId} />
    </div>
  );
}

const Row = memo(function Row({ row, top }: { row: OutputRow; top: number }) {
  return (
    <div className="console-row" style={{ top, height: ROW_HEIGHT, lineHeight: `${ROW_HEIGHT}px` }}>
      {row.segments.map((segment, index) => (
        <span
          key={index}
          className={segment.stream === "stderr" ? "console-stderr" : undefined}
          data-stream={segment.stream}
          style={cssForStyle(segment.style)}
        >
          {segment.text}
        </span>
      ))}
    </div>
  );
});

const STATUS_TEXT: Record<string, string> = {
  queued: "Queued",
  running: "Running",
  succeeded: "Succeeded",
  failed: "Failed",
  timed_out: "Timed out",
  cancelled: "Cancelled",
  error: "Error",
};

const STATUS_TONE: Record<string, string> = {
  succeeded: "bg-emerald-600 text-white",
  failed: "bg-red-600 text-white",
  timed_out: "bg-amber-500 text-black",
  cancelled: "bg-neutral-500 text-white",
  error: "bg-red-800 text-white",
  running: "bg-sky-600 text-white",
  queued: "bg-neutral-400 text-black",
};

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "–";
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** Status, exit code, duration and time to first output, for a run in progress or finished. */
export function RunStatusBar({ stream, runId }: { stream: RunStreamState; runId: string | null }) {
  if (!runId) return null;
  const end = stream.end;
  const status = end?.status ?? (stream.started ? "running" : "queued");
  const firstChunkAt = stream.chunkCount > 0 ? stream.chunks[0].at : null;
  const startedAt = end?.startedAt ?? stream.startedAt;
  const firstOutputMs = end
    ? end.firstOutputAt !== null && end.startedAt !== null
      ? end.firstOutputAt - end.startedAt
      : null
    : firstChunkAt !== null && startedAt !== null
      ? firstChunkAt - startedAt
      : null;
  return (
    <div
      className="flex flex-wrap items-center gap-x-4 gap-y-1 border-t border-neutral-300 bg-neutral-100 px-3 py-1.5 text-xs dark:border-neutral-700 dark:bg-neutral-900"
      data-testid="run-status"
      data-status={status}
    >
      <span className={`rounded px-1.5 py-0.5 font-semibold ${STATUS_TONE[status] ?? ""}`} data-testid="status">
        {STATUS_TEXT[status] ?? status}
        {!end && "…"}
      </span>
      <span>
        exit code <strong data-testid="exit-code">{end?.exitCode ?? "–"}</strong>
      </span>
      <span>
        duration <strong data-testid="duration">{formatMs(end?.durationMs)}</strong>
      </span>
      <span>
        first output <strong data-testid="first-output">{formatMs(firstOutputMs)}</strong>
      </span>
      {end?.truncated && <span className="font-semibold text-amber-600 dark:text-amber-400">truncated</span>}
      {end?.oomKilled && <span className="font-semibold text-red-600 dark:text-red-400">out of memory</span>}
      {!end && !stream.connected && stream.started && <span className="text-neutral-500">reconnecting…</span>}
    </div>
  );
}
