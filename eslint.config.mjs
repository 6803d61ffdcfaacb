// ESLint (flat config) with typescript-eslint's recommended rules, for lib/, test/, bench/ and scripts/.
// Formatting is prettier's job (.prettierrc.json); `npm run lint` runs both.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'outputs/', 'data/', 'notebooks/', '.jupyter/', 'bin/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: false } },
    rules: {
      // Unused bindings are errors unless named _ (tsc's noUnusedLocals also checks locals).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // Optional packages (onnxruntime-node, playwright-core, tslab) are loaded with require() on first use, on purpose.
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    // native/build.js: the install-time build of the oneDNN addon, plain CommonJS run by `npm ci` before tsc.
    files: ['native/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', process: 'readonly', __dirname: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
