import { ADMIN_COMMANDS } from './admin';
import type { Command } from './command';
import { LIST_COMMANDS } from './lists';
import { NODE_COMMANDS } from './node';

export type { Command, CommandContext } from './command';

/** Every `warren ctl` verb, in the order `warren ctl help` lists them. */
export const COMMANDS: Readonly<Record<string, Command>> = {
  ...LIST_COMMANDS,
  ...ADMIN_COMMANDS,
  ...NODE_COMMANDS,
};
