import { getRuntime } from "@/lib/runtimes/catalog";
import type { ContainerEngine } from "../engine/container-engine";

/** PEP 503's normalised project name: `Flash_Attn` and `flash-attn` are one package. */
const normalizeName = (name: string) => name.toLowerCase().replace(/[-_.]+/g, "-");

/**
 * What a sandbox starts from. A GPU sandbox: the runtime's GPU image (runtime.json `gpuImage`, built by
 * scripts/gpu-image.sh) when this host has it built, with the requirements it already carries left out (only bare
 * names: a pinned or ranged `torch==2.3.1` is installed on top as asked). A CPU sandbox starts from that image too when
 * its requirements name a package the image carries: PyPI's Linux `torch` is the CUDA build, gigabytes, beyond what the
 * requirements step may fetch, and it runs on CPU all the same. Otherwise: the runtime's own image and every requirement.
 */
export async function sandboxBaseImage(
  engine: Pick<ContainerEngine, "imageExists">,
  imagePrefix: string,
  runtimeName: string,
  requirements: string[],
  gpu: boolean,
): Promise<{ baseImage?: string; requirements: string[] }> {
  const runtime = getRuntime(runtimeName);
  if (!runtime.gpuImage) return { requirements };
  const carried = new Set(runtime.gpuImagePackages.map(normalizeName));
  const left = requirements.filter((requirement) => !carried.has(normalizeName(requirement.trim())));
  if (!gpu && left.length === requirements.length) return { requirements };
  const image = `${imagePrefix}${runtime.gpuImage}`;
  if (!(await engine.imageExists(image))) return { requirements };
  return { baseImage: image, requirements: left };
}
