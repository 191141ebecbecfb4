import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { connection } from "next/server";
import { SharedRunView } from "@/components/share/shared-run-view";
import { webConfig } from "@/lib/config/web-config";
import { loadSharedRun, transcriptText } from "@/lib/embed/load-shared-run";
import { runtimeCatalog } from "@/lib/runtimes/catalog";

type Params = { params: Promise<{ id: string }> };

const STATUS_WORDS: Record<string, string> = {
  queued: "queued",
  running: "running",
  succeeded: "succeeded",
  failed: "failed",
  timed_out: "timed out",
  cancelled: "was cancelled",
  error: "errored",
};

/** Link previews: the runtime and outcome as the title, the start of the code and output as the description. */
export async function generateMetadata({ params }: Params): Promise<Metadata> {
  const { id } = await params;
  const run = await loadSharedRun(id);
  if (!run) return { title: "Run not found · Sandpit", robots: { index: false } };
  const label = runtimeCatalog().find(run.runtime)?.label ?? run.runtime;
  const title = `${label} run ${STATUS_WORDS[run.status] ?? run.status}${run.end?.exitCode != null ? ` (exit ${run.end.exitCode})` : ""} · Sandpit`;
  const code = run.code.trim().split("\n").slice(0, 3).join(" ⏎ ").slice(0, 140);
  const output = transcriptText(run.chunks, 140)
    .trim()
    .replace(/\s*\n\s*/g, " ⏎ ");
  const description = output ? `${code} → ${output}` : code;
  const url = `${webConfig().publicUrl}/r/${run.id}`;
  return {
    title,
    description,
    alternates: { canonical: url },
    robots: { index: false },
    openGraph: { title, description, url, type: "article", siteName: "Sandpit" },
    twitter: { card: "summary", title, description },
  };
}

export default async function SharedRunPage({ params }: Params) {
  await connection();
  const { id } = await params;
  const run = await loadSharedRun(id);
  if (!run) notFound();
  return <SharedRunView run={run} origin={webConfig().publicUrl} />;
}
