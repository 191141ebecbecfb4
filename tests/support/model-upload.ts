import { createHash } from "node:crypto";

/** The store's upload protocol as a client speaks it (README "Model store"): plan, chunks, commit. */
export type LocalFile = { path: string; bytes: Buffer };

export function manifestOf(name: string, files: LocalFile[]) {
  return { name, files: files.map((file) => ({ path: file.path, sha256: sha256(file.bytes), size: file.bytes.length })) };
}

export function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export async function storeApi(baseUrl: string, token: string, method: string, route: string, body?: unknown) {
  const response = await fetch(`${baseUrl}/api/v1/models${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: (text ? JSON.parse(text) : null) as any };
}

export async function putChunk(baseUrl: string, token: string, bytes: Buffer, start: number, end: number, body: Buffer = bytes.subarray(start, end + 1)) {
  const response = await fetch(`${baseUrl}/api/v1/models/blobs/${sha256(bytes)}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream", "content-range": `bytes ${start}-${end}/${bytes.length}` },
    body: new Uint8Array(body),
  });
  return { status: response.status, json: (await response.json()) as any };
}

/**
 * Uploads what the plan asks for, from each blob's offset; `stopAfterChunks` interrupts the upload (as a client that
 * died would) after that many chunks in all. Returns how many bytes were sent.
 */
export async function sendMissing(
  baseUrl: string,
  token: string,
  files: LocalFile[],
  plan: { missing: { sha256: string; offset: number }[]; chunkMaxBytes: number },
  stopAfterChunks = Infinity,
) {
  let sent = 0;
  let chunks = 0;
  for (const blob of plan.missing) {
    const bytes = files.find((file) => sha256(file.bytes) === blob.sha256)!.bytes;
    for (let start = blob.offset; start < bytes.length; start += plan.chunkMaxBytes) {
      if (chunks >= stopAfterChunks) return sent;
      const end = Math.min(bytes.length, start + plan.chunkMaxBytes) - 1;
      const answer = await putChunk(baseUrl, token, bytes, start, end);
      if (answer.status !== 200 && answer.status !== 201) throw new Error(`PUT chunk: ${answer.status} ${JSON.stringify(answer.json)}`);
      sent += end - start + 1;
      chunks++;
    }
  }
  return sent;
}
