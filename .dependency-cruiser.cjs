/**
 * Folder-level import cycles in src (issue 14): every folder of src (app, core, stores/sqlite, ...) is a
 * node; a cycle among folders fails `npm run lint`. Type-only imports count (they couple folders too);
 * tests, test cases and test support (`*.test.ts`, `*-cases.ts`, `test-support.ts`; none of them built into dist) are left out: a test may import from any layer it
 * exercises. A cycle that stays inside one top-level folder (cli and cli/commands) is not reported; each
 * store adapter (stores/sqlite, stores/pg, stores/lancedb, stores/shared) counts as a top-level folder.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'no-folder-cycle',
      severity: 'error',
      comment: 'Folders of src import each other in a cycle: move the shared part into a folder both may import.',
      scope: 'folder',
      from: { path: '^src/((?:stores/)?[^/]+)' },
      to: { circular: true, pathNot: '^src/$1(/|$)' },
    },
  ],
  options: {
    includeOnly: '^src/',
    exclude: { path: '(\\.test|-cases|\\/test-support)\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['es6'],
  },
};
