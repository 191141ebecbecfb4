import { readFileSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");

/** The id Next.js gave a server action in the build under test (the browser finds it in the page's JS). */
export function serverActionId(exportedName: string): string {
  const manifest = JSON.parse(readFileSync(path.join(root, ".next/server/server-reference-manifest.json"), "utf8"));
  const entry = Object.entries(manifest.node as Record<string, { exportedName: string }>).find(([, action]) => action.exportedName === exportedName);
  if (!entry) throw new Error(`no server action ${exportedName} in the build`);
  return entry[0];
}

/**
 * Calls a server action over HTTP the way Next's client does (POST to a page with a Next-Action header and the
 * arguments as JSON). Returns the status and the action's return value parsed from the RSC answer, if any.
 */
export async function callServerAction(
  baseUrl: string,
  exportedName: string,
  args: unknown[],
  headers: Record<string, string> = {},
): Promise<{ status: number; result: any; text: string; headers: Headers }> {
  const response = await fetch(`${baseUrl}/`, {
    method: "POST",
    headers: {
      "next-action": serverActionId(exportedName),
      "content-type": "text/plain;charset=UTF-8",
      accept: "text/x-component",
      ...headers,
    },
    body: JSON.stringify(args),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  // The flight answer is lines of `<row>:<json>`; row 1 carries the action's return value.
  const row = text.split("\n").find((line) => line.startsWith("1:"));
  let result: unknown = undefined;
  if (row) {
    try {
      result = JSON.parse(row.slice(2));
    } catch {
      result = undefined;
    }
  }
  return { status: response.status, result, text, headers: response.headers };
}
