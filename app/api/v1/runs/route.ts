import { otherMethods } from "@/lib/http/method-not-allowed";
import { createRunResponse } from "@/lib/runs/create-run-response";

export const dynamic = "force-dynamic";
export const { GET, PUT, PATCH, DELETE } = otherMethods(["POST"]);

// server.ts answers POST /api/v1/runs itself, ahead of Next; the route keeps it served wherever Next runs alone.
export const POST = createRunResponse;
