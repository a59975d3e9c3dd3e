// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Imports every file may not make: into another package's src/ or dist/, or across workspaces by path. */
const workspaceImports = [
  { group: ['@herald/*/src/*', '@herald/*/dist/*'], message: "Import a package through its public entry point ('@herald/<name>')." },
  {
    group: ['**/packages/*', '**/apps/*', '../../packages/**', '../../apps/**'],
    message: "Import another workspace by its name ('@herald/<name>'), not by path.",
  },
];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.herald/**', 'bench/results/**', '.turbo/**', 'test/artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { patterns: workspaceImports }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // The worker's two roles meet only in the jobs both read (`apps/worker/src/jobs.ts`): the
    // router produces delivery jobs and must not depend on their consumer, nor the reverse.
    files: ['apps/worker/src/router/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [...workspaceImports, { group: ['**/delivery/**'], message: "The router does not import the delivery role; share through '../jobs.js'." }],
        },
      ],
    },
  },
  {
    files: ['apps/worker/src/delivery/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...workspaceImports,
            { group: ['**/router/**'], message: "The delivery role does not import the router; share through the worker's jobs.ts." },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
