import { describe, expect, it } from 'vitest';
import { CCW_CMD_READ_FEAT, CCW_CMD_SET_VIRTIO_REV, CCW_CMD_WRITE_STATUS } from '../src/index.js';
import { fixture, OK, REJECT } from './fixture.js';
import { be16 } from './guest.js';

describe('revision negotiation (spec 4.3.2.1)', () => {
  it('[ccw.dev.4] rejects revisions it does not support and revision 0 on a non-transitional device', () => {
    const f = fixture();
    expect(f.setRevision(3)).toMatchObject(REJECT);
    expect(f.setRevision(0xffff)).toMatchObject(REJECT);
    expect(f.setRevision(0)).toMatchObject(REJECT);
    expect(f.transport.revision).toBeUndefined();
    expect(f.setRevision(2)).toMatchObject(OK);
  });

  it('[ccw.dev.4] rejects an invalid combination of revision, length and data', () => {
    const f = fixture();
    // Revision 1 takes no data: length 4 with 4 bytes of data is invalid.
    expect(f.cmd(CCW_CMD_SET_VIRTIO_REV, [...be16(1), ...be16(4), 1, 2, 3, 4])).toMatchObject(REJECT);
    // length says 4 but only the header was sent (no SLI): incorrect length.
    expect(f.cmd(CCW_CMD_SET_VIRTIO_REV, [...be16(1), ...be16(4)])).toMatchObject({ status: 'incorrect-length' });
    expect(f.transport.revision).toBeUndefined();
  });

  it('[ccw.dev.4] a transitional device accepts revision 0', () => {
    const f = fixture({ transitional: true });
    expect(f.setRevision(0)).toMatchObject(OK);
    expect(f.transport.revision).toBe(0);
  });

  it('[ccw.dev.5] rejects commands that are not part of the selected revision (READ_STATUS before revision 2)', () => {
    const f = fixture();
    f.setRevision(1);
    expect(f.readStatus()).toMatchObject(REJECT);
    const g = fixture();
    g.setRevision(2);
    expect(g.readStatus()).toBe(0);
  });

  it('[ccw.dev.6] rejects selecting another revision (or the same again) once one was selected', () => {
    const f = fixture();
    expect(f.setRevision(1)).toMatchObject(OK);
    expect(f.setRevision(2)).toMatchObject(REJECT);
    expect(f.setRevision(1)).toMatchObject(REJECT);
    expect(f.transport.revision).toBe(1);
  });

  it('[ccw.dev.7] the revision is unset from enabling the subchannel until the driver sets one', () => {
    const f = fixture();
    f.setRevision(2);
    f.transport.disableSubchannel();
    f.transport.enableSubchannel();
    expect(f.transport.revision).toBeUndefined();
    // Virtio commands are rejected again until a revision is set (non-transitional device) ...
    expect(f.cmd(CCW_CMD_WRITE_STATUS, [1])).toMatchObject(REJECT);
    // ... and a new revision may be selected.
    expect(f.setRevision(1)).toMatchObject(OK);
    expect(f.cmd(CCW_CMD_WRITE_STATUS, [1])).toMatchObject(OK);
    // Enabling an enabled subchannel again also starts with the revision unset.
    f.transport.enableSubchannel();
    expect(f.transport.revision).toBeUndefined();
    expect(f.setRevision(2)).toMatchObject(OK);
  });

  it('a non-transitional device rejects virtio commands from a driver that set no revision', () => {
    const f = fixture();
    expect(f.cmd(CCW_CMD_READ_FEAT, [0, 0, 0, 0, 0])).toMatchObject(REJECT);
    expect(f.transport.revision).toBeUndefined();
  });

  it('a transitional device takes a driver that sets no revision for a legacy driver: revision 0, no later SET_VIRTIO_REV', () => {
    const f = fixture({ transitional: true });
    expect(f.readFeatures(0)).toBe(0); // EchoDevice offers VERSION_1 only: bit 32, invisible to legacy.
    expect(f.transport.revision).toBe(0);
    expect(f.setRevision(1)).toMatchObject(REJECT);
    expect(f.readStatus()).toMatchObject(REJECT);
    // 32 feature bits only: a write to word 1 is ignored.
    expect(f.writeFeatures(1, 1)).toMatchObject(OK);
    expect(f.transport.state.driverFeatures).toBe(0n);
  });
});
