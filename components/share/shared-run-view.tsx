"use client";

import { CodeEditor } from "@/components/editor/code-editor";
import { RunOutput } from "@/components/console/run-output";
import { CopyField } from "@/components/ui/copy-field";
import { SiteHeader } from "@/components/ui/site-header";
import type { SharedRun } from "@/lib/embed/load-shared-run";
import { embedUrlForRun, iframeSnippet } from "@/lib/embed/embed-url";
import { useRunStream } from "@/lib/realtime/use-run-stream";
import { useRuntimes } from "@/components/ui/runtimes-context";

/** The read-only page of a run: code, settings, transcript (live while it runs), and a fork button. */
export function SharedRunView({ run, origin }: { run: SharedRun; origin: string }) {
  const stream = useRunStream(run.id, { initialChunks: run.chunks, initialEnd: run.end, initialStartedAt: run.startedAt });
  const runtime = useRuntimes().find(run.runtime);
  const lines = run.code.split("\n").length;
  return (
    <div className="mx-auto flex min-h-screen max-w-5xl flex-col gap-4 p-3 sm:p-4">
      <SiteHeader>
        <span className="text-sm text-neutral-500">Shared run</span>
        <a href={`/?fork=${run.id}`} className="btn-primary ml-auto" data-testid="fork">
          Open in playground
        </a>
      </SiteHeader>
      <dl className="grid grid-cols-2 gap-x-4 gap-y-1 text-sm sm:grid-cols-5" data-testid="run-settings">
        <div>
          <dt className="text-xs text-neutral-500">Runtime</dt>
          <dd data-testid="shared-runtime">{runtime?.label ?? run.runtime}</dd>
        </div>
        <div>
          <dt className="text-xs text-neutral-500">Memory</dt>
          <dd>{run.memoryMb} MB</dd>
        </div>
        <div>
          <dt className="text-xs text-neutral-500">Timeout</dt>
          <dd>{run.timeoutS} s</dd>
        </div>
        <div>
          <dt className="text-xs text-neutral-500">vCPUs</dt>
          <dd>{run.vcpus}</dd>
        </div>
        <div>
          <dt className="text-xs text-neutral-500">Queued</dt>
          <dd>
            <time dateTime={new Date(run.queuedAt).toISOString()}>{new Date(run.queuedAt).toISOString().replace("T", " ").slice(0, 19)} UTC</time>
          </dd>
        </div>
        {run.model && (
          <div className="col-span-2">
            <dt className="text-xs text-neutral-500">Model</dt>
            <dd>{run.model}</dd>
          </div>
        )}
      </dl>
      <section aria-label="Code" className="flex flex-col gap-1">
        <h2 className="text-sm font-semibold">Code</h2>
        <CodeEditor
          value={run.code}
          language={runtime?.monacoLanguage ?? "plaintext"}
          readOnly
          label="Code (read-only)"
          className="min-h-24"
          testId="shared-code"
          style={{ height: `${Math.min(Math.max(lines, 3), 30) * 19 + 24}px` }}
        />
      </section>
      {run.stdin && (
        <section aria-label="Standard input" className="flex flex-col gap-1">
          <h2 className="text-sm font-semibold">Standard input</h2>
          <pre className="max-h-40 overflow-auto rounded-md border border-neutral-300 bg-neutral-50 p-2 text-sm dark:border-neutral-700 dark:bg-neutral-900">
            {run.stdin}
          </pre>
        </section>
      )}
      <section aria-label="Output" className="flex flex-col gap-1">
        <h2 className="text-sm font-semibold">Output</h2>
        <RunOutput stream={stream} runId={run.id} className="h-[45vh] min-h-48" />
      </section>
      <details className="text-sm">
        <summary className="cursor-pointer font-semibold">Embed this run</summary>
        <div className="mt-2">
          <CopyField label="<iframe> snippet" value={iframeSnippet(embedUrlForRun(origin, run.id))} multiline />
        </div>
      </details>
    </div>
  );
}
