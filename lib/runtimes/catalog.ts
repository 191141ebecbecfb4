/** The runtimes Sandpit runs; image tags match what scripts/build-images.sh produces. */
export const RUNTIME_NAMES = ["python", "node", "deno", "go", "bash"] as const;
export type RuntimeName = (typeof RUNTIME_NAMES)[number];

export type RuntimeInfo = {
  name: RuntimeName;
  label: string;
  image: string;
  editorLanguage: string;
  starter: string;
};

export const RUNTIMES: Record<RuntimeName, RuntimeInfo> = {
  python: {
    name: "python",
    label: "Python 3.11",
    image: "sandpit/python",
    editorLanguage: "python",
    starter: 'import sys\n\nname = sys.stdin.read().strip() or "world"\nprint(f"Hello, {name}!")\n',
  },
  node: {
    name: "node",
    label: "Node.js 22",
    image: "sandpit/node",
    editorLanguage: "javascript",
    starter: 'const name = require("fs").readFileSync(0, "utf8").trim() || "world";\nconsole.log(`Hello, ${name}!`);\n',
  },
  deno: {
    name: "deno",
    label: "Deno 2",
    image: "sandpit/deno",
    editorLanguage: "typescript",
    starter: 'const name: string = "world";\nconsole.log(`Hello, ${name}!`);\n',
  },
  go: {
    name: "go",
    label: "Go 1.23",
    image: "sandpit/go",
    editorLanguage: "go",
    starter: 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("Hello, world!")\n}\n',
  },
  bash: {
    name: "bash",
    label: "Bash 5",
    image: "sandpit/bash",
    editorLanguage: "shell",
    starter: 'echo "Hello from $(uname -s), $BASH_VERSION"\n',
  },
};

export function isRuntimeName(value: string): value is RuntimeName {
  return (RUNTIME_NAMES as readonly string[]).includes(value);
}
