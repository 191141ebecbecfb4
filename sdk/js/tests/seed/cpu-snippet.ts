// The seed's "CPU Sandboxes" snippet (shared/seed/sandboxes-product-docs.txt, "Create Hardware-Isolated Sandbox and
// Run Code"), copied as is. Changed: the import line only (was `from 'buildfunctions'`). The token and the base URL
// come from SANDPIT_API_TOKEN / SANDPIT_BASE_URL, set by seed.test.ts, so no line of the snippet names them.
import { CPUSandbox } from '../../src/index.js';

// Create a CPU Sandbox
const cpuSandbox = await CPUSandbox.create({
    name: "text-analyzer",
    runtime: "node",
    code: "console.log('Hello from Sandbox!');",
    memory: "512MB",
    timeout: 120
});

try {
    const result = await cpuSandbox.run();
    console.log(result.stdout);
} finally {
    // Manually clean up
    await cpuSandbox.delete();
}
