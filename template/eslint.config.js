// ESLint for the project's TypeScript: the recommended JavaScript and typescript-eslint rules.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['node_modules/**', 'coverage/**', 'data/**', 'models/**', 'reports/**', '.mlskel/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // pinned, so a project nested below (a demo, a benchmark fixture) is never taken for this one
    languageOptions: { parserOptions: { tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
)
