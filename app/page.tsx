import { connection } from "next/server";
import { Playground, type PlaygroundDraft } from "@/components/playground/playground";
import { webConfig } from "@/lib/config/web-config";
import { webDatabase } from "@/lib/db/web-database";
import { listModels } from "@/lib/models/list-models";
import { findRun } from "@/lib/runs/run-view";
import { readEmbedParams } from "@/lib/embed/read-embed-params";
import { isRuntimeName } from "@/lib/runtimes/catalog";
import { gpuAvailability } from "@/lib/workers/gpu-availability";

/** `/?fork=<id>` opens a shared run's code and settings in the editor; `/?runtime=…&c=…` (an embed's code) too. */
export default async function PlaygroundPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  await connection();
  const config = webConfig();
  const { limits } = config.runSettings;
  const params = await searchParams;
  const forkId = params.fork;
  const forked = typeof forkId === "string" ? await findRun(await webDatabase(), forkId) : undefined;
  const fork: PlaygroundDraft | null =
    forked && isRuntimeName(forked.runtime)
      ? {
          runtime: forked.runtime,
          code: forked.code,
          stdin: forked.stdin,
          resources: { memoryMb: forked.memoryMb, timeoutS: forked.timeoutMs / 1000, vcpus: forked.cpus / 1000 },
          model: forked.model ?? "",
        }
      : await codeFromUrl(params, limits);
  return (
    <Playground
      limits={{
        memoryMaxMb: limits.memoryMaxMb,
        memoryDefaultMb: limits.memoryDefaultMb,
        timeoutMaxS: limits.timeoutMaxS,
        timeoutDefaultS: limits.timeoutDefaultS,
        vcpusMax: limits.vcpusMax,
      }}
      models={listModels(config.modelsDir)}
      modelsDir={config.modelsDir}
      gpu={await gpuAvailability(await webDatabase())}
      fork={fork}
    />
  );
}

async function codeFromUrl(
  params: Record<string, string | string[] | undefined>,
  limits: { memoryDefaultMb: number; timeoutDefaultS: number },
): Promise<PlaygroundDraft | null> {
  if (!params.c && !params.code) return null;
  const embed = await readEmbedParams(params);
  if (embed.code === null) return null;
  return {
    runtime: embed.runtime,
    code: embed.code,
    stdin: "",
    resources: { memoryMb: limits.memoryDefaultMb, timeoutS: limits.timeoutDefaultS, vcpus: 1 },
    model: "",
  };
}
