/**
 * `npm run bench`: our cold and warm paths against the baselines they must beat, measured side by side
 * on this machine in one run (see README "Benchmark"). Writes bench/results/latest.{md,json}.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Dockerode from "dockerode";
import { io } from "socket.io-client";
import type { RuntimeName } from "@/lib/runtimes/catalog";
import { buildContainerSpec } from "@/worker/container/build-container-spec";
import { toDockerCreateOptions } from "@/worker/engine/docker-engine";
import { DEFAULT_HARDENING } from "@/worker/container/hardening-policy";
import { describeGvisor, type RegisteredRuntime } from "@/worker/container/describe-gvisor";
import { Client, runCode } from "../sdk/js/src/index";
import { startStack, type Stack } from "../tests/support/stack";
import { loadBenchConfig, type BenchContainerRuntime } from "./lib/bench-config";
import { dockerRunArgs } from "./lib/docker-run-args";
import { evaluateGoals, renderMarkdown, renderWorkerScaling, STAGES, type BenchResults, type ContainerRuntimeResults, type Stage } from "./lib/report";
import { HELLO, IN_IMAGE_COMMAND, TIMED_PROGRAMS, TIMESTAMP_WRITER, type TimedProgram } from "./lib/programs";
import { epochMs, sleep, summarize } from "./lib/stats";
import { hostInterpreters } from "./lib/host-interpreters";

const config = loadBenchConfig();
const root = path.resolve(import.meta.dirname, "..");
const DEFAULT_MEMORY_MB = 256;
/** Between warm runs at concurrency 1: long enough for the pool to replace the container just taken. */
const WARM_PACE_MS = { runc: 150, runsc: 250, "runsc-debian": 250 } as const;
const docker = new Dockerode();

/** The worker's container runtime and hardening for one benchmarked Docker runtime. */
function sandboxFor(containerRuntime: BenchContainerRuntime) {
  const gvisor = containerRuntime !== "runc";
  return {
    containerRuntime: gvisor ? ("runsc" as const) : ("runc" as const),
    policy: { ...DEFAULT_HARDENING, runscDockerRuntime: gvisor ? containerRuntime : DEFAULT_HARDENING.runscDockerRuntime },
    workerEnv: (gvisor ? { SANDBOX_RUNSC_DOCKER_RUNTIME: containerRuntime } : {}) as Record<string, string>,
  };
}

const log = (line: string) => console.log(`[bench] ${line}`);

function timeCommand(command: string, args: string[], env?: Record<string, string>): number {
  const started = epochMs();
  const result = spawnSync(command, args, { env: (env ?? { PATH: config.path, HOME: config.home }) as NodeJS.ProcessEnv, encoding: "utf8" });
  const elapsed = epochMs() - started;
  if (result.status !== 0 || !result.stdout.includes("hello")) {
    throw new Error(`${command} ${args.slice(-3).join(" ")} failed (${result.status}): ${result.stderr.slice(-500)}`);
  }
  return elapsed;
}

function repeat(count: number, warmups: number, measure: () => number): number[] {
  for (let i = 0; i < warmups; i++) measure();
  return Array.from({ length: count }, measure);
}

async function repeatAsync(count: number, warmups: number, measure: () => Promise<number>, paceMs = 0): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < warmups + count; i++) {
    if (paceMs) await sleep(paceMs);
    const sample = await measure();
    if (i >= warmups) samples.push(sample);
  }
  return samples;
}

function benchSpec(runtime: RuntimeName, containerRuntime: BenchContainerRuntime) {
  const sandbox = sandboxFor(containerRuntime);
  return toDockerCreateOptions(
    buildContainerSpec(
      {
        role: { run: "bench" },
        workerId: "bench",
        instanceId: "bench",
        image: `sandpit/${runtime}`,
        memoryMb: DEFAULT_MEMORY_MB,
        cpus: 1,
        containerRuntime: sandbox.containerRuntime,
      },
      sandbox.policy,
    ),
  );
}

function dockerArgs(runtime: RuntimeName, containerRuntime: BenchContainerRuntime): string[] {
  return dockerRunArgs(benchSpec(runtime, containerRuntime), IN_IMAGE_COMMAND[runtime]);
}

/** What the Engine API costs per hardened container, without any run: create+start, then a forced remove. */
async function containerCost(containerRuntime: BenchContainerRuntime, count: number): Promise<{ createStart: number[]; remove: number[] }> {
  const spec = { ...benchSpec("python", containerRuntime), Cmd: ["sleep", "60"], Entrypoint: [], OpenStdin: false, AttachStdin: false, StdinOnce: false };
  const createStart: number[] = [];
  const remove: number[] = [];
  for (let i = 0; i < count + 2; i++) {
    const started = epochMs();
    const container = await docker.createContainer(spec);
    await container.start();
    const running = epochMs();
    await container.remove({ force: true });
    const removed = epochMs();
    if (i < 2) continue; // warm-up
    createStart.push(running - started);
    remove.push(removed - running);
  }
  return { createStart, remove };
}

/** Version and platform of a gVisor Docker runtime, as the worker reports it. */
async function gvisorLabel(containerRuntime: BenchContainerRuntime): Promise<string | undefined> {
  if (containerRuntime === "runc") return undefined;
  const info = (await docker.info()) as { Runtimes?: Record<string, RegisteredRuntime> };
  const runtime = info.Runtimes?.[containerRuntime];
  if (!runtime) throw new Error(`Docker has no runtime ${containerRuntime}: run scripts/host-setup.sh`);
  const build = await describeGvisor(runtime);
  return `${build.version}, ${build.platform}`;
}

/** A timed program's own running time (it prints `elapsed <ms>`), run through the warm HTTP path. */
function timedProgram(stack: Stack, token: string, program: TimedProgram) {
  return async () => {
    const answer = await postRun(stack, token, { runtime: "python", code: TIMED_PROGRAMS[program], timeout: 60 });
    const elapsed = /^elapsed (\d+(?:\.\d+)?)$/m.exec(answer.stdout.slice(0, 1000));
    if (!elapsed) throw new Error(`${program}: unexpected output ${JSON.stringify(answer.stdout.slice(0, 300))}`);
    return Number(elapsed[1]);
  };
}

type RunAnswer = {
  status: string;
  stdout: string;
  warm: boolean;
  error: string | null;
  queuedAt: string;
  startedAt: string | null;
  firstOutputAt: string | null;
  finishedAt: string | null;
};

/** Where a run's time goes, from the server's own timestamps (ms resolution): the profile behind the table. */
type StageSamples = Record<Stage, number[]>;

function newStageSamples(): StageSamples {
  return Object.fromEntries(STAGES.map((stage) => [stage, []])) as unknown as StageSamples;
}

function recordStages(stages: StageSamples, sentAt: number, answeredAt: number, answer: RunAnswer): void {
  const at = (iso: string | null) => (iso ? Date.parse(iso) : NaN);
  const [queued, started, firstOutput, finished] = [at(answer.queuedAt), at(answer.startedAt), at(answer.firstOutputAt), at(answer.finishedAt)];
  stages["request→queued"].push(queued - sentAt);
  stages["queued→code sent"].push(started - queued);
  stages["code sent→first output"].push(firstOutput - started);
  stages["first output→finished"].push(finished - firstOutput);
  stages["finished→answer"].push(answeredAt - finished);
}

async function postRun(stack: Stack, token: string, body: object): Promise<RunAnswer> {
  const response = await fetch(`${stack.baseUrl}/api/v1/runs?wait=1`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const answer = (await response.json()) as RunAnswer;
  if (response.status !== 201 || answer.status !== "succeeded") throw new Error(`run failed: ${response.status} ${JSON.stringify(answer).slice(0, 500)}`);
  return answer;
}

/** Times one hello-world through the HTTP API; counts whether it was warm. */
function httpHello(stack: Stack, token: string, runtime: RuntimeName, warmth: { warm: number; total: number }, stages?: StageSamples) {
  return async () => {
    const started = epochMs();
    const answer = await postRun(stack, token, { runtime, code: HELLO[runtime] });
    const answered = epochMs();
    const elapsed = answered - started;
    if (stages) recordStages(stages, started, answered, answer);
    if (answer.stdout !== "hello\n") throw new Error(`unexpected output ${JSON.stringify(answer.stdout)}`);
    warmth.total++;
    if (answer.warm) warmth.warm++;
    return elapsed;
  };
}

function sdkHello(client: Client, runtime: RuntimeName, warmth: { warm: number; total: number }) {
  return async () => {
    const started = epochMs();
    // The SDK types `runtime` as its own list of names; the catalog's names are what the server accepts.
    const result = await runCode({ client, runtime: runtime as Parameters<typeof runCode>[0]["runtime"], code: HELLO[runtime] });
    const elapsed = epochMs() - started;
    if (result.status !== "succeeded" || result.stdout !== "hello\n") throw new Error(`sdk run failed: ${JSON.stringify(result).slice(0, 300)}`);
    warmth.total++;
    if (result.warm) warmth.warm++;
    return elapsed;
  };
}

function createToken(stack: Stack): string {
  const out = execFileSync("npx", ["tsx", "scripts/token.ts", "create", "bench"], {
    cwd: root,
    env: { PATH: config.path, HOME: config.home, DATA_DIR: stack.dataDir } as unknown as NodeJS.ProcessEnv,
    encoding: "utf8",
  });
  return out.trim().split("\n").at(-1)!.trim();
}

/** Peak resident memory of the worker process, sampled while a stack is measured. */
function sampleRss(pid: number, peak: { kb: number }): NodeJS.Timeout {
  return setInterval(() => {
    try {
      const match = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (match) peak.kb = Math.max(peak.kb, Number(match[1]));
    } catch {
      // exited
    }
  }, 250);
}

/** Time from the program's write to its arrival at a Socket.IO client, over several writes per run. */
async function socketLatencies(stack: Stack, token: string, runs: number): Promise<number[]> {
  const samples: number[] = [];
  const socket = io(stack.baseUrl, { transports: ["websocket"] });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("connect_error", reject);
  });
  try {
    for (let i = 0; i < runs; i++) {
      await sleep(WARM_PACE_MS.runsc);
      const response = await fetch(`${stack.baseUrl}/api/v1/runs`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ runtime: "python", code: TIMESTAMP_WRITER }),
      });
      const { id } = (await response.json()) as { id: string };
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no end event")), 30_000);
        const onEvent = (event: { runId: string; type: string; data?: string }) => {
          if (event.runId !== id) return;
          const arrived = epochMs();
          if (event.type === "chunk") {
            // A chunk may carry several writes if they arrived together: each write's own delay counts.
            for (const line of event.data!.split("\n").filter(Boolean)) samples.push(arrived - Number(line));
          } else if (event.type === "end") {
            clearTimeout(timer);
            socket.off("run:event", onEvent);
            resolve();
          }
        };
        socket.on("run:event", onEvent);
        socket.emit("run:subscribe", { runId: id, afterSeq: -1 });
      });
    }
  } finally {
    socket.close();
  }
  return samples;
}

/** Runs back to back from `concurrency` clients for `seconds`: sustained runs per second and each run's latency. */
async function sustained(concurrency: number, seconds: number, once: () => Promise<number>): Promise<{ perSecond: number; latencies: number[] }> {
  const latencies: number[] = [];
  const started = epochMs();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (epochMs() < deadline) latencies.push(await once());
    }),
  );
  return { perSecond: latencies.length / ((epochMs() - started) / 1000), latencies };
}

function dockerOnce(args: string[]): () => Promise<number> {
  return () =>
    new Promise((resolve, reject) => {
      const started = epochMs();
      const child = spawn("docker", args, { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.on("data", (data) => (out += data));
      child.on("exit", (code) => (code === 0 && out.includes("hello") ? resolve(epochMs() - started) : reject(new Error(`docker run exited ${code}`))));
    });
}

function emptyResults(containerRuntime: BenchContainerRuntime): ContainerRuntimeResults {
  return { containerRuntime, docker: {}, cold: {}, warmHttp: {}, warmSdk: {}, warmHitRate: {}, warmStages: {}, coldStages: {} };
}

async function benchContainerRuntime(containerRuntime: BenchContainerRuntime): Promise<ContainerRuntimeResults> {
  const result = emptyResults(containerRuntime);
  const n = config.runs;
  const sandbox = sandboxFor(containerRuntime);
  result.gvisor = await gvisorLabel(containerRuntime);
  if (result.gvisor) log(`${containerRuntime}: gVisor ${result.gvisor}`);

  log(`${containerRuntime}: container create+start and remove x${config.programRuns}`);
  const cost = await containerCost(containerRuntime, config.programRuns);
  result.containerCost = { createStart: summarize(cost.createStart), remove: summarize(cost.remove) };

  for (const runtime of config.runtimes) {
    log(`${containerRuntime}: docker run --rm ${runtime} x${n}`);
    result.docker[runtime] = summarize(repeat(n, 3, () => timeCommand("docker", dockerArgs(runtime, containerRuntime))));
  }

  const webEnv = { TOKEN_RUNS_PER_MINUTE: "1000000", MAX_QUEUED_RUNS: "100000" };
  log(`${containerRuntime}: cold path (pool off)`);
  let stack = await startStack({ containerRuntime: sandbox.containerRuntime, webEnv, workerEnv: { ...sandbox.workerEnv, POOL_ENABLED: "0" } });
  try {
    const token = createToken(stack);
    for (const runtime of config.runtimes) {
      log(`${containerRuntime}: cold ${runtime} x${n}`);
      const stages = newStageSamples();
      result.cold[runtime] = summarize(await repeatAsync(n, 3, httpHello(stack, token, runtime, { warm: 0, total: 0 }, stages)));
      result.coldStages[runtime] = Object.fromEntries(Object.entries(stages).map(([stage, samples]) => [stage, summarize(samples.slice(3))]));
    }
  } finally {
    await stack.stop();
  }

  log(`${containerRuntime}: warm path (pool on)`);
  stack = await startStack({ containerRuntime: sandbox.containerRuntime, webEnv, workerEnv: sandbox.workerEnv });
  const rss = { kb: 0 };
  const rssTimer = sampleRss(stack.workers[0].pid!, rss);
  try {
    const token = createToken(stack);
    const client = new Client({ apiToken: token, baseUrl: stack.baseUrl });
    await sleep(3000); // the pool's first fill
    const pace = WARM_PACE_MS[containerRuntime];
    for (const runtime of config.runtimes) {
      const warmth = { warm: 0, total: 0 };
      log(`${containerRuntime}: warm ${runtime} via HTTP x${n}, then via the TypeScript SDK x${n}`);
      const stages = newStageSamples();
      result.warmHttp[runtime] = summarize(await repeatAsync(n, 3, httpHello(stack, token, runtime, warmth, stages), pace));
      result.warmStages[runtime] = Object.fromEntries(Object.entries(stages).map(([stage, samples]) => [stage, summarize(samples.slice(3))]));
      result.warmSdk[runtime] = summarize(await repeatAsync(n, 3, sdkHello(client, runtime, warmth), pace));
      result.warmHitRate[runtime] = warmth.warm / warmth.total;
    }

    log(`${containerRuntime}: Socket.IO streaming latency`);
    result.socketFirstByte = summarize(await socketLatencies(stack, token, Math.ceil(n / 5)));

    log(`${containerRuntime}: warm python at concurrency 2 (two paced clients)`);
    const warmthC2 = { warm: 0, total: 0 };
    const halves = await Promise.all([0, 1].map(() => repeatAsync(Math.ceil(n / 2), 1, httpHello(stack, token, "python", warmthC2), pace * 2)));
    result.warmPythonC2 = { ...summarize(halves.flat()), hitRate: warmthC2.warm / warmthC2.total };

    log(`${containerRuntime}: unpaced back-to-back warm python, one client x${config.unpacedRuns}`);
    await sleep(pace * 4); // start from a full pool, as the paced rows do
    const unpacedWarmth = { warm: 0, total: 0 };
    const unpacedStarted = epochMs();
    const unpaced = await repeatAsync(config.unpacedRuns, 0, httpHello(stack, token, "python", unpacedWarmth));
    const unpacedSeconds = (epochMs() - unpacedStarted) / 1000;
    result.unpaced = { ...summarize(unpaced), perSecond: unpaced.length / unpacedSeconds, hitRate: unpacedWarmth.warm / unpacedWarmth.total };
    result.throughputPoolC1 = result.unpaced.perSecond;

    result.sustainedPool = {};
    for (const concurrency of config.concurrency) {
      log(`${containerRuntime}: sustained load, pool on, concurrency ${concurrency}, ${config.throughputSeconds} s`);
      await sleep(pace * 4);
      const warmth = { warm: 0, total: 0 };
      const run = await sustained(concurrency, config.throughputSeconds, httpHello(stack, token, "python", warmth));
      result.sustainedPool[String(concurrency)] = { ...summarize(run.latencies), perSecond: run.perSecond, hitRate: warmth.warm / warmth.total };
      if (concurrency === 2) result.throughputPoolC2 = run.perSecond;
    }

    result.programs = {};
    for (const program of Object.keys(TIMED_PROGRAMS) as TimedProgram[]) {
      log(`${containerRuntime}: ${program} x${config.programRuns}`);
      result.programs[program] = summarize(await repeatAsync(config.programRuns, 1, timedProgram(stack, token, program), pace));
    }
  } finally {
    clearInterval(rssTimer);
    result.workerPeakRssMb = rss.kb / 1024;
    await stack.stop();
  }

  for (const concurrency of [1, 2]) {
    log(`${containerRuntime}: sustained throughput, docker run --rm, concurrency ${concurrency}`);
    const run = await sustained(concurrency, config.throughputSeconds, dockerOnce(dockerArgs("python", containerRuntime)));
    result[concurrency === 1 ? "throughputDockerC1" : "throughputDockerC2"] = run.perSecond;
  }
  return result;
}

/**
 * The same load against 1, 2, 3… workers on one database (one stack per count, fresh each time): clients send warm
 * python hellos back to back for BENCH_THROUGHPUT_S. On one host the workers share its cores and Docker daemon, so
 * this shows what a second worker on the same machine buys (README "Benchmark": the ceiling), not what another host would.
 */
async function benchWorkerScaling(containerRuntime: BenchContainerRuntime): Promise<NonNullable<ContainerRuntimeResults["workerScaling"]>> {
  const sandbox = sandboxFor(containerRuntime);
  const scaling: NonNullable<ContainerRuntimeResults["workerScaling"]> = {};
  for (const workers of config.workerCounts) {
    log(`${containerRuntime}: ${workers} worker(s), ${config.workerClients} clients back to back, ${config.throughputSeconds} s`);
    const stack = await startStack({
      containerRuntime: sandbox.containerRuntime,
      workers,
      webEnv: { TOKEN_RUNS_PER_MINUTE: "1000000", MAX_QUEUED_RUNS: "100000" },
      // Each worker at its default concurrency (the machine's cores), as `npm run up` starts it.
      workerEnv: { ...sandbox.workerEnv, WORKER_CONCURRENCY: String(os.availableParallelism()) },
    });
    try {
      const token = createToken(stack);
      await sleep(3000); // the pools' first fill
      const warmth = { warm: 0, total: 0 };
      await sustained(config.workerClients, 2, httpHello(stack, token, "python", { warm: 0, total: 0 })); // warm-up, not counted
      const run = await sustained(config.workerClients, config.throughputSeconds, httpHello(stack, token, "python", warmth));
      scaling[String(workers)] = { ...summarize(run.latencies), perSecond: run.perSecond, hitRate: warmth.warm / warmth.total };
      log(`${containerRuntime}: ${workers} worker(s): ${run.perSecond.toFixed(2)} runs/s`);
    } finally {
      await stack.stop();
    }
  }
  return scaling;
}

/** `BENCH_ONLY=workers`: the scale-out rows alone, for runc and runsc, in bench/results/workers-latest.{json,md}. */
async function mainWorkersOnly() {
  const startedAt = new Date();
  // A shared machine's other load moves these numbers: recorded beside them.
  const loadBefore = os.loadavg()[0];
  const containerRuntimes = config.containerRuntimes.filter((runtime) => runtime !== "runsc-debian");
  const perRuntime: ContainerRuntimeResults[] = [];
  for (const containerRuntime of containerRuntimes) {
    perRuntime.push({
      ...emptyResults(containerRuntime),
      gvisor: await gvisorLabel(containerRuntime),
      workerScaling: await benchWorkerScaling(containerRuntime),
    });
  }
  const results = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: machineDescription(),
    loadAverage1m: { before: loadBefore, after: os.loadavg()[0] },
    workerClients: config.workerClients,
    containerRuntimes: perRuntime,
  };
  const load = `1-minute load average ${loadBefore.toFixed(1)} before, ${results.loadAverage1m.after.toFixed(1)} after`;
  const markdown =
    [`Measured ${results.startedAt.slice(0, 16).replace("T", " ")} UTC on ${results.machine} (${load}).`, "", ...renderWorkerScaling(results)].join("\n") +
    "\n";
  const dir = path.join(root, "bench/results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "workers-latest.json"), JSON.stringify(results, null, 2) + "\n");
  writeFileSync(path.join(dir, "workers-latest.md"), markdown);
  console.log("\n" + markdown);
}

async function main() {
  if (config.only === "workers") return mainWorkersOnly();
  const startedAt = new Date();
  const interpreters = hostInterpreters(path.join(root, "bench/tmp"), config);
  const bare: BenchResults["bare"] = {};
  for (const runtime of config.runtimes) {
    const interpreter = interpreters[runtime];
    if (!interpreter) {
      log(`bare ${runtime}: not installed on the host, skipped`);
      continue;
    }
    log(`bare ${runtime} on the host (${interpreter.label}) x${config.runs}`);
    bare[runtime] = {
      label: interpreter.label,
      ...summarize(repeat(config.runs, 3, () => timeCommand(interpreter.command, interpreter.args, interpreter.env))),
    };
  }
  const perRuntime: ContainerRuntimeResults[] = [];
  for (const containerRuntime of config.containerRuntimes) perRuntime.push(await benchContainerRuntime(containerRuntime));
  // Scale-out rows for the runtimes sandboxes use (Debian's runsc is only a comparison point).
  for (const result of perRuntime) {
    if (result.containerRuntime !== "runsc-debian") result.workerScaling = await benchWorkerScaling(result.containerRuntime);
  }

  const results: BenchResults = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: machineDescription(),
    runsPerMeasurement: config.runs,
    bare,
    containerRuntimes: perRuntime,
    goals: [],
    workerClients: config.workerClients,
  };
  results.goals = evaluateGoals(results);
  const markdown = renderMarkdown(results);
  const dir = path.join(root, "bench/results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "latest.json"), JSON.stringify(results, null, 2) + "\n");
  writeFileSync(path.join(dir, "latest.md"), markdown);
  if (config.updateReadme) updateReadme(markdown);
  console.log("\n" + markdown);
}

function machineDescription(): string {
  const cpu = /model name\s*:\s*(.+)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "unknown CPU";
  const cores = readFileSync("/proc/cpuinfo", "utf8").match(/^processor/gm)?.length ?? 0;
  const docker = spawnSync("docker", ["version", "--format", "{{.Server.Version}}"], { encoding: "utf8" }).stdout.trim();
  return `${cores} × ${cpu}, Docker ${docker}, Node ${process.version}`;
}

/** Replaces the table between the README's bench markers, so the README always shows the latest run. */
function updateReadme(markdown: string): void {
  const file = path.join(root, "README.md");
  if (!existsSync(file)) return;
  const text = readFileSync(file, "utf8");
  const start = "<!-- bench:start -->";
  const end = "<!-- bench:end -->";
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) return log("README has no bench markers; not updated");
  writeFileSync(file, text.slice(0, from + start.length) + "\n" + markdown + "\n" + text.slice(to));
  log("README benchmark table updated");
}

main().catch((error) => {
  console.error("[bench] failed:", error);
  process.exit(1);
});
