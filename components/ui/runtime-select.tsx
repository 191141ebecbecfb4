"use client";

import type { RuntimeName } from "@/lib/runtimes/runtime-schema";
import { useRuntimes } from "./runtimes-context";

/** The runtime picker shared by the playground and the embed widget (each wraps it in its own label). */
export function RuntimeSelect({
  id,
  className,
  value,
  onChange,
}: {
  id?: string;
  className: string;
  value: RuntimeName;
  onChange: (runtime: RuntimeName) => void;
}) {
  const { runtimes } = useRuntimes();
  return (
    <select id={id} className={className} value={value} onChange={(event) => onChange(event.target.value)} data-testid="runtime">
      {runtimes.map((runtime) => (
        <option key={runtime.name} value={runtime.name}>
          {runtime.label}
        </option>
      ))}
    </select>
  );
}
