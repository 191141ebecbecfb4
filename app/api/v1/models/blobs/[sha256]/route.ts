import { requireToken } from "@/lib/auth/api-tokens";
import { webConfig } from "@/lib/config/web-config";
import { webDatabase } from "@/lib/db/web-database";
import { handleApi } from "@/lib/http/handle-api";
import { otherMethods } from "@/lib/http/method-not-allowed";
import { writeBlobChunk } from "@/lib/models/write-blob-chunk";

export const dynamic = "force-dynamic";
export const { GET, POST, PATCH, DELETE } = otherMethods(["PUT"]);

type Context = { params: Promise<{ sha256: string }> };

/** Step 2: one chunk of a blob, `Content-Range: bytes START-END/TOTAL`, in order; 409 with `offset` when out of order. */
export const PUT = handleApi(async (request: Request, context: Context) => {
  await requireToken(await webDatabase(), request);
  const { sha256 } = await context.params;
  const result = await writeBlobChunk(
    webConfig().modelStore,
    sha256,
    { contentRange: request.headers.get("content-range"), contentLength: request.headers.get("content-length") },
    request.body,
  );
  if (result.kind === "out_of_order") {
    return Response.json(
      { error: `this blob's upload is at byte ${result.offset}: send the chunk that starts there`, code: "conflict", offset: result.offset },
      { status: 409 },
    );
  }
  return Response.json(result, { status: result.complete ? 201 : 200 });
});
