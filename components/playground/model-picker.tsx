"use client";

import { useId } from "react";
import type { ModelEntry } from "@/lib/models/list-models";

/** 1536 → "1.5 KB": binary units, as the store counts bytes. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/**
 * The models in the store (listModels, as GET /api/v1/models lists them) with their sizes; disabled with the
 * reason when the store is empty.
 */
export function ModelPicker({
  models,
  modelsDir,
  value,
  onChange,
  disabled,
}: {
  models: ModelEntry[];
  modelsDir: string;
  value: string;
  onChange: (model: string) => void;
  disabled?: boolean;
}) {
  const id = useId();
  const helpId = useId();
  const empty = models.length === 0;
  return (
    <div className="flex flex-col gap-1">
      <label className="field-label" htmlFor={id}>
        Model
        <select
          id={id}
          className="field max-w-64"
          value={empty ? "" : value}
          disabled={disabled || empty}
          aria-describedby={helpId}
          onChange={(event) => onChange(event.target.value)}
          data-testid="model"
        >
          <option value="">No model</option>
          {models.map((model) => (
            <option key={model.name} value={model.name}>
              {model.name} ({formatBytes(model.sizeBytes)})
            </option>
          ))}
        </select>
      </label>
      <span id={helpId} className="max-w-64 text-[11px] leading-tight text-neutral-500" data-testid="model-help">
        {empty ? (
          <>
            No models yet: upload one through the API (README &quot;Model store&quot;) or put it in its own folder under{" "}
            <code className="break-all">{modelsDir}</code>.
          </>
        ) : (
          <>
            The chosen model is mounted read-only at <code>/models/{value || "<name>"}</code>, named by <code>MODEL_PATH</code>.
          </>
        )}
      </span>
    </div>
  );
}
