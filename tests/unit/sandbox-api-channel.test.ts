import { describe, expect, it } from "vitest";
import { refusalOf } from "@/worker/sandboxes/sandbox-api-channel";

describe("the nested sandbox API channel's allow-list", () => {
  it("passes the sandbox API's routes and methods", () => {
    for (const [method, url] of [
      ["POST", "/api/v1/sandboxes"],
      ["GET", "/api/v1/sandboxes/abc_DEF-1"],
      ["DELETE", "/api/v1/sandboxes/abc"],
      ["POST", "/api/v1/sandboxes/abc/runs?wait=1"],
      ["GET", "/api/v1/sandboxes/abc/runs/run-1?wait=1"],
      ["GET", "/api/v1/sandboxes/abc/files?path=out.txt"],
      ["POST", "/api/v1/sandboxes/abc/files"],
    ]) {
      expect(refusalOf(method, url), `${method} ${url}`).toBeNull();
    }
  });

  it("refuses every other path, method, absolute URL and traversal", () => {
    for (const [method, url] of [
      ["GET", "/api/v1/runs"],
      ["POST", "/api/v1/runs"],
      ["GET", "/api/v1/health"],
      ["GET", "/api/v1/models"],
      ["GET", "/api/v1/me"],
      ["GET", "/api/v1/sandboxes"],
      ["PUT", "/api/v1/sandboxes/abc"],
      ["GET", "/api/v1/sandboxes/../runs"],
      ["GET", "/api/v1/sandboxes/%2e%2e/health"],
      ["GET", "/api/v1/sandboxes/abc/runs/x/y"],
      ["GET", "/api/v1/sandboxes//"],
      ["GET", "http://127.0.0.1:3000/api/v1/sandboxes"],
      ["CONNECT", "127.0.0.1:3000"],
      ["GET", `/api/v1/sandboxes/${"a".repeat(2000)}`],
      ["GET", "/socket.io/?EIO=4"],
    ]) {
      expect(refusalOf(method, url), `${method} ${url}`).not.toBeNull();
    }
  });
});
