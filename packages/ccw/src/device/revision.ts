/**
 * Which channel commands each virtio-ccw revision contains (spec 4.3.2.1): revisions 0 and 1
 * share the virtio-specific commands, revision 2 adds CCW_CMD_READ_STATUS.
 */
import {
  CCW_CMD_READ_CONF,
  CCW_CMD_READ_FEAT,
  CCW_CMD_READ_STATUS,
  CCW_CMD_READ_VQ_CONF,
  CCW_CMD_SET_CONF_IND,
  CCW_CMD_SET_IND,
  CCW_CMD_SET_IND_ADAPTER,
  CCW_CMD_SET_VIRTIO_REV,
  CCW_CMD_SET_VQ,
  CCW_CMD_VDEV_RESET,
  CCW_CMD_WRITE_CONF,
  CCW_CMD_WRITE_FEAT,
  CCW_CMD_WRITE_STATUS,
  VIRTIO_CCW_REV_2,
} from '../protocol/constants.js';

const REVISION_0_AND_1 = new Set([
  CCW_CMD_SET_VQ,
  CCW_CMD_VDEV_RESET,
  CCW_CMD_SET_IND,
  CCW_CMD_SET_CONF_IND,
  CCW_CMD_SET_IND_ADAPTER,
  CCW_CMD_READ_FEAT,
  CCW_CMD_WRITE_FEAT,
  CCW_CMD_READ_CONF,
  CCW_CMD_WRITE_CONF,
  CCW_CMD_WRITE_STATUS,
  CCW_CMD_READ_VQ_CONF,
]);

/** Whether `cmd` is a virtio-ccw specific channel command (spec 4.3.1.1). */
export function isVirtioCommand(cmd: number): boolean {
  return cmd === CCW_CMD_SET_VIRTIO_REV || cmd === CCW_CMD_READ_STATUS || REVISION_0_AND_1.has(cmd);
}

/** Whether virtio-specific command `cmd` (other than SET_VIRTIO_REV) is part of `revision`. */
export function commandInRevision(cmd: number, revision: number): boolean {
  if (cmd === CCW_CMD_READ_STATUS) return revision >= VIRTIO_CCW_REV_2;
  return REVISION_0_AND_1.has(cmd);
}
