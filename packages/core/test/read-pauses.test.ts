import { ReadPauses } from '@warren/core';

/** A socket's reading switch, as a transport has one: counts what the pauses asked of it. */
function reader() {
  const calls: string[] = [];
  return {
    calls,
    pauseReading: () => calls.push('pause'),
    resumeReading: () => calls.push('resume'),
  };
}

describe('ReadPauses', () => {
  it('pauses the socket on the first reason and resumes it only when the last one is gone', () => {
    const socket = reader();
    const seen: boolean[] = [];
    const pauses = new ReadPauses(socket, (paused) => seen.push(paused));

    expect(pauses.pause('alarm')).toBe(true);
    expect(pauses.pause('parked')).toBe(true);
    expect(pauses.paused).toBe(true);
    expect(socket.calls).toEqual(['pause']);

    expect(pauses.resume('alarm')).toBe(true);
    expect(pauses.paused).toBe(true);
    expect(pauses.has('parked')).toBe(true);
    expect(socket.calls).toEqual(['pause']);

    expect(pauses.resume('parked')).toBe(true);
    expect(pauses.paused).toBe(false);
    expect(socket.calls).toEqual(['pause', 'resume']);
    expect(seen).toEqual([true, false]);
  });

  it('ignores a reason given twice and a resume for a reason that was never given', () => {
    const socket = reader();
    const pauses = new ReadPauses(socket);

    expect(pauses.resume('alarm')).toBe(false);
    expect(pauses.pause('alarm')).toBe(true);
    expect(pauses.pause('alarm')).toBe(false);
    expect(pauses.resume('parked')).toBe(false);
    expect(pauses.paused).toBe(true);
    expect(pauses.resume('alarm')).toBe(true);
    expect(socket.calls).toEqual(['pause', 'resume']);
  });
});
