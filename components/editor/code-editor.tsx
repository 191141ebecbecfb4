"use client";

import { useEffect, useRef, useState } from "react";
import type { Monaco } from "./load-monaco";
import { useColorScheme } from "./use-color-scheme";

type Props = {
  value: string;
  onChange?: (value: string) => void;
  language: string;
  readOnly?: boolean;
  /** Ctrl/Cmd+Enter inside the editor. */
  onRun?: () => void;
  label: string;
  className?: string;
  style?: React.CSSProperties;
  testId?: string;
};

/** Monaco, with a plain read-only <pre> of the code until the editor has loaded (and for no-JS / server render). */
export function CodeEditor({ value, onChange, language, readOnly = false, onRun, label, className, style, testId }: Props) {
  const hostRef = useRef<HTMLDivElement>(null);
  const editorRef = useRef<import("monaco-editor/editor/editor.api.js").editor.IStandaloneCodeEditor | null>(null);
  const monacoRef = useRef<Monaco | null>(null);
  const [ready, setReady] = useState(false);
  const scheme = useColorScheme();
  // Latest callbacks without re-creating the editor.
  const onChangeRef = useRef(onChange);
  const onRunRef = useRef(onRun);
  onChangeRef.current = onChange;
  onRunRef.current = onRun;
  const initial = useRef({ value, language, readOnly, scheme, label });
  const emittedRef = useRef(new Set<string>());

  useEffect(() => {
    let disposed = false;
    let cleanup = () => {};
    void import("./load-monaco").then(({ monaco }) => {
      if (disposed || !hostRef.current) return;
      monacoRef.current = monaco;
      const start = initial.current;
      const editor = monaco.editor.create(hostRef.current, {
        value: start.value,
        language: start.language,
        readOnly: start.readOnly,
        theme: start.scheme === "dark" ? "vs-dark" : "vs",
        automaticLayout: true,
        minimap: { enabled: false },
        fontSize: 14,
        scrollBeyondLastLine: false,
        tabSize: 4,
        ariaLabel: start.label,
        fixedOverflowWidgets: true,
        padding: { top: 8, bottom: 8 },
      });
      editorRef.current = editor;
      editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.Enter, () => onRunRef.current?.());
      const subscription = editor.onDidChangeModelContent(() => {
        const text = editor.getValue();
        if (emittedRef.current.size > 200) emittedRef.current.clear();
        emittedRef.current.add(text);
        onChangeRef.current?.(text);
      });
      setReady(true);
      cleanup = () => {
        subscription.dispose();
        editor.getModel()?.dispose();
        editor.dispose();
      };
    });
    return () => {
      disposed = true;
      cleanup();
      editorRef.current = null;
    };
  }, []);

  // Outside changes (runtime switch, fork) replace the text. Values the editor emitted itself are skipped even
  // when stale: a render for an earlier keystroke must not undo a later one that React has not seen yet.
  useEffect(() => {
    const editor = editorRef.current;
    if (!editor || emittedRef.current.has(value) || editor.getValue() === value) return;
    emittedRef.current.clear();
    editor.setValue(value);
  }, [value, ready]);

  useEffect(() => {
    const model = editorRef.current?.getModel();
    if (model && monacoRef.current) monacoRef.current.editor.setModelLanguage(model, language);
  }, [language, ready]);

  useEffect(() => {
    editorRef.current?.updateOptions({ readOnly });
  }, [readOnly, ready]);

  useEffect(() => {
    monacoRef.current?.editor.setTheme(scheme === "dark" ? "vs-dark" : "vs");
  }, [scheme, ready]);

  return (
    <div
      className={`relative overflow-hidden rounded-md border border-neutral-300 dark:border-neutral-700 ${className ?? ""}`}
      style={style}
      data-testid={testId}
    >
      <div ref={hostRef} className="absolute inset-0" data-editor-ready={ready ? "true" : "false"} />
      {!ready && (
        <pre
          aria-label={label}
          className="absolute inset-0 m-0 overflow-auto bg-neutral-50 p-3 font-mono text-sm text-neutral-800 dark:bg-neutral-900 dark:text-neutral-200"
        >
          {value}
        </pre>
      )}
    </div>
  );
}
