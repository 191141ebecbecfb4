import { errorResponse } from "./handle-api";
import { SandpitError } from "@/lib/errors/sandpit-error";

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
type Method = (typeof METHODS)[number];
type Handler = (request: Request) => Response;

/**
 * JSON answers for the methods a route does not serve (Next.js would send a bare 405).
 * Use: `export const { GET, PUT, PATCH, DELETE } = otherMethods(["POST"]);`
 */
export function otherMethods(allowed: Method[]): Record<Method, Handler> {
  const handler: Handler = (request) => {
    const response = errorResponse(new SandpitError("method_not_allowed", `${request.method} is not supported here; use ${allowed.join(" or ")}`));
    response.headers.set("allow", allowed.join(", "));
    return response;
  };
  return Object.fromEntries(METHODS.map((method) => [method, handler])) as Record<Method, Handler>;
}

/** For paths under /api that name no endpoint at all. */
export const unknownEndpoint: Handler = (request) =>
  errorResponse(new SandpitError("not_found", `no API endpoint ${new URL(request.url).pathname}; see /api/v1/openapi.json`));
