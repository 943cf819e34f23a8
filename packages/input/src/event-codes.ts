/**
 * Linux input event codes (include/uapi/linux/input-event-codes.h) used by the ready-made
 * device descriptions. The spec (5.8) carries evdev's type/code/value unchanged, so these are
 * the values a Linux guest's evdev layer understands.
 */

/** Event types (EV_*). */
export const EV_SYN = 0x00;
export const EV_KEY = 0x01;
export const EV_REL = 0x02;
export const EV_ABS = 0x03;
export const EV_MSC = 0x04;
export const EV_LED = 0x11;
export const EV_REP = 0x14;
/** Highest event type (EV_MAX); EV_BITS is queried with subsel 0..EV_MAX. */
export const EV_MAX = 0x1f;

/** Synchronization codes. */
export const SYN_REPORT = 0;

/** Relative axes (EV_REL). */
export const REL_X = 0x00;
export const REL_Y = 0x01;
export const REL_HWHEEL = 0x06;
export const REL_WHEEL = 0x08;

/** Absolute axes (EV_ABS). */
export const ABS_X = 0x00;
export const ABS_Y = 0x01;
/** Highest absolute axis (ABS_MAX); ABS_INFO is defined for subsel 0..ABS_MAX. */
export const ABS_MAX = 0x3f;

/** LEDs (EV_LED), reported by the driver on the statusq. */
export const LED_NUML = 0x00;
export const LED_CAPSL = 0x01;
export const LED_SCROLLL = 0x02;

/** Input properties (INPUT_PROP_*). */
export const INPUT_PROP_POINTER = 0x00;
export const INPUT_PROP_DIRECT = 0x01;

/** Bus type of a virtual device (BUS_VIRTUAL), for VIRTIO_INPUT_CFG_ID_DEVIDS. */
export const BUS_VIRTUAL = 0x06;

/** Buttons (EV_KEY). */
export const BTN_LEFT = 0x110;
export const BTN_RIGHT = 0x111;
export const BTN_MIDDLE = 0x112;
export const BTN_SIDE = 0x113;
export const BTN_EXTRA = 0x114;
export const BTN_TOUCH = 0x14a;

/** Keys (EV_KEY), the standard PC keyboard. */
export const KEY_ESC = 1;
export const KEY_1 = 2;
export const KEY_0 = 11;
export const KEY_MINUS = 12;
export const KEY_EQUAL = 13;
export const KEY_BACKSPACE = 14;
export const KEY_TAB = 15;
export const KEY_Q = 16;
export const KEY_W = 17;
export const KEY_E = 18;
export const KEY_R = 19;
export const KEY_T = 20;
export const KEY_Y = 21;
export const KEY_U = 22;
export const KEY_I = 23;
export const KEY_O = 24;
export const KEY_P = 25;
export const KEY_ENTER = 28;
export const KEY_LEFTCTRL = 29;
export const KEY_A = 30;
export const KEY_S = 31;
export const KEY_D = 32;
export const KEY_F = 33;
export const KEY_G = 34;
export const KEY_H = 35;
export const KEY_J = 36;
export const KEY_K = 37;
export const KEY_L = 38;
export const KEY_LEFTSHIFT = 42;
export const KEY_Z = 44;
export const KEY_X = 45;
export const KEY_C = 46;
export const KEY_V = 47;
export const KEY_B = 48;
export const KEY_N = 49;
export const KEY_M = 50;
export const KEY_RIGHTSHIFT = 54;
export const KEY_LEFTALT = 56;
export const KEY_SPACE = 57;
export const KEY_CAPSLOCK = 58;
export const KEY_F1 = 59;
export const KEY_F10 = 68;
export const KEY_NUMLOCK = 69;
export const KEY_SCROLLLOCK = 70;
export const KEY_F11 = 87;
export const KEY_F12 = 88;
export const KEY_RIGHTCTRL = 97;
export const KEY_RIGHTALT = 100;
export const KEY_HOME = 102;
export const KEY_UP = 103;
export const KEY_PAGEUP = 104;
export const KEY_LEFT = 105;
export const KEY_RIGHT = 106;
export const KEY_END = 107;
export const KEY_DOWN = 108;
export const KEY_PAGEDOWN = 109;
export const KEY_INSERT = 110;
export const KEY_DELETE = 111;
export const KEY_LEFTMETA = 125;
export const KEY_RIGHTMETA = 126;
/** Highest key code of the standard PC keyboard range advertised by {@link keyboardDescription}. */
export const KEY_MAX_PC = 127;
