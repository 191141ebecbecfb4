import type { Metadata } from "next";
import { headers } from "next/headers";
import { connection } from "next/server";
import { webConfig } from "@/lib/config/web-config";
import { mayAutorun } from "@/lib/embed/embed-autorun";
import { EmbedWidget } from "@/components/embed/embed-widget";
import { readEmbedParams, type SearchParams } from "@/lib/embed/read-embed-params";
import { getRuntime } from "@/lib/runtimes/catalog";

export const metadata: Metadata = { title: "Sandpit widget", robots: { index: false } };

/** `/embed?runtime=<name>&c=<deflate-raw base64url code>` (or `code=<plain>`), `readonly=1`, `autorun=1`. */
export default async function EmbedCodePage({ searchParams }: { searchParams: Promise<SearchParams> }) {
  await connection();
  const params = await searchParams;
  const embed = await readEmbedParams(params);
  const autorun = mayAutorun(embed.autorun && embed.problem === null, (await headers()).get("referer"), webConfig().embedAutorunOrigins);
  const code = embed.code ?? getRuntime(embed.runtime).starter;
  const forkQuery = new URLSearchParams({ runtime: embed.runtime });
  const compressed = typeof params.c === "string" ? params.c : null;
  if (compressed) forkQuery.set("c", compressed);
  else forkQuery.set("code", code);
  return (
    <EmbedWidget runtime={embed.runtime} code={code} readOnly={embed.readOnly} autorun={autorun} playgroundHref={`/?${forkQuery}`} notice={embed.problem} />
  );
}
