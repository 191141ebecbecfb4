import { describe, expect, it } from "vitest";
import { runtimeCatalog } from "@/lib/runtimes/catalog";
import { sandboxBaseImage } from "@/worker/sandboxes/sandbox-base-image";

const withGpuImage = runtimeCatalog().runtimes.find((runtime) => runtime.gpuImage)!;
const without = runtimeCatalog().runtimes.find((runtime) => !runtime.gpuImage)!;
const engineWith = (tags: string[]) => ({ imageExists: async (tag: string) => tags.includes(tag) });
const asked = ["accelerate", "numpy==1.26.4", "Torch", "transformers>=4.40"];

describe("sandboxBaseImage", () => {
  it("starts a GPU sandbox from the built GPU image, skipping the bare names it carries and keeping pinned or ranged ones", async () => {
    expect(withGpuImage.gpuImagePackages).toEqual(expect.arrayContaining(["torch", "transformers", "accelerate"]));
    const gpuImage = `sandpit/${withGpuImage.gpuImage}`;
    expect(await sandboxBaseImage(engineWith([gpuImage]), "sandpit/", withGpuImage.name, asked, true)).toEqual({
      baseImage: gpuImage,
      requirements: ["numpy==1.26.4", "transformers>=4.40"],
    });
    // Even without requirements: the GPU image is what a GPU sandbox runs.
    expect(await sandboxBaseImage(engineWith([gpuImage]), "sandpit/", withGpuImage.name, [], true)).toEqual({ baseImage: gpuImage, requirements: [] });
  });

  it("starts a CPU sandbox from the GPU image only when its requirements name a package the image carries", async () => {
    const gpuImage = `sandpit/${withGpuImage.gpuImage}`;
    expect(await sandboxBaseImage(engineWith([gpuImage]), "sandpit/", withGpuImage.name, ["torch", "transformers", "numpy"], false)).toEqual({
      baseImage: gpuImage,
      requirements: ["numpy"],
    });
    for (const other of [[], ["numpy"], ["torch==2.3.1"]]) {
      expect(await sandboxBaseImage(engineWith([gpuImage]), "sandpit/", withGpuImage.name, other, false)).toEqual({ requirements: other });
    }
  });

  it("falls back to the runtime's own image and every requirement when the GPU image is not built", async () => {
    for (const gpu of [true, false]) {
      expect(await sandboxBaseImage(engineWith([]), "sandpit/", withGpuImage.name, asked, gpu)).toEqual({ requirements: asked });
      expect(await sandboxBaseImage(engineWith(["sandpit/anything"]), "sandpit/", without.name, asked, gpu)).toEqual({ requirements: asked });
    }
  });
});
