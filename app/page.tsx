import { RunConsole } from "@/components/run-console";

export default function HomePage() {
  return <RunConsole />;
}
