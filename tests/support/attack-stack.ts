import { randomBytes } from "node:crypto";
import { expect } from "vitest";
import { runToEnd, type RunView } from "./api-client";
import { HostWatch, takeSnapshot } from "./host-snapshot";
import { startStack, type ContainerRuntime, type Stack } from "./stack";

/** A real stack with its own instance label, watched from the host, for attack tests. */
export type AttackStack = { stack: Stack; watch: HostWatch; instanceId: string; run(body: Record<string, unknown>): Promise<RunView> };

export async function startAttackStack(containerRuntime: ContainerRuntime, workerEnv: Record<string, string> = {}): Promise<AttackStack> {
  const instanceId = `adversarial-${containerRuntime}-${randomBytes(4).toString("hex")}`;
  const watch = HostWatch.start(instanceId);
  const stack = await startStack({ containerRuntime, workerEnv: { INSTANCE_ID: instanceId, WORKER_CONCURRENCY: "4", ...workerEnv } });
  return { stack, watch, instanceId, run: (body) => runToEnd(stack.baseUrl, body) };
}

export async function stopAttackStack(attack: AttackStack | undefined): Promise<void> {
  attack?.watch.stop();
  await attack?.stack.stop();
}

/** The normal run that must succeed right after every attack. */
export async function expectHelloWorld(attack: AttackStack): Promise<void> {
  const [python, bash] = await Promise.all([
    attack.run({ runtime: "python", code: "print('hello, world')" }),
    attack.run({ runtime: "bash", code: "echo hello, world" }),
  ]);
  for (const run of [python, bash]) {
    expect(run.status, JSON.stringify(run)).toBe("succeeded");
    expect(run.stdout).toBe("hello, world\n");
  }
}

/**
 * One attack group: the host must be clean before it, the attack's own assertions run, a normal run
 * succeeds right after, and the host is clean again (no containers, processes, disk, memory or pids lost).
 */
export async function underAttack(attack: AttackStack, body: () => Promise<void>): Promise<void> {
  const before = takeSnapshot();
  await attack.watch.expectClean(before);
  const seenBefore = attack.watch.seenContainers();
  await body();
  await expectHelloWorld(attack);
  await attack.watch.expectClean(before);
  // The watch saw this group's containers come and go: the check above is about real containers.
  expect(attack.watch.seenContainers()).toBeGreaterThan(seenBefore);
}
