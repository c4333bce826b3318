// ESLint for mlskel's own sources; the template carries its own config.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import { publicSurfaces } from './scripts/eslint/public-surfaces.js'

export default tseslint.config(
  { ignores: ['dist/**', 'coverage/**', 'template/**', 'node_modules/**', 'test-output/**', 'demo/**', 'bench/.data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // pinned, so a project nested below (a demo, a benchmark fixture) is never taken for this one
    languageOptions: { parserOptions: { tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // a folder of src/ is used through its index.ts (tests may reach into what they test)
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.test.ts', 'src/**/test-*.ts'],
    plugins: { mlskel: { rules: { 'public-surfaces': publicSurfaces } } },
    rules: { 'mlskel/public-surfaces': 'error' },
  },
)
