import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The package version, read at run time: package.json sits one level above both src/ (tests) and dist/
 * (the built CLI), and it lies outside tsc's rootDir, so it cannot be imported.
 */
export const VERSION: string = readVersion();

function readVersion(): string {
  const pkg: unknown = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8'));
  if (typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string') {
    return pkg.version;
  }
  throw new Error('@warren/server package.json has no version');
}
