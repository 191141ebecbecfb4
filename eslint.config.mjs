// ESLint (flat config) with typescript-eslint: rules that catch defects, not style (formatting is `npm run format`).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "**/node_modules/**",
      ".next/**",
      "**/dist/**",
      "data/**",
      "bench/tmp/**",
      "next-env.d.ts",
      "sdk/js/src/generated/**",
      ".venv*/**",
      // Code that runs inside the containers, under Deno or plain Node: not this project's TypeScript.
      "images/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts", "**/*.tsx"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // A promise nobody awaits or catches loses its error (an unhandled rejection ends the process).
      // checkThenables: a drizzle query is a thenable that runs only when awaited; one left floating never runs.
      "@typescript-eslint/no-floating-promises": ["error", { checkThenables: true }],
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { attributes: false } }],
      "@typescript-eslint/await-thenable": "error",
      // An empty catch is the deliberate "best effort" (localStorage may be full or disabled); other empty blocks are not.
      "no-empty": ["error", { allowEmptyCatch: true }],
      // A `let` declared before the closures that read it and assigned once later (worker/main.ts) is fine.
      "prefer-const": ["error", { ignoreReadBeforeAssign: true }],
      // `any` is used deliberately at a few JSON boundaries in tests and SDK generics.
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_", caughtErrors: "none" },
      ],
    },
  },
  {
    // Every query is awaited, never run synchronously: the same code must run on PostgreSQL (docs/scaling-design.md),
    // whose driver has no synchronous `.all()/.get()/.run()`. Only lib/db/ may touch the SQLite driver.
    files: ["lib/**/*.ts", "worker/**/*.ts", "app/**/*.ts", "app/**/*.tsx", "server.ts", "scripts/**/*.ts"],
    ignores: ["lib/db/**"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "CallExpression[arguments.length=0] > MemberExpression.callee[property.name=/^(all|get|run)$/]",
          message:
            "Synchronous SQLite query: `await` the query instead (`(await q.limit(1))[0]` for one row, `.returning()` to read a write): PostgreSQL mode has no synchronous driver.",
        },
        {
          selector: "MemberExpression[property.name='$client']",
          message: "Raw driver access belongs in lib/db/ (queryRows for raw SQL): PostgreSQL mode has a different driver.",
        },
      ],
    },
  },
  {
    // The SDK has its own tsconfig; its tests are typed by tsconfig.test.json.
    files: ["sdk/js/**/*.ts"],
    languageOptions: { parserOptions: { projectService: false, project: "./sdk/js/tsconfig.test.json", tsconfigRootDir: import.meta.dirname } },
  },
  {
    // Handler files run inside a Node.js sandbox as CommonJS modules (`exports.handler = …`).
    files: ["examples/**/*.js"],
    languageOptions: { sourceType: "commonjs", globals: { exports: "writable", module: "writable", require: "readonly" } },
  },
  {
    files: ["**/*.mjs", "**/*.js"],
    languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly", setTimeout: "readonly" } },
  },
);
