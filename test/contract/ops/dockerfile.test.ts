import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import dockerignoreFactory, { type Ignore } from '@balena/dockerignore';
import { DockerfileParser } from 'dockerfile-ast';
import { ValidationSeverity, validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import { root } from '../../support/ops-run.ts';

// No Docker engine and no hadolint here: the Dockerfiles are linted with dockerfile-utils (the
// validator of the Docker language server) and their structure checked on dockerfile-ast's parse.
const dockerfiles = ['stack/Dockerfile', 'stack/minio/Dockerfile'];
const strict = {
  deprecatedMaintainer: ValidationSeverity.ERROR,
  directiveCasing: ValidationSeverity.ERROR,
  emptyContinuationLine: ValidationSeverity.ERROR,
  instructionCasing: ValidationSeverity.ERROR,
  instructionCmdMultiple: ValidationSeverity.ERROR,
  instructionEntrypointMultiple: ValidationSeverity.ERROR,
  instructionHealthcheckMultiple: ValidationSeverity.ERROR,
  instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
  instructionWorkdirRelative: ValidationSeverity.ERROR,
};

function parsed(file: string) {
  const text = readFileSync(join(root, file), 'utf8');
  const dockerfile = DockerfileParser.parse(text);
  const args = new Map(
    dockerfile
      .getInitialARGs()
      .flatMap((a) => a.getProperties())
      .map((p) => [p.getName(), p.getValue() ?? '']),
  );
  const stages = dockerfile.getFROMs().map((from) => ({
    name: from.getBuildStage(),
    image: (from.getImageName() ?? '').replace(/^\$\{(\w+)\}$/, (_, arg: string) => args.get(arg) ?? ''),
  }));
  const last = text.split(/^FROM /m).at(-1) ?? '';
  return { text, dockerfile, stages, last };
}

// CommonJS (`module.exports = factory`), which its types declare as a default export.
const ignore = dockerignoreFactory as unknown as () => Ignore;
const dockerignore = ignore().add(readFileSync(join(root, '.dockerignore'), 'utf8').split('\n'));
const sent = (path: string) => !dockerignore.ignores(path);

describe('Dockerfiles', () => {
  it.each(dockerfiles)('%s passes the linter, which does flag a bad file', (file) => {
    expect(validate(parsed(file).text, strict)).toEqual([]);
    const bad = validate('from node\nMAINTAINER me\nWORKDIR app\nCMD ["a"]\nCMD [\'b\']\n', strict);
    expect(bad.length).toBeGreaterThanOrEqual(4);
  });

  it.each(dockerfiles)(
    '%s builds in stages from pinned images and runs as a non-root user with a health check',
    (file) => {
      const { stages, last } = parsed(file);
      expect(stages.length, 'multi-stage').toBeGreaterThanOrEqual(2);
      for (const { image } of stages)
        expect(image, 'a base image with a version tag').toMatch(/^[\w./-]+:[\w.-]*\d[\w.-]*$/);
      const user = [...last.matchAll(/^USER\s+(\S+)/gm)].at(-1)?.[1];
      expect(user).toBeDefined();
      expect(user).not.toMatch(/^(root|0)(:|$)/);
      // Exec form, the image's own program: no shell, wget or curl.
      expect(last).toMatch(/^HEALTHCHECK [^\n]*(?:\\\n[^\n]*)*CMD \["(node|mc)",/m);
    },
  );

  it('stack/Dockerfile installs production dependencies without scripts, compiles the sources and runs only the build', () => {
    const { dockerfile } = parsed('stack/Dockerfile');
    const runs = dockerfile
      .getInstructions()
      .filter((i) => i.getKeyword() === 'RUN')
      .map((i) => i.toString());
    expect(runs.some((r) => /npm ci --omit=dev --ignore-scripts/.test(r))).toBe(true);
    const copied = dockerfile
      .getCOPYs()
      .filter((c) => !/ --from=/.test(c.toString()))
      .flatMap((c) =>
        c
          .getArguments()
          .slice(0, -1)
          .map((a) => a.getValue()),
      );
    expect([...new Set(copied)].sort()).toEqual([
      'migrations',
      'package-lock.json',
      'package.json',
      'src',
      'tsconfig.build.json',
      'tsconfig.json',
    ]);
    // The runtime stage has the compiled dist/ (no sources) and starts it.
    const { last } = parsed('stack/Dockerfile');
    expect(last).toMatch(/^COPY --from=build [^\n]* \/app\/dist \.\/dist$/m);
    expect(last).not.toMatch(/^COPY [^\n]*\bsrc\b/m);
    expect(last).toMatch(/^CMD \["node", "dist\/src\/main\.js"\]$/m);
  });
});

describe('.dockerignore', () => {
  it('sends what stack/Dockerfile copies', () => {
    for (const path of [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'src/main.ts',
      'src/services/index.ts',
      'migrations/Migration20261123203506.ts',
    ])
      expect(sent(path), path).toBe(true);
  });

  it('keeps dependencies, data dirs, secrets and the repository history out of the build context', () => {
    for (const path of [
      'node_modules/pg/package.json',
      '.data/admin-token',
      '.data/postgres/PG_VERSION',
      'src/.data/admin-token',
      '.env',
      'stack/.env',
      '.git/config',
      'test/integration/api/auth.test.ts',
      'iac/terraform.tfstate',
      'bench/contact.bench.ts',
      'dist/src/main.js',
    ])
      expect(sent(path), path).toBe(false);
  });
});
