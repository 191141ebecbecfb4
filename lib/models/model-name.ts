/** A model name is a folder under MODELS_DIR, optionally one level deep (`Qwen/Qwen3-8B`). */
export const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;
