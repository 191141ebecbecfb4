export type EmbedOptions = { readOnly?: boolean; autorun?: boolean };

/** The widget's address for a saved run: `/embed/<id>`. */
export function embedUrlForRun(origin: string, runId: string, options: EmbedOptions = {}): string {
  return withOptions(new URL(`/embed/${encodeURIComponent(runId)}`, origin), options).toString();
}

function withOptions(url: URL, { readOnly, autorun }: EmbedOptions): URL {
  if (readOnly) url.searchParams.set("readonly", "1");
  if (autorun) url.searchParams.set("autorun", "1");
  return url;
}

/** The snippet a user pastes into their page; the widget reports its height so the parent can resize it. */
export function iframeSnippet(src: string, title = "Sandpit code runner"): string {
  const escaped = src.replace(/&/g, "&amp;").replace(/"/g, "&quot;");
  return `<iframe src="${escaped}" title="${title}" width="100%" height="360" style="border:0;border-radius:8px" loading="lazy"></iframe>`;
}
