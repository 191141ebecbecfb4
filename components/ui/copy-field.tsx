"use client";

import { useId, useState } from "react";

/** A labelled read-only value with a Copy button. */
export function CopyField({ label, value, multiline = false, testId }: { label: string; value: string; multiline?: boolean; testId?: string }) {
  const id = useId();
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      // No clipboard permission (e.g. plain http): select the text so Ctrl+C works.
      (document.getElementById(id) as HTMLInputElement | HTMLTextAreaElement | null)?.select();
    }
    setCopied(true);
    setTimeout(() => setCopied(false), 1500);
  };
  const fieldClass = "w-full min-w-0 rounded border border-neutral-300 bg-neutral-50 px-2 py-1 font-mono text-xs dark:border-neutral-700 dark:bg-neutral-900";
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={id} className="text-xs font-medium">
        {label}
      </label>
      <div className="flex items-start gap-2">
        {multiline ? (
          <textarea id={id} readOnly value={value} rows={3} className={fieldClass} data-testid={testId} onFocus={(event) => event.target.select()} />
        ) : (
          <input id={id} readOnly value={value} className={fieldClass} data-testid={testId} onFocus={(event) => event.target.select()} />
        )}
        <button type="button" onClick={copy} className="btn-secondary shrink-0">
          {copied ? "Copied" : "Copy"}
        </button>
      </div>
    </div>
  );
}
