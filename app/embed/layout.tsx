/** Embeds have no site chrome: they live inside someone else's page. */
export default function EmbedLayout({ children }: { children: React.ReactNode }) {
  return <div className="min-h-0">{children}</div>;
}
