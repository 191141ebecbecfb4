import { SandpitError } from "@/lib/errors/sandpit-error";
import { quoteClientInput } from "@/lib/http/quote-client-input";

/** The one answer for a `model` the store lacks: what to do about it, for an uploaded name and for a hub id. */
export function modelNotInStore(name: string): SandpitError {
  const hub = name.includes("/")
    ? ` It looks like a Hugging Face hub id: the server fetches hub models only when its operator sets MODEL_FETCH=1, and ${quoteClientInput(name)} has not been fetched.`
    : "";
  return new SandpitError(
    "validation",
    `model: ${quoteClientInput(name)} is not in the model store.${hub} Upload the folder first (POST /api/v1/models/uploads; README "Model store").`,
    { field: "model" },
  );
}
