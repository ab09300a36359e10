import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

// Module boundaries (../shared/DESIGN.md "Layout"): apps depend on libs; sources and
// repository depend on storage and contracts; storage on contracts; no lib on an app.
export default [
  { ignores: ['**/dist/**', '**/node_modules/**', 'bench/**', 'libs/contracts/src/generated/**'] },
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
            // The agent is plain Node: no web framework, ORM or database driver on fleet hosts.
            {
              sourceTag: 'app:agent',
              onlyDependOnLibsWithTags: ['type:lib'],
              bannedExternalImports: ['@nestjs/*', 'typeorm', 'pg', '@electric-sql/*', 'express'],
            },
            { sourceTag: 'layer:repository', onlyDependOnLibsWithTags: ['layer:storage', 'layer:contracts'] },
            { sourceTag: 'layer:sources', onlyDependOnLibsWithTags: ['layer:storage', 'layer:contracts'] },
            { sourceTag: 'layer:storage', onlyDependOnLibsWithTags: ['layer:contracts'] },
            { sourceTag: 'layer:contracts', onlyDependOnLibsWithTags: [] },
          ],
        },
      ],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // Integration tests compose a source with the repository as the CLI does; production
    // code of the repository still may not import sources.
    files: ['libs/repository/src/**/*.int-spec.ts', 'libs/repository/src/test-support/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          depConstraints: [{ sourceTag: 'layer:repository', onlyDependOnLibsWithTags: ['layer:storage', 'layer:contracts', 'layer:sources'] }],
        },
      ],
    },
  },
  {
    // End-to-end tests drive every app as a process and reuse the apps' test support.
    files: ['apps/e2e/src/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
];
