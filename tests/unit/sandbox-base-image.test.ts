import { describe, expect, it } from "vitest";
import { runtimeCatalog } from "@/lib/runtimes/catalog";
import { gpuSandboxImage } from "@/worker/sandboxes/gpu-base-image";

const withGpuImage = runtimeCatalog().runtimes.find((runtime) => runtime.gpuImage)!;
const without = runtimeCatalog().runtimes.find((runtime) => !runtime.gpuImage)!;
const engineWith = (tags: string[]) => ({ imageExists: async (tag: string) => tags.includes(tag) });
const asked = ["accelerate", "numpy==1.26.4", "Torch", "transformers>=4.40"];

describe("gpuSandboxImage", () => {
  it("starts from the built GPU image, skipping the bare names it carries and keeping pinned or ranged ones", async () => {
    expect(withGpuImage.gpuImagePackages).toEqual(expect.arrayContaining(["torch", "transformers", "accelerate"]));
    const chosen = await gpuSandboxImage(engineWith([`sandpit/${withGpuImage.gpuImage}`]), "sandpit/", withGpuImage.name, asked);
    expect(chosen).toEqual({ baseImage: `sandpit/${withGpuImage.gpuImage}`, requirements: ["numpy==1.26.4", "transformers>=4.40"] });
  });

  it("falls back to the runtime's own image and every requirement when the GPU image is not built", async () => {
    expect(await gpuSandboxImage(engineWith([]), "sandpit/", withGpuImage.name, asked)).toEqual({ requirements: asked });
    expect(await gpuSandboxImage(engineWith(["sandpit/anything"]), "sandpit/", without.name, asked)).toEqual({ requirements: asked });
  });
});
