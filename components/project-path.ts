import * as path from 'path';

/** The app's own folder. Modules take absolute paths (function entries, migration sources) from the app, never resolve them from where they live. */
const PROJECT_ROOT = path.resolve(__dirname, '..');

/** The absolute path of `relative` (e.g. `functions/hits/handler.ts`) in this project. */
export function projectPath(relative: string): string {
  return path.join(PROJECT_ROOT, relative);
}
