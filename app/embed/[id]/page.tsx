import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { headers } from "next/headers";
import { connection } from "next/server";
import { webConfig } from "@/lib/config/web-config";
import { mayAutorun } from "@/lib/embed/embed-autorun";
import { EmbedWidget } from "@/components/embed/embed-widget";
import { loadSharedRun } from "@/lib/embed/load-shared-run";
import { readEmbedParams, type SearchParams } from "@/lib/embed/read-embed-params";
import { isRuntimeName } from "@/lib/runtimes/catalog";

export const metadata: Metadata = { title: "Sandpit widget", robots: { index: false } };

/** `/embed/<run id>`: that run's code and output, runnable again; `readonly=1`, `autorun=1`. */
export default async function EmbedRunPage({ params, searchParams }: { params: Promise<{ id: string }>; searchParams: Promise<SearchParams> }) {
  await connection();
  const { id } = await params;
  const run = await loadSharedRun(id);
  if (!run || !isRuntimeName(run.runtime)) notFound();
  const options = await readEmbedParams(await searchParams);
  // Autorun only inside a page on a listed origin (lib/embed/embed-autorun.ts); elsewhere the saved run shows.
  const autorun = mayAutorun(options.autorun, (await headers()).get("referer"), webConfig().embedAutorunOrigins);
  return (
    <EmbedWidget
      runtime={run.runtime}
      code={run.code}
      stdin={run.stdin}
      readOnly={options.readOnly}
      autorun={autorun}
      initialRun={autorun ? null : { id: run.id, chunks: run.chunks, end: run.end, startedAt: run.startedAt }}
      playgroundHref={`/?fork=${run.id}`}
    />
  );
}
