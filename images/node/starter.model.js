// The chosen model is mounted read-only at MODEL_PATH (a folder in Hugging Face layout).
const fs = require("node:fs");
const path = require("node:path");

const modelPath = process.env.MODEL_PATH;
console.log("model folder:", modelPath);
for (const entry of fs.readdirSync(modelPath, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile()) continue;
  const file = path.join(entry.parentPath, entry.name);
  console.log(`  ${path.relative(modelPath, file)}: ${fs.statSync(file).size} bytes`);
}
const configFile = path.join(modelPath, "config.json");
if (fs.existsSync(configFile)) {
  const config = JSON.parse(fs.readFileSync(configFile, "utf8"));
  console.log("model_type:", config.model_type, "| architectures:", config.architectures);
}
