import { unknownEndpoint } from "@/lib/http/method-not-allowed";

/** Any /api path no route serves: a JSON 404 like the rest of the API, not the HTML not-found page. */
export const dynamic = "force-dynamic";
export const GET = unknownEndpoint;
export const POST = unknownEndpoint;
export const PUT = unknownEndpoint;
export const PATCH = unknownEndpoint;
export const DELETE = unknownEndpoint;
