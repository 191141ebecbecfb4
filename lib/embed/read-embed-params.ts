import { MAX_CODE_BYTES } from "@/lib/runs/run-request-schema";
import { runtimeCatalog, type RuntimeName } from "@/lib/runtimes/catalog";
import { decompressCodeFromUrl } from "./url-code";

export type SearchParams = Record<string, string | string[] | undefined>;

const single = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);
const flag = (value: string | string[] | undefined) => ["1", "true", "yes"].includes(single(value) ?? "");

export type EmbedParams = { runtime: RuntimeName; code: string | null; readOnly: boolean; autorun: boolean; problem: string | null };

/** Reads `runtime`, `c` (compressed code) or `code` (plain), `readonly=1` and `autorun=1` from an embed URL. */
export async function readEmbedParams(params: SearchParams): Promise<EmbedParams> {
  const { defaultRuntime, find } = runtimeCatalog();
  const runtimeParam = single(params.runtime) ?? defaultRuntime.name;
  const known = find(runtimeParam);
  const runtime: RuntimeName = known?.name ?? defaultRuntime.name;
  let problem = known ? null : `Unknown runtime "${runtimeParam.slice(0, 40)}"; using ${defaultRuntime.label}.`;
  let code: string | null = null;
  const compressed = single(params.c);
  if (compressed) {
    code = await decompressCodeFromUrl(compressed, MAX_CODE_BYTES);
    if (code === null) problem = "The code in this link could not be read (the link may be cut short).";
  } else {
    const plain = single(params.code);
    if (plain) code = plain.slice(0, MAX_CODE_BYTES);
  }
  return { runtime, code, readOnly: flag(params.readonly), autorun: flag(params.autorun), problem };
}
