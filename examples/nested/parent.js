// The top-level function: runs inside a Node.js sandbox created with `nested`. It fans out one Python child
// sandbox per chunk, gathers their responses and returns the combined result; the children are deleted
// afterwards (and would be anyway when this sandbox ends). The SDK is pre-installed in the node image and
// configures itself from SANDPIT_API_URL / SANDPIT_API_TOKEN, which only a nested sandbox is given.
exports.handler = async (event) => {
  const { CPUSandbox } = await import("@sandpit/sdk");
  const created = await Promise.allSettled(
    event.chunks.map((_, worker) => CPUSandbox.create({ name: `worker-${worker}`, language: "python", code: event.childCode, memory: 128, timeout: 60 })),
  );
  const children = created.filter((outcome) => outcome.status === "fulfilled").map((outcome) => outcome.value);
  try {
    const failed = created.find((outcome) => outcome.status === "rejected");
    if (failed) throw failed.reason;
    const results = await Promise.all(children.map((child, worker) => child.run({ worker, numbers: event.chunks[worker] })));
    const responses = results.map((result, worker) => {
      if (result.status !== 200) throw new Error(`worker ${worker} answered ${result.status}: ${result.stderr}`);
      return result.response;
    });
    return { workers: responses.length, total: responses.reduce((sum, response) => sum + response.sum, 0), responses };
  } finally {
    await Promise.all(children.map((child) => child.delete().catch(() => {})));
  }
};
