import { getRuntime } from "@/lib/runtimes/catalog";
import type { ContainerEngine } from "../engine/container-engine";

/** PEP 503's normalised project name: `Flash_Attn` and `flash-attn` are one package. */
const normalizeName = (name: string) => name.toLowerCase().replace(/[-_.]+/g, "-");

/**
 * What a GPU sandbox starts from: the runtime's GPU image (runtime.json `gpuImage`, built by scripts/gpu-image.sh)
 * when this host has it built, with the requirements it already carries left out (only bare names: a pinned or
 * ranged `torch==2.3.1` is installed on top as asked); otherwise the runtime's own image and every requirement.
 */
export async function gpuSandboxImage(
  engine: Pick<ContainerEngine, "imageExists">,
  imagePrefix: string,
  runtimeName: string,
  requirements: string[],
): Promise<{ baseImage?: string; requirements: string[] }> {
  const runtime = getRuntime(runtimeName);
  if (!runtime.gpuImage) return { requirements };
  const image = `${imagePrefix}${runtime.gpuImage}`;
  if (!(await engine.imageExists(image))) return { requirements };
  const carried = new Set(runtime.gpuImagePackages.map(normalizeName));
  return { baseImage: image, requirements: requirements.filter((requirement) => !carried.has(normalizeName(requirement.trim()))) };
}
