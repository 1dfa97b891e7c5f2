import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

/** Arrows point one way: services → libs → proto. Tests may also use the test harness. */
const constraints = (testing) => [
  { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:lib', 'type:proto', ...testing] },
  { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib', 'type:proto', ...testing] },
  { sourceTag: 'type:proto', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:lib', 'type:proto'] },
  { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:lib', 'type:proto', 'type:testing'] },
];

export default [
  { ignores: ['**/node_modules/**', '**/dist/**', 'libs/proto/src/gen/**', '.nx/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@nx/enforce-module-boundaries': ['error', { allow: [], depConstraints: constraints([]) }],
    },
  },
  {
    files: ['**/*.spec.ts', '**/spec-helpers.ts'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', { allow: [], depConstraints: constraints(['type:testing']) }],
    },
  },
];
