import { webDatabase } from "@/lib/db/web-database";
import type { RunChunkEvent, RunEndEvent } from "@/lib/realtime/events";
import { findRun, isTerminal, listChunks, runDurationMs, toChunkEvent, toEndEvent } from "@/lib/runs/run-view";

/** What a share page or embed shows of a run: its code and settings, transcript so far, and end if it ended. */
export type SharedRun = {
  id: string;
  runtime: string;
  code: string;
  stdin: string;
  status: string;
  timeoutS: number;
  memoryMb: number;
  vcpus: number;
  model: string | null;
  queuedAt: number;
  startedAt: number | null;
  durationMs: number | null;
  chunks: RunChunkEvent[];
  end: RunEndEvent | null;
};

export async function loadSharedRun(id: string): Promise<SharedRun | null> {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) return null;
  const db = await webDatabase();
  const run = await findRun(db, id);
  if (!run) return null;
  return {
    id: run.id,
    runtime: run.runtime,
    code: run.code,
    stdin: run.stdin,
    status: run.status,
    timeoutS: run.timeoutMs / 1000,
    memoryMb: run.memoryMb,
    vcpus: run.cpus / 1000,
    model: run.model ?? null,
    queuedAt: run.queuedAt,
    startedAt: run.startedAt,
    durationMs: runDurationMs(run),
    chunks: (await listChunks(db, id)).map(toChunkEvent),
    end: isTerminal(run.status) ? toEndEvent(run) : null,
  };
}

/** Plain text of a transcript (for link previews), without ANSI escapes. */
export function transcriptText(chunks: RunChunkEvent[], maxChars = 300): string {
  let text = "";
  for (const chunk of chunks) {
    text += chunk.data;
    if (text.length > maxChars * 2) break;
  }
  // eslint-disable-next-line no-control-regex -- ESC starts the terminal escapes this removes
  return text.replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, "").slice(0, maxChars);
}
