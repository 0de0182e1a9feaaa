import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const allowed = (...tags) => tags;

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.nx/**', '.qnet/**', 'coverage/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': [
        'error',
        { checksVoidReturn: { arguments: false } },
      ],
      '@typescript-eslint/no-unsafe-function-type': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      // Module boundaries (docs/architecture.md, "Layers"): apps never import apps; libraries form
      // layers; only the node agent may import the drivers (they run commands on hosts).
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            {
              sourceTag: 'type:app',
              onlyDependOnLibsWithTags: allowed(
                'type:contracts',
                'type:util',
                'type:bus',
                'type:data',
                'type:service-kit',
              ),
            },
            {
              sourceTag: 'type:agent',
              onlyDependOnLibsWithTags: allowed(
                'type:contracts',
                'type:util',
                'type:bus',
                'type:drivers',
              ),
            },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: allowed('type:util') },
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: allowed('type:util') },
            {
              sourceTag: 'type:bus',
              onlyDependOnLibsWithTags: allowed('type:contracts', 'type:util'),
            },
            {
              sourceTag: 'type:data',
              onlyDependOnLibsWithTags: allowed('type:contracts', 'type:util'),
            },
            {
              sourceTag: 'type:drivers',
              onlyDependOnLibsWithTags: allowed('type:contracts', 'type:util'),
            },
            {
              sourceTag: 'type:service-kit',
              onlyDependOnLibsWithTags: allowed(
                'type:bus',
                'type:data',
                'type:contracts',
                'type:util',
              ),
            },
            // The browser console reads the API's types only (import type: nothing of it ships).
            { sourceTag: 'type:console', onlyDependOnLibsWithTags: allowed('type:contracts') },
            {
              sourceTag: 'type:tooling',
              onlyDependOnLibsWithTags: allowed(
                'type:bus',
                'type:data',
                'type:contracts',
                'type:util',
              ),
            },
            {
              sourceTag: 'type:testing',
              onlyDependOnLibsWithTags: allowed(
                'type:tooling',
                'type:bus',
                'type:data',
                'type:contracts',
                'type:util',
              ),
            },
          ],
        },
      ],
    },
  },
  prettier,
);
