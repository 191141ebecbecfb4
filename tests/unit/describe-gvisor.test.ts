import { describe, expect, it } from "vitest";
import { parseRunscVersion, runscPlatform } from "@/worker/container/describe-gvisor";

describe("describe-gvisor", () => {
  it("reads the version line of both builds", () => {
    expect(parseRunscVersion("runsc version release-20260905.0\nspec: 1.1.0-rc.1\n")).toBe("release-20260905.0");
    expect(parseRunscVersion("runsc version 0.0~20221219.0\nspec: 1.0.2-dev\n")).toBe("0.0~20221219.0");
    expect(parseRunscVersion("garbage")).toBeUndefined();
  });

  it("takes the platform from the runtime's flag, else the binary's default", () => {
    expect(runscPlatform(["--platform=systrap", "--network=none"], "")).toBe("systrap");
    const debianFlags = '  -platform string\n    \tspecifies which platform to use: ptrace (default), kvm. (default "ptrace")\n';
    expect(runscPlatform(["--network=none"], debianFlags)).toBe("ptrace");
    expect(runscPlatform([], "")).toBe("unknown");
  });
});
