import { ConfigError } from '../src';

/** The message of the ConfigError `load` throws; fails the test if it throws anything else, or nothing. */
export function configErrorOf(load: () => unknown): string {
  try {
    load();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('expected the configuration to be refused with a ConfigError');
}
