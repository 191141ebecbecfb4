import { describe, expect, it } from "vitest";
import { describeEngineError } from "@/worker/engine/describe-engine-error";

const socketError = (message: string, code: string) => Object.assign(new Error(message), { code });

describe("describeEngineError", () => {
  it("names a broken connection to the engine", () => {
    expect(describeEngineError(socketError("read ECONNRESET", "ECONNRESET"))).toBe("lost the connection to the Docker engine (read ECONNRESET)");
    expect(describeEngineError(socketError("connect ECONNREFUSED /tmp/d.sock", "ECONNREFUSED"))).toMatch(/^lost the connection to the Docker engine/);
    expect(describeEngineError(socketError("connect ENOENT /var/run/docker.sock", "ENOENT"))).toMatch(/^lost the connection to the Docker engine/);
    expect(describeEngineError(new Error("socket hang up"))).toMatch(/^lost the connection to the Docker engine/);
  });

  it("leaves other messages as they are", () => {
    expect(describeEngineError(new Error("(HTTP code 404) no such container"))).toBe("(HTTP code 404) no such container");
    expect(describeEngineError(socketError("open ENOENT /models/x", "ENOENT"))).toBe("open ENOENT /models/x");
    expect(describeEngineError(new Error("the Docker engine went away while the run was in flight"))).toBe(
      "the Docker engine went away while the run was in flight",
    );
    expect(describeEngineError("plain")).toBe("plain");
  });
});
