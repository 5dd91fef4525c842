import { chooseSubprotocol } from '../src/subprotocol';

describe('chooseSubprotocol', () => {
  it.each([
    [['v10.stomp', 'v11.stomp', 'v12.stomp'], 'v12.stomp'],
    [['v12.stomp', 'v10.stomp'], 'v12.stomp'],
    [['v11.stomp', 'v10.stomp'], 'v11.stomp'],
    [['mqtt', 'v10.stomp'], 'v10.stomp'],
    [['mqtt'], false],
    [['v13.stomp', 'stomp'], false],
    [[], false],
  ])('answers %j with %j', (offered, chosen) => {
    expect(chooseSubprotocol(new Set(offered))).toBe(chosen);
  });
});
