"use client";

import { useId } from "react";

/** The models in the store (MODELS_DIR); disabled with the reason when the store is empty. */
export function ModelPicker({
  models,
  modelsDir,
  value,
  onChange,
  disabled,
}: {
  models: { name: string }[];
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
          className="field max-w-56"
          value={empty ? "" : value}
          disabled={disabled || empty}
          aria-describedby={helpId}
          onChange={(event) => onChange(event.target.value)}
          data-testid="model"
        >
          <option value="">No model</option>
          {models.map((model) => (
            <option key={model.name} value={model.name}>
              {model.name}
            </option>
          ))}
        </select>
      </label>
      <span id={helpId} className="max-w-64 text-[11px] leading-tight text-neutral-500" data-testid="model-help">
        {empty ? (
          <>
            No models yet: put each model in its own folder under <code className="break-all">{modelsDir}</code>.
          </>
        ) : (
          <>The chosen model is mounted read-only at <code>/models/{value || "<name>"}</code>.</>
        )}
      </span>
    </div>
  );
}
