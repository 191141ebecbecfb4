"use client";

import { useId } from "react";

export type ResourceChoice = { memoryMb: number; timeoutS: number; vcpus: number };
export type ResourceLimits = { memoryMaxMb: number; memoryDefaultMb: number; timeoutMaxS: number; timeoutDefaultS: number; vcpusMax: number };
export type GpuInfo = { available: boolean; reason: string };

const MEMORY_STEPS = [64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384];
const VCPU_STEPS = [0.25, 0.5, 1, 2, 4, 8, 16];

const memoryLabel = (mb: number) => (mb >= 1024 ? `${mb / 1024} GB` : `${mb} MB`);

/**
 * Memory, timeout and vCPUs for the next run, and the workers' GPUs. Runs never get a GPU (GPU slots belong to
 * sandboxes: POST /api/v1/sandboxes with `gpu`), so the GPUs are shown, not offered.
 */
export function ResourceControls({
  value,
  onChange,
  limits,
  gpu,
  disabled,
}: {
  value: ResourceChoice;
  onChange: (next: ResourceChoice) => void;
  limits: ResourceLimits;
  gpu: GpuInfo;
  disabled?: boolean;
}) {
  const ids = { memory: useId(), timeout: useId(), vcpus: useId() };
  const memoryOptions = [...new Set([...MEMORY_STEPS.filter((mb) => mb <= limits.memoryMaxMb), value.memoryMb])].sort((a, b) => a - b);
  const vcpuOptions = [...new Set([...VCPU_STEPS.filter((count) => count <= limits.vcpusMax), value.vcpus])].sort((a, b) => a - b);
  return (
    <fieldset className="flex flex-wrap items-end gap-3" disabled={disabled}>
      <legend className="sr-only">Resources</legend>
      <label className="field-label" htmlFor={ids.memory}>
        Memory
        <select
          id={ids.memory}
          className="field"
          value={value.memoryMb}
          onChange={(event) => onChange({ ...value, memoryMb: Number(event.target.value) })}
          data-testid="memory"
        >
          {memoryOptions.map((mb) => (
            <option key={mb} value={mb}>
              {memoryLabel(mb)}
            </option>
          ))}
        </select>
      </label>
      <label className="field-label" htmlFor={ids.timeout}>
        Timeout (s)
        <input
          id={ids.timeout}
          type="number"
          min={1}
          max={limits.timeoutMaxS}
          step={1}
          className="field w-20"
          value={value.timeoutS}
          onChange={(event) => onChange({ ...value, timeoutS: Math.min(limits.timeoutMaxS, Math.max(1, Number(event.target.value) || 1)) })}
          data-testid="timeout"
        />
      </label>
      <label className="field-label" htmlFor={ids.vcpus}>
        vCPUs
        <select
          id={ids.vcpus}
          className="field"
          value={value.vcpus}
          onChange={(event) => onChange({ ...value, vcpus: Number(event.target.value) })}
          data-testid="vcpus"
        >
          {vcpuOptions.map((count) => (
            <option key={count} value={count}>
              {count}
            </option>
          ))}
        </select>
      </label>
      <p className="max-w-72 text-[11px] leading-tight text-neutral-500" data-testid="gpu-help">
        <span className="font-medium">GPUs:</span> {gpu.reason} {gpu.available && "Runs here use the CPU; GPU code runs in sandboxes (the API's gpu option)."}
      </p>
    </fieldset>
  );
}
