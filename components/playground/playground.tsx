"use client";

import { useCallback, useEffect, useId, useRef, useState, useTransition } from "react";
import { cancelRunAction } from "@/app/actions/cancel-run-action";
import { createRunAction } from "@/app/actions/create-run-action";
import { CodeEditor } from "@/components/editor/code-editor";
import { RunOutput } from "@/components/console/run-output";
import { ShareDialog } from "@/components/share/share-dialog";
import { RuntimeSelect } from "@/components/ui/runtime-select";
import { SiteHeader } from "@/components/ui/site-header";
import { useRunStream } from "@/lib/realtime/use-run-stream";
import { useRuntimes } from "@/components/ui/runtimes-context";
import type { RuntimeName } from "@/lib/runtimes/runtime-schema";
import type { ModelEntry } from "@/lib/models/list-models";
import { ModelPicker } from "./model-picker";
import { RecentRuns } from "./recent-runs";
import { rememberRun, titleForCode } from "./recent-runs-store";
import { ResourceControls, type GpuInfo, type ResourceChoice, type ResourceLimits } from "./resource-controls";

export type PlaygroundDraft = {
  runtime: RuntimeName;
  code: string;
  stdin: string;
  resources: ResourceChoice;
  model: string;
};

type Props = {
  limits: ResourceLimits;
  models: ModelEntry[];
  modelsDir: string;
  gpu: GpuInfo;
  /** A run forked from a share page ("Open in playground"); wins over the saved draft. */
  fork: PlaygroundDraft | null;
};

const DRAFT_KEY = "sandpit:draft";
const RUN_PARAM = "run";

/** The draft this browser saved, if its runtime still exists. */
function loadDraft(isRuntimeName: (name: string) => boolean): Partial<PlaygroundDraft> | null {
  try {
    const parsed = JSON.parse(localStorage.getItem(DRAFT_KEY) ?? "null");
    return parsed && typeof parsed === "object" && typeof parsed.runtime === "string" && isRuntimeName(parsed.runtime) && typeof parsed.code === "string"
      ? parsed
      : null;
  } catch {
    return null;
  }
}

/** The playground: editor, runtime/model/resource pickers, stdin, Run/Cancel, live console, share. */
export function Playground({ limits, models, modelsDir, gpu, fork }: Props) {
  const runtimes = useRuntimes();
  const runtimeOf = (name: RuntimeName) => runtimes.find(name) ?? runtimes.defaultRuntime;
  const defaults: PlaygroundDraft = {
    runtime: runtimes.defaultRuntime.name,
    code: runtimes.defaultRuntime.starter,
    stdin: "",
    resources: { memoryMb: limits.memoryDefaultMb, timeoutS: limits.timeoutDefaultS, vcpus: 1 },
    model: "",
  };
  const [draft, setDraft] = useState<PlaygroundDraft>(fork ?? defaults);
  const [runId, setRunId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [shareOpen, setShareOpen] = useState(false);
  const [pending, startTransition] = useTransition();
  const stream = useRunStream(runId);
  const running = runId !== null && stream.end === null;
  const ids = { runtime: useId(), stdin: useId() };
  const restored = useRef(false);
  const draftRef = useRef(draft);
  draftRef.current = draft;

  // After hydration: the saved draft (unless forking) and the run in the URL, so a reload resumes its console.
  useEffect(() => {
    const url = new URL(window.location.href);
    if (!fork) {
      const saved = loadDraft((name) => runtimes.find(name) !== undefined);
      if (saved) setDraft((current) => ({ ...current, ...saved, resources: { ...current.resources, ...saved.resources } }));
    } else {
      for (const param of ["fork", "c", "code", "runtime"]) url.searchParams.delete(param);
    }
    const fromUrl = url.searchParams.get(RUN_PARAM) ?? sessionStorage.getItem("sandpit:current-run");
    if (fromUrl && /^[A-Za-z0-9_-]{1,64}$/.test(fromUrl)) {
      setRunId(fromUrl);
      url.searchParams.set(RUN_PARAM, fromUrl);
    }
    window.history.replaceState(null, "", url);
    restored.current = true;
  }, [fork]);

  useEffect(() => {
    if (!restored.current) return;
    const timer = setTimeout(() => {
      try {
        localStorage.setItem(DRAFT_KEY, JSON.stringify(draft));
      } catch {}
    }, 300);
    return () => clearTimeout(timer);
  }, [draft]);

  // The ref is updated at once, so Ctrl+Enter right after an edit runs the code as typed, not the last render's.
  const update = (patch: Partial<PlaygroundDraft>) => {
    draftRef.current = { ...draftRef.current, ...patch };
    setDraft((current) => ({ ...current, ...patch }));
  };

  const rememberCurrentRun = (id: string | null) => {
    const url = new URL(window.location.href);
    if (id) url.searchParams.set(RUN_PARAM, id);
    else url.searchParams.delete(RUN_PARAM);
    window.history.replaceState(null, "", url);
    try {
      if (id) sessionStorage.setItem("sandpit:current-run", id);
      else sessionStorage.removeItem("sandpit:current-run");
    } catch {}
  };

  const busyRef = useRef(false);
  busyRef.current = pending || running;

  const run = useCallback(() => {
    if (busyRef.current) return;
    busyRef.current = true;
    const current = draftRef.current;
    startTransition(async () => {
      setError(null);
      const result = await createRunAction({
        source: "playground",
        request: {
          runtime: current.runtime,
          code: current.code,
          stdin: current.stdin,
          timeout: current.resources.timeoutS,
          memory: current.resources.memoryMb,
          vcpus: current.resources.vcpus,
          ...(current.model ? { model: current.model } : {}),
        },
      });
      if (result.ok) {
        setRunId(result.id);
        rememberCurrentRun(result.id);
        rememberRun({ id: result.id, runtime: current.runtime, title: titleForCode(current.code), at: Date.now() });
      } else {
        setError(result.error);
      }
    });
  }, []);

  const cancel = () => {
    if (runId) void cancelRunAction(runId).then((result) => !result.ok && setError(result.error ?? "could not cancel"));
  };

  // Ctrl/Cmd+Enter anywhere on the page (Monaco handles it itself while focused and stops the event).
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !event.defaultPrevented) {
        event.preventDefault();
        run();
      }
    };
    window.addEventListener("keydown", onKeyDown);
    return () => window.removeEventListener("keydown", onKeyDown);
  }, [run]);

  /** Code the user has not written: empty, or one of the current runtime's snippets. */
  const unedited = (code: string) => code.trim() === "" || code === runtimeOf(draft.runtime).starter || code === runtimeOf(draft.runtime).modelStarter;
  /** The snippet for a runtime: with a model chosen, the one that reads it from MODEL_PATH (where the runtime has one). */
  const snippetFor = (runtime: RuntimeName, model: string) => (model && runtimeOf(runtime).modelStarter) || runtimeOf(runtime).starter;

  const changeRuntime = (next: RuntimeName) => {
    update({ runtime: next, code: unedited(draft.code) ? snippetFor(next, draft.model) : draft.code });
  };

  // Choosing a model puts its snippet in the editor unless the user has written code of their own.
  const changeModel = (model: string) => {
    update({ model, code: unedited(draft.code) ? snippetFor(draft.runtime, model) : draft.code });
  };

  return (
    <div className="mx-auto flex min-h-screen max-w-7xl flex-col gap-3 p-3 sm:p-4">
      <SiteHeader>
        <p className="hidden text-sm text-neutral-500 sm:block">Run untrusted code in hardened containers.</p>
        <nav className="ml-auto flex items-center gap-2 text-sm">
          <a href="/api/v1/models" className="text-neutral-500 hover:underline">
            API
          </a>
        </nav>
      </SiteHeader>

      <div className="grid flex-1 grid-cols-1 gap-4 lg:grid-cols-2">
        <section aria-label="Program" className="flex min-w-0 flex-col gap-3">
          <div className="flex flex-wrap items-end gap-3">
            <label className="field-label" htmlFor={ids.runtime}>
              Runtime
              <RuntimeSelect id={ids.runtime} className="field" value={draft.runtime} onChange={changeRuntime} />
            </label>
            <ModelPicker models={models} modelsDir={modelsDir} value={draft.model} onChange={changeModel} />
            <button type="button" className="btn-secondary mb-px" onClick={() => update({ code: runtimeOf(draft.runtime).starter })}>
              Starter code
            </button>
            {draft.model && runtimeOf(draft.runtime).modelStarter && (
              <button
                type="button"
                className="btn-secondary mb-px"
                onClick={() => update({ code: snippetFor(draft.runtime, draft.model) })}
                data-testid="model-snippet"
              >
                Model snippet
              </button>
            )}
          </div>
          <CodeEditor
            value={draft.code}
            onChange={(code) => update({ code })}
            language={runtimeOf(draft.runtime).monacoLanguage}
            onRun={run}
            label={`Code editor (${runtimeOf(draft.runtime).label}). Press Control+Enter to run.`}
            className="h-[45vh] min-h-64 lg:h-[55vh]"
            testId="editor"
          />
          <ResourceControls value={draft.resources} onChange={(resources) => update({ resources })} limits={limits} gpu={gpu} />
          <label className="field-label" htmlFor={ids.stdin}>
            Standard input
            <textarea
              id={ids.stdin}
              className="field h-20 resize-y font-mono"
              spellCheck={false}
              value={draft.stdin}
              placeholder="Text the program reads from stdin"
              onChange={(event) => update({ stdin: event.target.value })}
              data-testid="stdin"
            />
          </label>
        </section>

        <section aria-label="Run" className="flex min-w-0 flex-col gap-3">
          <div className="flex flex-wrap items-center gap-2">
            <button
              type="button"
              className="btn-primary"
              disabled={pending || running}
              onClick={run}
              data-testid="run"
              aria-keyshortcuts="Control+Enter Meta+Enter"
            >
              {running ? "Running…" : pending ? "Starting…" : "Run"}
              <kbd className="hidden rounded bg-white/20 px-1 text-[10px] font-normal sm:inline">Ctrl+Enter</kbd>
            </button>
            <button type="button" className="btn-secondary" disabled={!running} onClick={cancel} data-testid="cancel">
              Cancel
            </button>
            <button type="button" className="btn-secondary" disabled={!runId} onClick={() => setShareOpen(true)} data-testid="share">
              Share
            </button>
            {error && (
              <p role="alert" className="w-full text-sm text-red-600 dark:text-red-400" data-testid="error">
                {error}
              </p>
            )}
          </div>
          <RunOutput stream={stream} runId={runId} className="h-[50vh] lg:h-[62vh]" emptyText="Press Run (or Ctrl+Enter) to see output here." />
          <RecentRuns />
        </section>
      </div>
      {runId && <ShareDialog runId={runId} open={shareOpen} onClose={() => setShareOpen(false)} />}
    </div>
  );
}
