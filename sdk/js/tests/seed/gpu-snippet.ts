// The seed's "GPU Sandboxes / Run Inference" snippet (shared/seed/sandboxes-product-docs.txt), copied as is.
// Changed: the import line (the seed elides it as `...`; here from the Sandpit SDK instead of 'buildfunctions'),
// and the seed's other `...` filled in: `prompt` is defined, and the result is exported for the test to read.
// The token and the base URL come from SANDPIT_API_TOKEN / SANDPIT_BASE_URL, set by seed.test.ts.
import { GPUSandbox } from '../../src/index.js';

const prompt = 'Write a haiku about sandboxes.';

// Create a GPU Sandbox
const sandbox = await GPUSandbox.create({
  name: 'secure-agent-action',
  memory: 10000,
  timeout: 300,
  vcpus: 6,
  language: 'python',
  requirements: ['transformers', 'torch', 'accelerate'],
  model: '/path/to/models/Qwen/Qwen3-8B',
  code: `python inference_script.py "${prompt}"`,
})

// Run script in a hardware-isolated virtual machine with full GPU access
const result = await sandbox.run()

export { sandbox, result };
