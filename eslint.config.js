// ESLint 9 flat config. Deliberately not type-aware (no parserOptions.project): it must stay
// fast on a 2-core CI machine, and `npm run typecheck` already runs the compiler.
// Formatting is Prettier's job (`npm run format:check`); none of the presets below enables a
// stylistic rule, so no eslint-config-prettier is needed.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

// The handful of Node.js globals that plain .js/.mjs files in the repo may use. TypeScript files
// get their globals from @types/node and typescript-eslint turns `no-undef` off for them.
const nodeGlobals = {
  process: 'readonly',
  console: 'readonly',
  Buffer: 'readonly',
  URL: 'readonly',
  setTimeout: 'readonly',
  clearTimeout: 'readonly',
  setInterval: 'readonly',
  clearInterval: 'readonly',
  setImmediate: 'readonly',
  clearImmediate: 'readonly',
  queueMicrotask: 'readonly',
  structuredClone: 'readonly',
  AbortController: 'readonly',
  AbortSignal: 'readonly',
};

export default defineConfig(
  {
    name: 'repo/ignores',
    ignores: [
      '**/node_modules/',
      '**/dist/',
      'libs/*/dist/',
      '**/coverage/',
      '.zk-test/',
      '**/*.d.ts',
    ],
  },
  {
    name: 'repo/linter-options',
    linterOptions: {
      reportUnusedDisableDirectives: 'error',
    },
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    name: 'repo/base',
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: nodeGlobals,
    },
    rules: {
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-console': 'warn',
      'no-var': 'error',
      'prefer-const': 'error',
      'no-throw-literal': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          args: 'after-used',
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // Bindings to the untyped native driver sometimes need an escape hatch; keep it visible.
      '@typescript-eslint/no-explicit-any': 'warn',
      // Nest's DI needs value imports of injected classes (emitDecoratorMetadata), so
      // `consistent-type-imports` is intentionally NOT enabled.
    },
  },
  {
    // Scripts, demo apps, tests and benchmarks may print to the console.
    name: 'repo/console-allowed',
    files: [
      'scripts/**',
      'apps/**',
      'test/**',
      'bench/**',
      '**/*.spec.ts',
      '**/*.e2e-spec.ts',
      '*.config.{js,mjs,cjs}',
    ],
    rules: {
      'no-console': 'off',
    },
  },
  {
    name: 'repo/tests',
    files: ['test/**', '**/*.spec.ts', '**/*.e2e-spec.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
