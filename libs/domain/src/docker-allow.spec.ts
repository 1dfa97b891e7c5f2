import { describe, expect, it } from 'vitest';
import { describeDockerRefusal, dockerRefusal, mountSourceRefusal, NOTHING_ALLOWED, parseDockerAllow } from './docker-allow.js';

describe('LONGSHORE_DOCKER_ALLOW', () => {
  it('parses every kind of entry, normalised, and keeps their canonical text', () => {
    const allow = parseDockerAllow(' network=bridge, host-network,host-pid,host-ipc,privileged,cap=cap_sys_ptrace,device=/dev/fuse,mount=/data/ ');
    expect(allow).toEqual({
      networks: ['bridge'],
      hostNetwork: true,
      hostPid: true,
      hostIpc: true,
      privileged: true,
      capabilities: ['SYS_PTRACE'],
      devices: ['/dev/fuse'],
      mountPrefixes: ['/data'],
      text: 'network=bridge,host-network,host-pid,host-ipc,privileged,cap=SYS_PTRACE,device=/dev/fuse,mount=/data',
    });
    expect(parseDockerAllow('')).toEqual(NOTHING_ALLOWED);
  });

  it('refuses a bad entry, naming it and the grammar', () => {
    for (const [text, entry] of [
      ['network=bridge,nope', 'nope'],
      ['network=host', 'network=host'],
      ['network=', 'network='],
      ['cap=sys-ptrace', 'cap=sys-ptrace'],
      ['device=/etc/passwd', 'device=/etc/passwd'],
      ['device=dev/fuse', 'device=dev/fuse'],
      ['mount=data', 'mount=data'],
      ['mount=/data/../etc', 'mount=/data/../etc'],
      ['privileged=yes', 'privileged=yes'],
    ]) {
      expect(() => parseDockerAllow(text!), text).toThrow(`entry "${entry}"`);
    }
    expect(() => parseDockerAllow('nope')).toThrow(/entries: network=NAME, host-network/);
  });

  it('allows nothing beyond the secure defaults when empty, naming the entry each option needs', () => {
    const none = NOTHING_ALLOWED;
    expect(dockerRefusal(undefined, none)).toBeUndefined();
    expect(dockerRefusal({ user: '1000', readOnlyRoot: true, labels: { a: 'b' }, network: 'none' }, none)).toBeUndefined();
    expect(dockerRefusal({ capAdd: ['CHOWN', 'KILL'] }, none)).toBeUndefined(); // already in the default set
    expect(dockerRefusal({ privileged: true }, none)).toMatchObject({ field: 'docker.privileged', needs: 'privileged' });
    expect(dockerRefusal({ hostPid: true }, none)).toMatchObject({ field: 'docker.host_pid', needs: 'host-pid' });
    expect(dockerRefusal({ hostIpc: true }, none)).toMatchObject({ field: 'docker.host_ipc', needs: 'host-ipc' });
    expect(dockerRefusal({ network: 'host' }, none)).toMatchObject({ field: 'docker.network', needs: 'host-network' });
    expect(dockerRefusal({ network: 'bridge' }, none)).toMatchObject({ field: 'docker.network', needs: 'network=bridge' });
    expect(dockerRefusal({ capAdd: ['CHOWN', 'NET_RAW'] }, none)).toMatchObject({ field: 'docker.cap_add[1]', option: 'capability NET_RAW', needs: 'cap=NET_RAW' });
    expect(dockerRefusal({ devices: ['/dev/fuse'] }, none)).toMatchObject({ field: 'docker.devices[0]', needs: 'device=/dev/fuse' });
    expect(dockerRefusal({ mounts: [{ source: '/data', target: '/d', readOnly: true }] }, none)).toMatchObject({ field: 'docker.mounts[0].source', needs: 'mount=/data' });
  });

  it('allows what its entries name, and nothing next to it', () => {
    const allow = parseDockerAllow('network=bridge,host-network,cap=SYS_PTRACE,device=/dev/fuse,mount=/data');
    expect(dockerRefusal({ network: 'bridge', capAdd: ['CAP_SYS_PTRACE'], devices: ['/dev/fuse'], mounts: [{ source: '/data/in/x', target: '/x', readOnly: false }] }, allow)).toBeUndefined();
    expect(dockerRefusal({ network: 'host' }, allow)).toBeUndefined();
    expect(dockerRefusal({ network: 'other' }, allow)).toMatchObject({ needs: 'network=other' });
    expect(dockerRefusal({ capAdd: ['SYS_ADMIN'] }, allow)).toMatchObject({ needs: 'cap=SYS_ADMIN' });
    expect(dockerRefusal({ devices: ['/dev/kvm'] }, allow)).toMatchObject({ needs: 'device=/dev/kvm' });
    expect(dockerRefusal({ privileged: true }, allow)).toMatchObject({ needs: 'privileged' });
    // A sibling sharing the prefix's letters is not under it.
    expect(mountSourceRefusal('/database', allow, 2)).toMatchObject({ field: 'docker.mounts[2].source', needs: 'mount=/database' });
    expect(mountSourceRefusal('/data', allow, 0)).toBeUndefined();
    expect(mountSourceRefusal('/data/', allow, 0)).toBeUndefined();
    expect(mountSourceRefusal('/etc', parseDockerAllow('mount=/'), 0)).toBeUndefined();
  });

  it('describes a refusal with the option, the variable and the entry that allows it', () => {
    const r = dockerRefusal({ capAdd: ['SYS_PTRACE'] }, NOTHING_ALLOWED)!;
    expect(describeDockerRefusal(r, 'agent a-1')).toBe(
      `capability SYS_PTRACE (docker.cap_add[0]) is not allowed by agent a-1's LONGSHORE_DOCKER_ALLOW: its administrator can allow it with the entry "cap=SYS_PTRACE", or drop the option from the job`,
    );
  });
});
