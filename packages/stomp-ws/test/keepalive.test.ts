import { clientInterval, Keepalive } from '../src/keepalive';

describe('clientInterval', () => {
  it("reads how often the client sends from the server's CONNECTED heart-beat header", () => {
    const connected = Buffer.from('CONNECTED\nserver:Warren\nheart-beat:10000,4000\nversion:1.2\n\n\0');
    expect(clientInterval([connected])).toBe(4000);
    expect(clientInterval([connected.subarray(0, 20), connected.subarray(20)])).toBe(4000);
  });

  it('is 0 for an ERROR, or a CONNECTED without heart-beats', () => {
    expect(clientInterval([Buffer.from('ERROR\nmessage:Bad CONNECT\n\n\0')])).toBe(0);
    expect(clientInterval([Buffer.from('CONNECTED\nheart-beat:0,0\nversion:1.2\n\n\0')])).toBe(0);
    expect(clientInterval([])).toBe(0);
  });
});

describe('Keepalive', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('pings a client only once it has been silent for its whole heart-beat interval', () => {
    let pings = 0;
    const k = new Keepalive({ ping: () => pings++ });
    k.start(1000);
    k.heardFromPeer();
    jest.advanceTimersByTime(1000);
    expect(pings).toBe(0);
    jest.advanceTimersByTime(250);
    expect(pings).toBe(1);
    k.heardFromPeer();
    jest.advanceTimersByTime(1000);
    expect(pings).toBe(1);
    jest.advanceTimersByTime(250);
    expect(pings).toBe(2);
    k.stop();
    jest.advanceTimersByTime(5000);
    expect(pings).toBe(2);
  });

  it('never pings a client that keeps talking', () => {
    let pings = 0;
    const k = new Keepalive({ ping: () => pings++ });
    k.start(1000);
    for (let i = 0; i < 40; i++) {
      k.heardFromPeer();
      jest.advanceTimersByTime(500);
    }
    expect(pings).toBe(0);
    k.stop();
  });

  it('never pings a client that promised no heart-beats', () => {
    let pings = 0;
    const k = new Keepalive({ ping: () => pings++ });
    k.start(0);
    jest.advanceTimersByTime(60000);
    expect(pings).toBe(0);
  });
});
