import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const NODE = 'node_modules/.bin/node';
/** The shipped bundle (scripts/build-cli.mjs), as the package's bin and the image run it. */
const CLI = 'dist/cli/portlb.mjs';

async function portlb(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(NODE, [CLI, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portlb-cli-'));
});

describe('portlb validate', () => {
  it('accepts the shipped example', async () => {
    const result = await portlb('validate', '--config', 'examples/bgp-lab.yaml');
    expect(result).toMatchObject({ code: 0, stdout: expect.stringContaining('valid (mode bgp') });
  });

  it('exits 2 and lists every problem with its field', async () => {
    const path = join(dir, 'bad.yaml');
    await writeFile(
      path,
      [
        'mode: bgp',
        'allowedVipPools: [10.1.0.0/16]',
        'services:',
        '  - { name: web, vip: 10.1.1.5/24, ports: [{port: 80}], backends: { static: [{address: 10.98.0.21, port: 80}] } }',
        '  - { name: api, vip: 10.7.0.0/24, ports: [{port: 80}], backends: { static: [{address: 10.98.0.21, port: 80}] } }',
        'bgp: { localAs: 65000, holdTime: 180, peers: [{ address: 10.99.0.2, as: 65000 }] }',
      ].join('\n'),
    );
    const result = await portlb('validate', '--config', path);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('3 problems');
    expect(result.stderr).toContain(
      'services[0].vip: "10.1.1.5/24" has host bits set; did you mean 10.1.1.0/24?',
    );
    expect(result.stderr).toContain('services[1].vip: 10.7.0.0/24 is outside allowedVipPools');
    expect(result.stderr).toContain('bgp.holdTime: 180 s is above 30 s');
  });

  it('exits 2 on a missing file and on a missing flag', async () => {
    expect((await portlb('validate', '--config', join(dir, 'nope.yaml'))).code).toBe(2);
    expect((await portlb('validate')).code).toBe(2);
  });

  it('takes the file as an argument too, but not two different ones', async () => {
    expect(await portlb('validate', 'examples/bgp-lab.yaml')).toMatchObject({ code: 0 });
    expect(
      await portlb('validate', 'examples/bgp-lab.yaml', '--config', 'examples/bgp-lab.yaml'),
    ).toMatchObject({
      code: 0,
    });
    expect(await portlb('validate', 'examples/bgp-lab.yaml', '--config', 'examples/aws.yaml')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('give the config once'),
    });
  });

  it('checks the files a config names, unless --no-file-checks', async () => {
    const path = join(dir, 'md5.yaml');
    const example = await readFile('examples/bgp-lab.yaml', 'utf8');
    await writeFile(
      path,
      example.replace(
        '{ address: 10.99.0.2, as: 65000 }',
        '{ address: 10.99.0.2, as: 65000, passwordFile: /run/secrets/absent }',
      ),
    );
    expect(await portlb('validate', path)).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('bgp.peers[0].passwordFile: /run/secrets/absent does not exist'),
    });
    expect(await portlb('validate', '--no-file-checks', path)).toMatchObject({ code: 0 });
  });

  it.each<[string, string | Buffer, string]>([
    [
      'an alias bomb',
      `a: &a [x, x, x, x, x, x, x, x, x]\n${'bcdefghijklm'
        .split('')
        .map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefghijklm'[i]}`).join(', ')}]`)
        .join('\n')}\n`,
      'alias bomb',
    ],
    ['a UTF-16 file', Buffer.from('\ufeffmode: bgp\n', 'utf16le'), 'UTF-16'],
    ['a binary file', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0, 0]), 'not a text file'],
    ['a list', '- mode: bgp\n', 'a config is a YAML mapping'],
    ['an empty file', '', 'this one is empty'],
  ])('exits 2 on %s, with a message and no stack trace', async (name, content, message) => {
    const path = join(dir, `${name.replace(/\W/g, '-')}.yaml`);
    await writeFile(path, content);
    const result = await portlb('validate', path);
    expect(result).toMatchObject({ code: 2, stderr: expect.stringContaining(message) });
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });
});

describe('portlb --version', () => {
  it("prints package.json's version", async () => {
    const { version } = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    expect(await portlb('--version')).toMatchObject({ code: 0, stdout: `${version}\n` });
  });
});

/** The system node on these machines is 20 (/usr/bin/node): what `npx portlb` outside a checkout runs on. */
const systemNode = (() => {
  try {
    return execFileSync('/usr/bin/node', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
})();

describe('on a Node older than 22', () => {
  it.skipIf(systemNode === undefined || Number(systemNode.slice(1).split('.')[0]) >= 22)(
    'says what it needs in one line and exits 1, with no stack trace',
    async () => {
      const result = await run('/usr/bin/node', [CLI, '--version']).catch(
        (e: { code: number; stderr: string }) => e,
      );
      expect(result).toMatchObject({ code: 1, stderr: expect.stringContaining('needs Node.js 22 or newer') });
      expect((result as { stderr: string }).stderr.trim().split('\n')).toHaveLength(1);
    },
  );
});

describe('portlb plan', () => {
  it('shows what would change and why', async () => {
    const result = await portlb('plan', '--config', 'examples/bgp-lab.yaml');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      '+ create  bgp  10.1.1.0/24 -> 10.99.0.11   (healthy target has no route)',
    );
    expect(result.stdout).toContain('2 change(s)');
  });

  it('diffs against observed routes and prints JSON', async () => {
    const observed = join(dir, 'observed.yaml');
    await writeFile(
      observed,
      [
        '- { table: bgp, vip: 10.1.1.0/24, target: 10.99.0.11, owner: lab }',
        '- { table: bgp, vip: 10.1.1.0/24, target: 10.99.0.13, owner: lab }',
        '- { table: bgp, vip: 10.1.9.0/24, target: 10.99.0.50, owner: someone-else }',
      ].join('\n'),
    );
    const result = await portlb(
      'plan',
      '--config',
      'examples/bgp-lab.yaml',
      '--observed',
      observed,
      '--json',
    );
    const plan = JSON.parse(result.stdout) as { changes: { kind: string; target: string }[] };
    expect(plan.changes.map((c) => `${c.kind} ${c.target}`)).toEqual([
      'create 10.99.0.12',
      'delete 10.99.0.13',
    ]);
  });

  it('refuses a malformed observed file, naming the field', async () => {
    const observed = join(dir, 'observed-bad.yaml');
    await writeFile(observed, '- { table: bgp, vip: 10.1.1.0/24 }\n');
    const result = await portlb('plan', '--config', 'examples/bgp-lab.yaml', '--observed', observed);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('[0].target');
  });

  it('refuses every bad entry by index and field, and plans nothing', async () => {
    const observed = join(dir, 'observed-entries.yaml');
    await writeFile(
      observed,
      [
        '- { table: bgp, vip: 10.1.1.0/24, target: 10.99.0.11, owner: lab }',
        '- { table: bgp, vip: banana, target: 10.99.0.11, owner: lab }',
        '- { table: bgp, vip: 10.1.1.5/24, target: 10.99.0.12, owner: lab }',
        '- { table: bgp, vip: 10.1.1.0/24, target: not-an-ip, owner: lab }',
        '- { table: rib, vip: 10.1.1.0/24, target: 10.99.0.13, owner: lab, color: red }',
      ].join('\n'),
    );
    const result = await portlb('plan', '--config', 'examples/bgp-lab.yaml', '--observed', observed);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toContain('5 problems (mode bgp); nothing planned');
    expect(result.stderr).toContain('[1].vip: "banana" is not a CIDR');
    expect(result.stderr).toContain('[2].vip: "10.1.1.5/24" has host bits set; did you mean 10.1.1.0/24?');
    expect(result.stderr).toContain('[3].target: not an IPv4 or IPv6 address');
    expect(result.stderr).toContain('[4].table: "rib" is not a table this config manages (bgp)');
    expect(result.stderr).toContain('[4].color: not a field of a route');
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it('checks targets the way the mode writes them: an ENI id in mode aws', async () => {
    const observed = join(dir, 'observed-aws.yaml');
    await writeFile(
      observed,
      [
        '- { table: rtb-0123456789abcdef0, vip: 192.0.2.0/24, target: eni-0123456789abcdef0, owner: portlb }',
        '- { table: rtb-0123456789abcdef0, vip: 192.0.2.0/24, target: 10.0.1.5, owner: portlb }',
      ].join('\n'),
    );
    const config = join(dir, 'aws-ids.yaml');
    const example = await readFile('examples/aws.yaml', 'utf8');
    await writeFile(
      config,
      example.replace(/tags: \{ portlb\.io\/managed: "true" \}/, 'ids: [rtb-0123456789abcdef0]'),
    );
    const result = await portlb('plan', '--config', config, '--observed', observed);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('[1].target: must be a network interface id');
    expect(result.stderr).not.toContain('[0]');
  });

  it('lists foreign routes to VIPs it does not serve, with the reason it leaves them alone', async () => {
    const observed = join(dir, 'observed-foreign.yaml');
    await writeFile(
      observed,
      '- { table: bgp, vip: 10.1.9.0/24, target: 10.99.0.50, owner: someone-else }\n',
    );
    const result = await portlb('plan', '--config', 'examples/bgp-lab.yaml', '--observed', observed);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      '. bgp  10.1.9.0/24  10.99.0.50   (route owned by someone-else left alone)',
    );
  });

  it('refuses --mode aws on a config without an aws section, naming it', async () => {
    const result = await portlb('plan', '--config', 'examples/bgp-lab.yaml', '--mode', 'aws');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('mode aws (--mode given) needs its "aws" section');
    expect(result.stdout).not.toContain('no changes');
  });

  it('prints the observed file format with --help', async () => {
    const result = await portlb('plan', '--help');
    expect(result.stdout).toContain('The --observed file: a YAML or JSON list');
    expect(result.stdout).toContain('Exit codes: 0 planned');
  });
});

describe('portlb sidecar', () => {
  it('--once reconciles into a state file, and a second run changes nothing', async () => {
    const state = join(dir, 'routes.json');
    const first = await portlb('sidecar', '--config', 'examples/bgp-lab.yaml', '--state', state, '--once');
    const second = await portlb(
      'sidecar',
      '--config',
      'examples/bgp-lab.yaml',
      '--state',
      state,
      '--once',
      '--json',
    );
    expect(first.stdout).toContain('reconciled: 2 applied, 0 failed');
    expect(JSON.parse(second.stdout)).toMatchObject({ applied: [], failed: [] });
    const routes = JSON.parse(await readFile(state, 'utf8')) as { target: string }[];
    expect(routes.map((r) => r.target)).toEqual(['10.99.0.11', '10.99.0.12']);
  });

  it('auto on a cloud node whose section is missing: exit 2 naming the mode and the providerID', async () => {
    const config = join(dir, 'auto-gcp.yaml');
    const example = await readFile('examples/bgp-lab.yaml', 'utf8');
    await writeFile(
      config,
      `${example.replace('mode: bgp', 'mode: auto')}\ngcp: { project: portlb-test, network: default }\n`,
    );
    const providerId = 'aws:///us-east-1a/i-0123456789abcdef0';
    const args = ['sidecar', '--config', config, '--provider-id', providerId];
    const result = await portlb(...args, '--state', join(dir, 'auto.json'), '--once');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `mode aws (auto: providerID ${providerId} is AWS) needs its "aws" section`,
    );
  });

  it('serves /readyz and shuts down in order on SIGTERM', async () => {
    const config = join(dir, 'sidecar.yaml');
    const text = (await readFile('examples/bgp-lab.yaml', 'utf8')).replace(
      'listen: 127.0.0.1:9402',
      'listen: 127.0.0.1:0',
    );
    await writeFile(config, text);
    const child: ChildProcess = spawn(NODE, [
      CLI,
      'sidecar',
      '--config',
      config,
      '--state',
      join(dir, 'loop.json'),
    ]);
    let logs = '';
    const port = await new Promise<number>((resolve, reject) => {
      child.stderr?.on('data', (chunk: Buffer) => {
        logs += chunk.toString();
        const match = /"address":"127\.0\.0\.1:(\d+)"/.exec(logs);
        if (match) resolve(Number(match[1]));
      });
      child.once('exit', () => reject(new Error(`sidecar exited early: ${logs}`)));
    });
    await expect
      .poll(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status, { timeout: 5_000 })
      .toBe(200);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(logs).toContain('orderly shutdown started');
  });
});

describe('portlb render', () => {
  it('names an unknown peer and exits 2', async () => {
    const result = await portlb('render', 'bird', '--config', 'examples/bgp-lab.yaml');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown peer "bird"');
  });
});

describe('portlb node-agent', () => {
  it('exits 2 without NODE_NAME or kubernetes.namespace, naming what is missing', async () => {
    const noNode = await portlb('node-agent', '--config', 'examples/bgp-lab.yaml');
    expect(noNode.code).toBe(2);
    expect(noNode.stderr).toContain('env.NODE_NAME: set it from the Downward API');
    const path = join(dir, 'agent.yaml');
    const example = await readFile('examples/bgp-lab.yaml', 'utf8');
    const kubeconfig = join(dir, 'kubeconfig'); // never reached: the config is refused first
    await writeFile(kubeconfig, 'apiVersion: v1\nkind: Config\n');
    await writeFile(path, `${example}\nkubernetes: { lbPodSelector: app=lb, kubeconfig: ${kubeconfig} }\n`);
    const noNamespace = await run(NODE, [CLI, 'node-agent', '--config', path], {
      env: { ...process.env, NODE_NAME: 'n1' },
    }).catch((error: { code: number; stderr: string }) => error);
    expect(noNamespace).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('kubernetes.namespace: not set'),
    });
  });
});

describe('--help', () => {
  it.each(['validate', 'plan', 'sidecar', 'node-agent', 'render'])('%s --help', async (command) => {
    const result = await portlb(command, '--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: portlb ${command}`);
  });
});
