import type Docker from 'dockerode';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

/*
 * The host images of the local stand-ins, built offline on the local engine: a Debian base made with debootstrap
 * (debian-base.sh), and images on it shaped like the real hosts (the official runner image, an EC2 AMI). Each carries
 * a label with the hash of what it was built from, and is rebuilt when that changes; builds of one image never run
 * twice at once in a process.
 */

const exec = promisify(execFile);
const here = import.meta.dirname;
const SOURCE_LABEL = 'ephemeral-runners.source';
export const DEBIAN_BASE_IMAGE = 'ephemeral-runners/debian-base:bookworm';

export interface ImageRecipe {
  readonly image: string;
  /** The Dockerfile's text; its FROM is the Debian base. */
  readonly dockerfile: string;
  /** Build context: path in the context → a file or directory on this machine. */
  readonly context: Record<string, string>;
}

function hashPath(hash: ReturnType<typeof createHash>, path: string): void {
  const stat = statSync(path);
  if (stat.isDirectory()) {
    for (const entry of readdirSync(path).sort()) {
      hash.update(`\0${entry}\0`);
      hashPath(hash, join(path, entry));
    }
  } else hash.update(`${stat.mode & 0o777}:`).update(readFileSync(path));
}

async function labelOf(docker: Docker, image: string): Promise<string | undefined> {
  return docker
    .getImage(image)
    .inspect()
    .then((i) => i.Config?.Labels?.[SOURCE_LABEL])
    .catch(() => undefined);
}

const building = new Map<string, Promise<void>>();
function once(image: string, build: () => Promise<void>): Promise<void> {
  const current = building.get(image) ?? build().finally(() => building.delete(image));
  building.set(image, current);
  return current;
}

/** The Debian base (debootstrap from Debian's archive: ~1 minute the first time on a machine). */
export async function ensureDebianBase(docker: Docker): Promise<void> {
  const script = resolve(here, 'debian-base.sh');
  const source = createHash('sha256').update(readFileSync(script)).digest('hex').slice(0, 16);
  if ((await labelOf(docker, DEBIAN_BASE_IMAGE)) === source) return;
  await once(DEBIAN_BASE_IMAGE, async () => {
    await exec('bash', [script, DEBIAN_BASE_IMAGE, `${SOURCE_LABEL}=${source}`], { maxBuffer: 64 * 1024 * 1024 });
  });
}

/** Builds `recipe.image` on the Debian base unless the engine has one built from these very sources. */
export async function ensureImage(docker: Docker, recipe: ImageRecipe): Promise<void> {
  await ensureDebianBase(docker);
  const base = await docker.getImage(DEBIAN_BASE_IMAGE).inspect();
  const hash = createHash('sha256').update(base.Id).update(recipe.dockerfile);
  for (const [target, path] of Object.entries(recipe.context).sort()) {
    hash.update(`\0${target}\0`);
    hashPath(hash, path);
  }
  const source = hash.digest('hex').slice(0, 16);
  if ((await labelOf(docker, recipe.image)) === source) return;
  await once(recipe.image, async () => {
    const context = mkdtempSync(join(tmpdir(), 'image-'));
    try {
      for (const [target, path] of Object.entries(recipe.context)) cpSync(path, join(context, target), { recursive: true });
      writeFileSync(join(context, 'Dockerfile'), `${recipe.dockerfile}\nLABEL ${SOURCE_LABEL}=${source}\n`);
      await exec('docker', ['build', '--network', 'host', '-q', '-t', recipe.image, context], { maxBuffer: 64 * 1024 * 1024 });
    } finally {
      rmSync(context, { recursive: true, force: true });
    }
  });
}

/** The text of the engine's multiplexed stdout/stderr stream (each chunk behind an 8-byte frame header). */
export function demultiplexed(raw: Buffer): string {
  let text = '';
  for (let offset = 0; offset + 8 <= raw.length; offset += 8 + raw.readUInt32BE(offset + 4))
    text += raw.subarray(offset + 8, offset + 8 + raw.readUInt32BE(offset + 4)).toString('utf8');
  return text;
}

/** Everything a container printed (stdout and stderr). */
export async function containerOutput(container: Docker.Container): Promise<string> {
  return demultiplexed((await container.logs({ stdout: true, stderr: true })) as unknown as Buffer);
}
