// ESLint (flat config): the TypeScript rules that catch real defects, on src/ and test/.
// Formatting is Prettier's job (.prettierrc.json); `npm run lint` runs both checks.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'results/**', 'notebooks/**', 'vendor/**', 'jupyter/**', 'data/**', '**/*.mjs', '**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['src/**/*.ts', 'test/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
      // Optional and native dependencies (tfjs-node, better-sqlite3, worker modules) are loaded lazily with require() on purpose.
      '@typescript-eslint/no-require-imports': 'off',
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
);
