// Entry point of Monaco's editor web worker, bundled from the monaco-editor package.
import "monaco-editor/editor/editor.worker.js";
