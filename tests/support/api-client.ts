/** Minimal HTTP helpers for tests, speaking the public API exactly as a script would. */
import type { RunView } from "@/lib/runs/run-view";

/** The server's own type of a run (lib/runs/run-view.ts), not a copy. */
export type { RunView };

export async function postRun(baseUrl: string, body: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${baseUrl}/api/v1/runs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

export async function getRun(baseUrl: string, id: string, wait = false): Promise<RunView> {
  const url = `${baseUrl}/api/v1/runs/${id}${wait ? "?wait=1" : ""}`;
  // A GET is safe to repeat: a kept-alive connection the server closed just as it was reused fails once.
  const response = await fetch(url).catch(() => fetch(url));
  if (!response.ok) throw new Error(`GET run ${id}: ${response.status} ${await response.text()}`);
  return response.json();
}

/** Queues a run and waits for its end. */
export async function runToEnd(baseUrl: string, body: Record<string, unknown>): Promise<RunView> {
  const created = await postRun(baseUrl, body);
  if (created.status !== 201) throw new Error(`POST run: ${created.status} ${JSON.stringify(created.json)}`);
  return getRun(baseUrl, created.json.id, true);
}
