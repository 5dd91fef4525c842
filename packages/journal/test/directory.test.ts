import { existsSync } from 'node:fs';
import { mkdir, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DirectoryError, Journal, makeDirectory, probeWritable } from '@warren/journal';
import { removeDir, tempDir } from './support';

let dir: string;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await removeDir(dir);
});

const onLinux = existsSync('/proc/self') ? it : it.skip;

describe('makeDirectory', () => {
  it('creates every missing level and accepts a directory that already exists', async () => {
    const deep = join(dir, 'a', 'b', 'c');
    await makeDirectory(deep);
    expect((await stat(deep)).isDirectory()).toBe(true);
    await makeDirectory(deep);
    await makeDirectory(join(dir, 'a'));
  });

  it('accepts a symlink to a directory', async () => {
    await mkdir(join(dir, 'real'));
    await symlink(join(dir, 'real'), join(dir, 'link'));
    await makeDirectory(join(dir, 'link'));
  });

  it('rejects a regular file with ENOTDIR, and a path under one', async () => {
    const file = join(dir, 'file');
    await writeFile(file, '');
    await expect(makeDirectory(file)).rejects.toMatchObject({ code: 'ENOTDIR' });
    await expect(makeDirectory(join(file, 'x', 'y'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  // Node 20's mkdir(path, { recursive: true }) never settles here: procfs keeps answering ENOENT.
  onLinux('rejects a path under /proc with ENOENT instead of retrying forever', async () => {
    await expect(makeDirectory('/proc/warren/journal')).rejects.toMatchObject({
      code: 'ENOENT',
      path: '/proc/warren',
    });
  });
});

describe('probeWritable', () => {
  it('leaves nothing behind in a writable directory', async () => {
    await probeWritable(dir);
    expect(await readdir(dir)).toEqual([]);
  });

  onLinux('rejects a directory that takes no files', async () => {
    await expect(probeWritable('/proc')).rejects.toMatchObject({ syscall: 'open' });
  });
});

describe('Journal.open on a directory it cannot use', () => {
  it('fails at once with a DirectoryError naming the create step', async () => {
    const file = join(dir, 'file');
    await writeFile(file, '');
    const err: unknown = await Journal.open({ dir: join(file, 'journal') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DirectoryError);
    expect(err).toMatchObject({ step: 'create', code: 'ENOTDIR', path: join(file, 'journal') });
    expect((err as Error).message).toMatch(/^cannot use directory .*: create failed: ENOTDIR/);
  });

  onLinux('a path under /proc fails the create step', async () => {
    await expect(Journal.open({ dir: '/proc/warren' })).rejects.toMatchObject({
      name: 'DirectoryError',
      step: 'create',
      code: 'ENOENT',
    });
  });
});
