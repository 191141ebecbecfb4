import { RUNTIMES, RUNTIME_NAMES, type RuntimeName } from "@/lib/runtimes/catalog";

/** The runtime picker shared by the playground and the embed widget (each wraps it in its own label). */
export function RuntimeSelect({ id, className, value, onChange }: { id?: string; className: string; value: RuntimeName; onChange: (runtime: RuntimeName) => void }) {
  return (
    <select id={id} className={className} value={value} onChange={(event) => onChange(event.target.value as RuntimeName)} data-testid="runtime">
      {RUNTIME_NAMES.map((name) => (
        <option key={name} value={name}>
          {RUNTIMES[name].label}
        </option>
      ))}
    </select>
  );
}
