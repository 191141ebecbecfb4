import { AuthError, errorFromResponse, SandpitError, SandpitTimeoutError } from "./errors.js";
import type { WhoAmI } from "./generated/api.js";

export const DEFAULT_BASE_URL = "http://localhost:3000";

/** How to reach Sandpit. Each value falls back to the environment, then to a default. */
export type ClientOptions = {
  /** API token (`npm run token -- create NAME`); default `process.env.SANDPIT_API_TOKEN`. */
  apiToken?: string;
  /** Server origin; default `process.env.SANDPIT_BASE_URL`, then `SANDPIT_API_URL`, then `http://localhost:3000`. */
  baseUrl?: string;
  /** Deadline for ordinary requests in milliseconds (default 60 000). */
  requestTimeoutMs?: number;
};

/** Who the token belongs to (`GET /api/v1/me`): `username` is the token's name. */
export type User = WhoAmI;

export type RequestOptions = {
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is (`application/octet-stream`), instead of `body`. */
  bytes?: Uint8Array;
  /** Extra request headers (`content-range`). */
  headers?: Record<string, string>;
  /** Overrides the client's deadline for this request (ms). */
  timeoutMs?: number;
};

function env(name: string): string | undefined {
  const value = typeof process !== "undefined" ? process.env[name] : undefined;
  return value && value.trim() ? value.trim() : undefined;
}

/** Explicit option, then environment, then default. */
export function resolveClientOptions(options: ClientOptions = {}): Required<Omit<ClientOptions, "apiToken">> & { apiToken?: string } {
  return {
    // SANDPIT_API_URL: what a nested sandbox is given (its channel to the sandbox API).
    apiToken: options.apiToken ?? env("SANDPIT_API_TOKEN"),
    baseUrl: (options.baseUrl ?? env("SANDPIT_BASE_URL") ?? env("SANDPIT_API_URL") ?? DEFAULT_BASE_URL).replace(/\/+$/, ""),
    requestTimeoutMs: options.requestTimeoutMs ?? 60_000,
  };
}

/**
 * An authenticated connection to one Sandpit server. Make one with `await Sandpit({apiToken, baseUrl})`
 * (which also checks the token and fills `user`), or `new Client(...)` for a lazy one.
 */
export class Client {
  readonly baseUrl: string;
  readonly apiToken?: string;
  readonly requestTimeoutMs: number;
  /** Who the token belongs to; set by {@link Client.authenticate} (done by `Sandpit()`). */
  user?: User;

  constructor(options: ClientOptions = {}) {
    const resolved = resolveClientOptions(options);
    this.baseUrl = resolved.baseUrl;
    this.apiToken = resolved.apiToken;
    this.requestTimeoutMs = resolved.requestTimeoutMs;
  }

  /** `GET /api/v1/me`: checks the token and records `user`. */
  async authenticate(): Promise<User> {
    const me = await this.request<WhoAmI>("GET", "/api/v1/me");
    this.user = { username: me.username, tokenId: me.tokenId };
    return this.user;
  }

  /** One JSON request; non-2xx answers become typed errors. */
  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    if (!this.apiToken) {
      throw new AuthError("no API token: pass `apiToken` or set SANDPIT_API_TOKEN (create one with `npm run token -- create NAME`)");
    }
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
    const url = `${this.baseUrl}${path}`;
    const headers: Record<string, string> = { ...options.headers, authorization: `Bearer ${this.apiToken}`, accept: "application/json" };
    if (options.bytes !== undefined) headers["content-type"] = "application/octet-stream";
    else if (options.body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        // A Uint8Array is a valid body; some lib typings ask for an ArrayBuffer-backed one, hence the cast.
        body: (options.bytes as RequestInit["body"] | undefined) ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
        throw new SandpitTimeoutError(`${method} ${path}: no answer from ${this.baseUrl} within ${timeoutMs} ms`, { kind: "client", cause: error });
      }
      throw new SandpitError(`${method} ${path}: could not reach Sandpit at ${this.baseUrl} (${describe(error)})`, { cause: error });
    }
    const text = await response.text();
    let body: unknown = text;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        // keep the text
      }
    }
    if (!response.ok) throw errorFromResponse(response.status, body, response.headers);
    return body as T;
  }

  /** A request whose body is bytes (a model blob's chunk); the answer is JSON as for {@link Client.request}. */
  async requestBytes<T = Record<string, unknown>>(method: string, path: string, bytes: Uint8Array, headers: Record<string, string> = {}): Promise<T> {
    return this.request<T>(method, path, { bytes, headers, timeoutMs: Math.max(this.requestTimeoutMs, 10 * 60_000) });
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
  }
  return String(error);
}

let defaultOptions: ClientOptions = {};
let lastClient: Client | undefined;

/**
 * Sets the connection used by `CPUSandbox.create()` / `GPUSandbox.create()` when their options name
 * no `apiToken`/`baseUrl`. Without it, the last client made by `Sandpit()` is used, else the environment.
 */
export function configure(options: ClientOptions): void {
  defaultOptions = { ...options };
  lastClient = new Client(defaultOptions);
}

/** The client sandboxes use when not told otherwise. */
export function getDefaultClient(): Client {
  if (!lastClient) lastClient = new Client(defaultOptions);
  return lastClient;
}

/**
 * Authenticates and returns a client (the seed's `await Buildfunctions({apiToken})`);
 * it also becomes the default for sandboxes created without `apiToken`/`baseUrl`.
 */
export async function Sandpit(options: ClientOptions = {}): Promise<Client> {
  const client = new Client(options);
  await client.authenticate();
  lastClient = client;
  return client;
}

/** Alias so code written for the Buildfunctions SDK runs with only a changed import. */
export const Buildfunctions = Sandpit;
