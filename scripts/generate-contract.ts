// `npm run contract`: rewrites the TypeScript SDK's generated types from the server's OpenAPI document.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { renderSdkTypes, SDK_TYPES_PATH } from "@/lib/openapi/render-sdk-types";

const target = path.resolve(import.meta.dirname, "..", SDK_TYPES_PATH);
writeFileSync(target, await renderSdkTypes());
console.log(`wrote ${SDK_TYPES_PATH}`);
