import { z } from "zod";
import { and, eq, inArray } from "drizzle-orm";
import type { SandpitDb } from "@/lib/db/open-database";
import { sandboxes, type SandboxRow } from "@/lib/db/schema";
import { SandpitError } from "@/lib/errors/sandpit-error";
import type { RunLimitSettings } from "@/lib/runs/run-request-schema";

/** How deep a tree may go and how wide one sandbox's subtree may be, whatever a request asks. */
export const NESTED_LIMITS = { maxDepth: 3, maxChildren: 20 } as const;

/**
 * What a nested sandbox's whole subtree may hold at once: live descendants, their total memory, vCPUs (in
 * thousandths) and GPU sandboxes, and how many levels may sit below it. Wall time needs no field: a
 * descendant never outlives its parent.
 */
export type NestedBudget = { maxChildren: number; maxDepth: number; memoryMb: number; cpus: number; gpus: number };

/** The `nested` request field. Memory and vCPU totals default to maxChildren sandboxes of the default size. */
export function nestedRequestSchema(limits: RunLimitSettings) {
  return z
    .object(
      {
        maxChildren: z.number().int().min(1).max(NESTED_LIMITS.maxChildren, `nested.maxChildren must be at most ${NESTED_LIMITS.maxChildren}`).default(3),
        maxDepth: z.number().int().min(1).max(NESTED_LIMITS.maxDepth, `nested.maxDepth must be at most ${NESTED_LIMITS.maxDepth}`).default(1),
        memory: z
          .number()
          .int()
          .positive()
          .max(NESTED_LIMITS.maxChildren * limits.memoryMaxMb)
          .optional(),
        vcpus: z
          .number()
          .positive()
          .max(NESTED_LIMITS.maxChildren * limits.vcpusMax)
          .optional(),
        gpus: z.number().int().min(0).max(NESTED_LIMITS.maxChildren).default(0),
      },
      { error: "nested must be an object like { maxChildren: 3, maxDepth: 1 }" },
    )
    .strict()
    .transform((nested): NestedBudget => ({
      maxChildren: nested.maxChildren,
      maxDepth: nested.maxDepth,
      memoryMb: nested.memory ?? nested.maxChildren * limits.memoryDefaultMb,
      cpus: Math.round((nested.vcpus ?? nested.maxChildren) * 1000),
      gpus: nested.gpus,
    }));
}

export function parseNestedBudget(sandbox: Pick<SandboxRow, "nested">): NestedBudget | null {
  return sandbox.nested ? (JSON.parse(sandbox.nested) as NestedBudget) : null;
}

type ChildAsk = { memoryMb: number; cpus: number; gpu: string | null | undefined; nested: NestedBudget | null };

/**
 * What a child takes from its parent's budget: itself plus everything its own budget lets its subtree hold.
 * Checking each parent against its direct children's costs bounds the whole tree by the root's budget.
 */
function costOf(child: ChildAsk) {
  return {
    maxChildren: 1 + (child.nested?.maxChildren ?? 0),
    memoryMb: child.memoryMb + (child.nested?.memoryMb ?? 0),
    cpus: child.cpus + (child.nested?.cpus ?? 0),
    gpus: (child.gpu ? 1 : 0) + (child.nested?.gpus ?? 0),
  };
}

const LIVE = ["creating", "ready"] as const;

/**
 * Throws, naming the limit, when `parent` may not take `child` now: depth (400: the request can never fit),
 * then count, memory, vCPUs and GPUs against what its live children already take (429: delete one first).
 * Runs under the admission lock with the insert (admission-lock.ts), so concurrent requests cannot overdraw the budget.
 */
export async function assertFitsParentBudget(db: SandpitDb, parent: SandboxRow, child: ChildAsk): Promise<void> {
  const budget = parseNestedBudget(parent);
  if (!budget) throw new SandpitError("not_found", "this sandbox may not create sandboxes");
  if (child.nested && child.nested.maxDepth > budget.maxDepth - 1) {
    const allowed = budget.maxDepth - 1;
    throw new SandpitError(
      "validation",
      allowed === 0
        ? `nested: depth limit reached: sandbox ${parent.id} may create sandboxes, but they may not nest further (its maxDepth is ${budget.maxDepth})`
        : `nested.maxDepth: at most ${allowed} below depth ${parent.depth + 1} (the parent's maxDepth is ${budget.maxDepth})`,
      { field: "nested" },
    );
  }
  const children = await db
    .select()
    .from(sandboxes)
    .where(and(eq(sandboxes.parentSandboxId, parent.id), inArray(sandboxes.status, [...LIVE])));
  const used = { maxChildren: 0, memoryMb: 0, cpus: 0, gpus: 0 };
  for (const sibling of children) {
    const cost = costOf({ memoryMb: sibling.memoryMb, cpus: sibling.cpus, gpu: sibling.gpu, nested: parseNestedBudget(sibling) });
    used.maxChildren += cost.maxChildren;
    used.memoryMb += cost.memoryMb;
    used.cpus += cost.cpus;
    used.gpus += cost.gpus;
  }
  const ask = costOf(child);
  const over = (limit: keyof typeof used, describe: (n: number) => string) => {
    if (used[limit] + ask[limit] <= budget[limit]) return;
    throw new SandpitError(
      "rate_limited",
      `nested budget exceeded: ${limit} — sandbox ${parent.id} may hold ${describe(budget[limit])} below it, ` +
        `${describe(used[limit])} in use, this request needs ${describe(ask[limit])}; delete a child sandbox first`,
    );
  };
  over("maxChildren", (n) => `${n} sandbox${n === 1 ? "" : "es"}`);
  over("memoryMb", (n) => `${n} MB`);
  over("cpus", (n) => `${n / 1000} vCPUs`);
  over("gpus", (n) => `${n} GPU sandbox${n === 1 ? "" : "es"}`);
}

/** A child's lifetime: what it asked for, never past its parent's end. An explicit ask past it is refused. */
export function childLifetimeMs(parent: SandboxRow, requestedMs: number, explicit: boolean, now = Date.now()): number {
  const remainingMs = parent.expiresAt - now;
  if (requestedMs <= remainingMs) return requestedMs;
  if (explicit) {
    throw new SandpitError(
      "validation",
      `timeout: a child sandbox cannot outlive its parent: ${Math.floor(remainingMs / 1000)} s are left of sandbox ${parent.id}`,
      { field: "timeout" },
    );
  }
  return remainingMs;
}

/** Whether `sandbox` lies strictly below `ancestorId` (a tree is at most NESTED_LIMITS.maxDepth deep). */
export async function isDescendantOf(db: SandpitDb, sandbox: SandboxRow, ancestorId: string): Promise<boolean> {
  let parentId = sandbox.parentSandboxId;
  for (let hops = 0; parentId && hops <= NESTED_LIMITS.maxDepth; hops++) {
    if (parentId === ancestorId) return true;
    const [parent] = await db.select({ parentSandboxId: sandboxes.parentSandboxId }).from(sandboxes).where(eq(sandboxes.id, parentId)).limit(1);
    parentId = parent?.parentSandboxId ?? null;
  }
  return false;
}

/** Live descendants of a sandbox, deepest last; ended ones are walked through too (a race may leave one live below). */
export async function liveDescendants(db: SandpitDb, sandboxId: string): Promise<SandboxRow[]> {
  const found: SandboxRow[] = [];
  let level = [sandboxId];
  for (let depth = 0; level.length && depth <= NESTED_LIMITS.maxDepth; depth++) {
    const next = await db.select().from(sandboxes).where(inArray(sandboxes.parentSandboxId, level));
    found.push(...next.filter((row) => (LIVE as readonly string[]).includes(row.status)));
    level = next.map((row) => row.id);
  }
  return found;
}
