/**
 * The SPI controller device's numbers and structures (spec 5.21 "SPI Controller Device"),
 * under the spec's names. The device has no feature bits (spec 5.21.3).
 */
import { VIRTIO_ID_SPI } from '@virtio/core';

/** Device ID of the SPI controller device (spec 5.21.1). */
export const VIRTIO_SPI_DEVICE_ID = VIRTIO_ID_SPI;
/** Index of the only virtqueue, requestq (spec 5.21.2). */
export const VIRTIO_SPI_REQUESTQ = 0;

/** struct virtio_spi_config: byte offsets and size (spec 5.21.4). */
export const VIRTIO_SPI_CONFIG_CS_MAX_NUMBER = 0;
export const VIRTIO_SPI_CONFIG_CS_CHANGE_SUPPORTED = 1;
export const VIRTIO_SPI_CONFIG_TX_NBITS_SUPPORTED = 2;
export const VIRTIO_SPI_CONFIG_RX_NBITS_SUPPORTED = 3;
export const VIRTIO_SPI_CONFIG_BITS_PER_WORD_MASK = 4;
export const VIRTIO_SPI_CONFIG_MODE_FUNC_SUPPORTED = 8;
export const VIRTIO_SPI_CONFIG_MAX_FREQ_HZ = 12;
export const VIRTIO_SPI_CONFIG_MAX_WORD_DELAY_NS = 16;
export const VIRTIO_SPI_CONFIG_MAX_CS_SETUP_NS = 20;
export const VIRTIO_SPI_CONFIG_MAX_CS_HOLD_NS = 24;
export const VIRTIO_SPI_CONFIG_MAX_CS_INACTIVE_NS = 28;
export const VIRTIO_SPI_CONFIG_SIZE = 32;

/** tx_nbits_supported / rx_nbits_supported bits (SINGLE is always supported). */
export const VIRTIO_SPI_NBITS_DUAL = 1 << 0;
export const VIRTIO_SPI_NBITS_QUAD = 1 << 1;
export const VIRTIO_SPI_NBITS_OCTAL = 1 << 2;

/** mode_func_supported bits. */
export const VIRTIO_SPI_MF_SUPPORT_CPHA_0 = 1 << 0;
export const VIRTIO_SPI_MF_SUPPORT_CPHA_1 = 1 << 1;
export const VIRTIO_SPI_MF_SUPPORT_CPOL_0 = 1 << 2;
export const VIRTIO_SPI_MF_SUPPORT_CPOL_1 = 1 << 3;
export const VIRTIO_SPI_MF_SUPPORT_CS_HIGH = 1 << 4;
export const VIRTIO_SPI_MF_SUPPORT_LSB_FIRST = 1 << 5;
export const VIRTIO_SPI_MF_SUPPORT_LOOPBACK = 1 << 6;

/** struct virtio_spi_transfer_head: byte offsets and size (spec 5.21.6.1). */
export const VIRTIO_SPI_HEAD_CHIP_SELECT_ID = 0;
export const VIRTIO_SPI_HEAD_BITS_PER_WORD = 1;
export const VIRTIO_SPI_HEAD_CS_CHANGE = 2;
export const VIRTIO_SPI_HEAD_TX_NBITS = 3;
export const VIRTIO_SPI_HEAD_RX_NBITS = 4;
export const VIRTIO_SPI_HEAD_MODE = 8;
export const VIRTIO_SPI_HEAD_FREQ = 12;
export const VIRTIO_SPI_HEAD_WORD_DELAY_NS = 16;
export const VIRTIO_SPI_HEAD_CS_SETUP_NS = 20;
export const VIRTIO_SPI_HEAD_CS_DELAY_HOLD_NS = 24;
export const VIRTIO_SPI_HEAD_CS_CHANGE_DELAY_INACTIVE_NS = 28;
export const VIRTIO_SPI_TRANSFER_HEAD_SIZE = 32;
/** struct virtio_spi_transfer_result { u8 result; }, in bytes. */
export const VIRTIO_SPI_TRANSFER_RESULT_SIZE = 1;

/** mode bits of the transfer head. */
export const VIRTIO_SPI_CPHA = 1 << 0;
export const VIRTIO_SPI_CPOL = 1 << 1;
export const VIRTIO_SPI_CS_HIGH = 1 << 2;
export const VIRTIO_SPI_MODE_LSB_FIRST = 1 << 3;
export const VIRTIO_SPI_MODE_LOOP = 1 << 4;

/** result values (spec 5.21.6.1). */
export const VIRTIO_SPI_TRANS_OK = 0;
export const VIRTIO_SPI_PARAM_ERR = 1;
export const VIRTIO_SPI_TRANS_ERR = 2;

/** Longest tx_buf / rx_buf the device accepts by default, in bytes. */
export const SPI_DEFAULT_MAX_TRANSFER = 0x10000;
