"use client";

import { useEffect, useRef, useState } from "react";
import { embedUrlForRun, iframeSnippet } from "@/lib/embed/embed-url";
import { CopyField } from "@/components/ui/copy-field";

/** The share link of a run, and an <iframe> snippet that embeds it as a runnable widget. */
export function ShareDialog({ runId, open, onClose }: { runId: string; open: boolean; onClose: () => void }) {
  const dialogRef = useRef<HTMLDialogElement>(null);
  const [readOnly, setReadOnly] = useState(false);
  const [autorun, setAutorun] = useState(false);

  useEffect(() => {
    const dialog = dialogRef.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);

  const origin = typeof window === "undefined" ? "" : window.location.origin;
  const shareUrl = `${origin}/r/${runId}`;
  const embedSrc = origin ? embedUrlForRun(origin, runId, { readOnly, autorun }) : "";

  return (
    <dialog
      ref={dialogRef}
      onClose={onClose}
      aria-labelledby="share-heading"
      className="m-auto w-[min(36rem,calc(100vw-2rem))] rounded-lg border border-neutral-300 bg-white p-0 text-neutral-900 shadow-xl backdrop:bg-black/40 dark:border-neutral-700 dark:bg-neutral-900 dark:text-neutral-100"
      data-testid="share-dialog"
    >
      <div className="flex flex-col gap-4 p-4">
        <div className="flex items-center justify-between">
          <h2 id="share-heading" className="text-lg font-semibold">
            Share this run
          </h2>
          <button type="button" onClick={onClose} className="btn-secondary" aria-label="Close share dialog">
            ✕
          </button>
        </div>
        <CopyField label="Link (read-only page with code and output)" value={shareUrl} testId="share-url" />
        <a href={shareUrl} target="_blank" rel="noopener" className="text-sm text-emerald-700 underline dark:text-emerald-400" data-testid="share-link">
          Open share page
        </a>
        <fieldset className="flex flex-col gap-2">
          <legend className="mb-1 text-sm font-semibold">Embed on your site</legend>
          <div className="flex flex-wrap gap-4 text-sm">
            <label className="flex items-center gap-2">
              <input type="checkbox" checked={readOnly} onChange={(event) => setReadOnly(event.target.checked)} /> Read-only code
            </label>
            <label className="flex items-center gap-2">
              <input type="checkbox" checked={autorun} onChange={(event) => setAutorun(event.target.checked)} /> Run on load
            </label>
          </div>
          <CopyField label="<iframe> snippet" value={iframeSnippet(embedSrc)} multiline testId="embed-snippet" />
        </fieldset>
      </div>
    </dialog>
  );
}
