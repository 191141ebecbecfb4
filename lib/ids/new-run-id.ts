import { randomBytes } from "node:crypto";

/** 128 random bits, URL-safe: unguessable, so a run's id doubles as its share link. */
export function newRunId(): string {
  return randomBytes(16).toString("base64url");
}
