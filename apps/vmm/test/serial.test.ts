import { describe, expect, it } from 'vitest';
import { RX_CAPACITY, Serial, UART } from '../src/devices/serial.js';

function uart() {
  const out: number[] = [];
  const irqs: boolean[] = [];
  const s = new Serial({ output: (b) => out.push(b), irq: (l) => irqs.push(l) });
  return { s, out, irqs };
}

describe('16550A UART', () => {
  it('transmits THR writes at once and always reports THR empty', () => {
    const { s, out } = uart();
    for (const c of 'hi') s.write(UART.THR, 1, c.charCodeAt(0));
    expect(String.fromCharCode(...out)).toBe('hi');
    expect(s.read(UART.LSR, 1) & 0x60).toBe(0x60);
  });

  it('latches the divisor under DLAB without transmitting', () => {
    const { s, out } = uart();
    s.write(UART.LCR, 1, 0x83);
    s.write(UART.DLL, 1, 0x01);
    s.write(UART.DLM, 1, 0x00);
    expect([s.read(UART.DLL, 1), s.read(UART.DLM, 1), s.read(UART.LCR, 1)]).toEqual([1, 0, 0x83]);
    s.write(UART.LCR, 1, 0x03);
    expect(out).toEqual([]);
    expect(s.read(UART.IER, 1)).toBe(0);
  });

  it('keeps the low 4 IER bits and the scratch register (Linux autoconfig)', () => {
    const { s } = uart();
    s.write(UART.IER, 1, 0xff);
    expect(s.read(UART.IER, 1)).toBe(0x0f);
    s.write(UART.SCR, 1, 0x5a);
    expect(s.read(UART.SCR, 1)).toBe(0x5a);
  });

  it('reports a 16550A FIFO in IIR once FCR enables it', () => {
    const { s } = uart();
    expect(s.read(UART.IIR, 1)).toBe(0x01);
    s.write(UART.FCR, 1, 0x07);
    expect(s.read(UART.IIR, 1) & 0xc0).toBe(0xc0);
  });

  it('queues input, raises the receive interrupt and lowers it when drained', () => {
    const { s, irqs } = uart();
    s.write(UART.IER, 1, 0x01);
    s.receive(Uint8Array.of(0x61, 0x62));
    expect(irqs).toEqual([true]);
    expect(s.read(UART.IIR, 1) & 0x0f).toBe(0x04);
    expect(s.read(UART.LSR, 1) & 1).toBe(1);
    expect([s.read(UART.RBR, 1), s.read(UART.RBR, 1)]).toEqual([0x61, 0x62]);
    expect(s.read(UART.LSR, 1) & 1).toBe(0);
    expect(irqs).toEqual([true, false]);
  });

  it('raises THRE when enabled and clears it when IIR reports it', () => {
    const { s, irqs } = uart();
    s.write(UART.IER, 1, 0x02);
    expect(irqs).toEqual([true]);
    expect(s.read(UART.IIR, 1) & 0x0f).toBe(0x02);
    expect(irqs).toEqual([true, false]);
    expect(s.read(UART.IIR, 1) & 0x0f).toBe(0x01);
    s.write(UART.THR, 1, 0x41);
    expect(irqs).toEqual([true, false, true]);
  });

  it('gives receive data priority over THRE', () => {
    const { s } = uart();
    s.write(UART.IER, 1, 0x03);
    s.receive(Uint8Array.of(1));
    expect(s.read(UART.IIR, 1) & 0x0f).toBe(0x04);
  });

  it('loops THR back to RBR and MCR to MSR in loopback mode', () => {
    const { s, out } = uart();
    s.write(UART.MCR, 1, 0x10 | 0x0a);
    expect(s.read(UART.MSR, 1) & 0xf0).toBe(0x90);
    s.write(UART.THR, 1, 0x55);
    expect(out).toEqual([]);
    expect(s.read(UART.RBR, 1)).toBe(0x55);
    s.write(UART.MCR, 1, 0x08);
    expect(s.read(UART.MSR, 1) & 0xf0).toBe(0xb0);
  });

  it('drops input beyond its buffer and reports an overrun once', () => {
    const { s } = uart();
    s.receive(new Uint8Array(RX_CAPACITY + 3));
    expect(s.read(UART.LSR, 1) & 0x02).toBe(0x02);
    expect(s.read(UART.LSR, 1) & 0x02).toBe(0);
    let n = 0;
    while (s.read(UART.LSR, 1) & 1) {
      s.read(UART.RBR, 1);
      n++;
    }
    expect(n).toBe(RX_CAPACITY);
  });

  it('ignores wider accesses and FCR can clear the receiver', () => {
    const { s, out } = uart();
    s.write(UART.THR, 2, 0x4141);
    expect(out).toEqual([]);
    expect(s.read(UART.LSR, 2)).toBe(0xffff);
    s.receive(Uint8Array.of(1, 2));
    s.write(UART.FCR, 1, 0x03);
    expect(s.read(UART.LSR, 1) & 1).toBe(0);
  });
});
